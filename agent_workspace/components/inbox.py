"""The Inbox of the workspace (All > Workspace Home > Inbox): offer cards with
Accept and Reject, transfers offered to the agent, notices, messages left."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.countdown import countdown
from agent_workspace.components.form import error_callout
from agent_workspace.components.left_messages import left_messages_section
from agent_workspace.components.server_dialog import server_dialog
from agent_workspace.components.shortcut_targets import Target, shortcut_target
from agent_workspace.state.views import InboxCardView, TransferOfferView
from agent_workspace.state.workspace import WorkspaceState


def inbox_card(card: InboxCardView) -> rx.Component:
    claiming_this = WorkspaceState.claiming_queue_id == card.queue_id
    # Accept says before the click why it would be refused (the reason is its description):
    # the agent's presence or load, or the queue's business hours without the after-hours opt-in.
    closed_for_me = (card.closed_note != "") & ~WorkspaceState.after_hours
    blocked = (WorkspaceState.accept_blocked != "") | closed_for_me
    reason = rx.cond(WorkspaceState.accept_blocked != "", WorkspaceState.accept_blocked, card.closed_note)
    reason_id = "accept-blocked-" + card.interaction_id.to_string()
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(card.customer_name, size="3", as_="h3"),
                rx.badge(card.queue_name),
                rx.spacer(),
                rx.text(card.number, size="1", color_scheme="gray"),
                width="100%",
                align="center",
            ),
            rx.text(card.question, size="2", class_name="aw-question"),
            rx.cond(
                card.transfer_note != "", rx.text("Transfer note: ", card.transfer_note, size="2", color_scheme="amber")
            ),
            rx.hstack(
                rx.text(
                    "Asked ",  # "Asked 4 minutes ago": moment speaks of the past
                    rx.moment(card.requested_at, from_now=True, interval=5000),
                    size="1",
                    color_scheme="gray",
                ),
                rx.cond(
                    card.offered_to_me,
                    rx.text(
                        countdown(expires_at=card.offer_expires_at, label="Time to accept"),
                        size="1",
                        color_scheme="orange",
                    ),
                ),
                spacing="3",
                wrap="wrap",
            ),
            rx.cond(
                claiming_this & WorkspaceState.claim_delayed,
                rx.callout(
                    "Delayed transactions: assigning this chat is taking longer than usual. It opens as soon as the database answers.",
                    icon="clock",
                    color_scheme="amber",
                    role="status",
                    size="1",
                ),
            ),
            rx.cond(
                card.can_accept,
                rx.hstack(
                    rx.button(
                        rx.cond(claiming_this, "Accepting…", "Accept"),
                        on_click=WorkspaceState.accept(card.queue_id, card.interaction_id),
                        disabled=(WorkspaceState.claiming_queue_id != 0) | blocked,
                        aria_label="Accept",
                        aria_describedby=rx.cond(blocked, reason_id, None),
                        # Alt+A takes an offer made to this agent before a queue's oldest chat.
                        data_shortcut_first=rx.cond(card.offered_to_me, "true", "false"),
                        **shortcut_target(Target.ACCEPT),
                    ),
                    rx.button(
                        "Reject",
                        variant="soft",
                        color_scheme="red",
                        on_click=WorkspaceState.open_reject(card.interaction_id),
                    ),
                    rx.cond(blocked, rx.text(reason, id=reason_id, size="1", color_scheme="gray")),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.text("Accept takes the oldest chat of ", card.queue_name, " first.", size="1", color_scheme="gray"),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name=rx.cond(card.offered_to_me, "aw-card aw-offered", "aw-card"),
        data_testid="inbox-card",
    )


def transfer_offer_card(offer: TransferOfferView) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(offer.customer_name, size="3", as_="h3"),
                rx.badge("Transfer from ", offer.from_agent, color_scheme="amber"),
                rx.spacer(),
                rx.text(offer.number, size="1", color_scheme="gray"),
                width="100%",
                align="center",
            ),
            rx.text(offer.question, size="2"),
            rx.cond(offer.note != "", rx.text("Note: ", offer.note, size="2", color_scheme="amber")),
            rx.hstack(
                rx.button(
                    "Accept transfer",
                    on_click=WorkspaceState.answer_transfer(offer.interaction_id, True),
                    data_shortcut_first="true",  # offered to this agent by name: Alt+A takes it first
                    **shortcut_target(Target.ACCEPT),
                ),
                rx.button(
                    "Decline transfer",
                    variant="soft",
                    color_scheme="red",
                    on_click=WorkspaceState.answer_transfer(offer.interaction_id, False),
                ),
                spacing="2",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="aw-card aw-offered",
        data_testid="transfer-card",
    )


def notices() -> rx.Component:
    """The agent's notices, each with its Dismiss; Dismiss all once there are several
    (a shift's transfers answered would otherwise be dismissed one by one)."""
    return rx.vstack(
        rx.cond(
            WorkspaceState.notices.length() > 1,
            rx.button(
                "Dismiss all", size="1", variant="soft", on_click=WorkspaceState.dismiss_all_notices, align_self="end"
            ),
        ),
        rx.foreach(
            WorkspaceState.notices,
            lambda notice, index: rx.callout(
                rx.hstack(
                    rx.text(notice[1]),
                    rx.spacer(),
                    rx.button(
                        "Dismiss",
                        size="1",
                        variant="ghost",
                        high_contrast=True,
                        on_click=WorkspaceState.dismiss_notice(index),
                    ),
                    width="100%",
                    align="center",
                ),
                color_scheme=rx.match(notice[0], ("success", "green"), ("warning", "amber"), "blue"),
                high_contrast=True,  # green's and amber's step 11 on their own tint is below 4.5:1
                size="1",
                width="100%",
            ),
        ),
        role="status",
        aria_label="Notices",
        width="100%",
    )


def inbox_panel() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Inbox", size="5", as_="h2"),
            rx.text(
                "Your queues: ",
                rx.foreach(WorkspaceState.queue_names, lambda n: rx.badge(n, variant="outline", margin_right="4px")),
                size="2",
            ),
            align="center",
            spacing="4",
            wrap="wrap",
        ),
        rx.cond(
            WorkspaceState.presence != "available",
            rx.callout(
                "You are not Available: new chats are not offered to you. Set your presence to Available to receive and accept chats.",
                icon="info",
                size="1",
            ),
        ),
        rx.foreach(WorkspaceState.transfer_offers, transfer_offer_card),
        rx.cond(
            WorkspaceState.inbox_count == 0,
            rx.center(
                rx.text("No customers are waiting in your queues.", color_scheme="gray"), padding="32px", width="100%"
            ),
            rx.vstack(rx.foreach(WorkspaceState.inbox, inbox_card), spacing="3", width="100%"),
        ),
        left_messages_section(),
        spacing="3",
        width="100%",
        max_width="760px",
    )


def reject_dialog() -> rx.Component:
    return server_dialog(
        rx.dialog.content(
            rx.dialog.title("Reject chat"),
            rx.dialog.description("Say why. The chat goes back to the queue and is not offered to you again."),
            rx.form(
                rx.vstack(
                    rx.el.label("Reason", html_for="reject-reason", class_name="aw-label"),
                    rx.text_area(id="reject-reason", name="reason", required=True, width="100%"),
                    error_callout(WorkspaceState.reject_error),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray")),
                        rx.button("Reject chat", type="submit", color_scheme="red", high_contrast=True),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=WorkspaceState.reject,
                reset_on_submit=True,
            ),
        ),
        open=WorkspaceState.reject_open,
        on_close=WorkspaceState.cancel_reject,
    )
