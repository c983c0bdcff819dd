"""The panel of one interaction tab: the customer, the conversation with the
composer and its quick actions, and the child tabs (Details, Agent Assist, one
per case or incident)."""

from __future__ import annotations

import reflex as rx
from reflex.experimental.client_state import ClientStateVar

from agent_workspace.components.assist import assist_panel
from agent_workspace.components.composer import composer, composer_form_id
from agent_workspace.components.connection import outbox
from agent_workspace.components.interaction import actions_toolbar, details_tab, record_tab
from agent_workspace.components.layout import new_tab_link
from agent_workspace.components.messages import agent_message, conversation_box, message_list
from agent_workspace.components.shortcut_targets import Target, shortcut_target
from agent_workspace.services import canned
from agent_workspace.state import chat_slots
from agent_workspace.state.assist import AssistState
from agent_workspace.state.views import YOU, ChatTab
from agent_workspace.state.workspace import LiveState, WorkspaceState

# The interaction whose customer information is unfolded on a phone ("": none):
# browser-only state, so the disclosure opens at once, with no round trip.
customer_info_open = ClientStateVar.create("aw_customer_info_open", default="")


def _customer_info_toggle(tab: ChatTab, section_ids: rx.Var) -> rx.Component:
    """The disclosure of the customer's details on a phone (hidden by CSS on wide
    screens, where they always show): folded, they leave the message box in view."""
    key = tab.interaction_id.to_string()
    is_open = customer_info_open.value == key
    return rx.button(
        rx.cond(is_open, rx.icon("chevron-down", size=14), rx.icon("chevron-right", size=14)),
        "Customer information",
        rx.cond(
            tab.earlier.length() > 0,
            rx.text(" · ", tab.earlier.length().to_string(), " earlier", as_="span", color_scheme="gray"),
        ),
        size="1",
        variant="ghost",
        on_click=customer_info_open.set_value(rx.cond(is_open, "", key)),
        aria_expanded=rx.cond(is_open, "true", "false"),
        aria_controls=section_ids,
        class_name="aw-customer-toggle",
    )


def _folded(tab: ChatTab, *children: rx.Component, section_id: rx.Var) -> rx.Component:
    """Part of the customer information that folds on a phone (assets/styles.css)."""
    return rx.vstack(
        *children,
        spacing="1",
        align="start",
        id=section_id,
        class_name=rx.cond(
            customer_info_open.value == tab.interaction_id.to_string(),
            "aw-customer-details aw-open",
            "aw-customer-details",
        ),
    )


def _earlier_interactions(tab: ChatTab, section_id: rx.Var) -> rx.Component:
    return rx.cond(
        tab.earlier.length() > 0,
        _folded(
            tab,
            rx.text("Earlier interactions", size="1", weight="bold"),
            rx.text(
                "Found by the email the customer typed. Unverified ones came from another browser: they may be someone else's.",
                size="1",
                color_scheme="gray",
            ),
            rx.foreach(
                tab.earlier,
                lambda e: rx.text(
                    new_tab_link(e.number, e.href, color_scheme="blue"),
                    " · ",
                    e.text,
                    size="1",
                    color_scheme=rx.cond(e.verified, "gray", "amber"),
                ),
            ),
            section_id=section_id,
        ),
    )


def customer_info(tab: ChatTab) -> rx.Component:
    """Who the customer is and what they asked; on a phone the details fold behind a
    disclosure, closed by default, so a long list of earlier chats never pushes the
    message box below the fold."""
    key = "aw-customer-" + tab.interaction_id.to_string()
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(tab.customer_name, size="4", as_="h3"),
                rx.badge(tab.queue_name),
                rx.text(tab.number, size="1", color_scheme="gray"),
                rx.spacer(),
                rx.button(
                    rx.icon("x", size=14),
                    "Close tab",
                    size="1",
                    variant="ghost",
                    color_scheme="gray",
                    aria_label="Close tab " + tab.customer_name,
                    on_click=WorkspaceState.open_close_tab(tab.interaction_id),
                ),
                align="center",
                spacing="2",
                wrap="wrap",
                width="100%",
            ),
            _customer_info_toggle(tab, key + "-contact " + key + "-earlier"),
            _folded(
                tab,
                rx.text(tab.customer_email, size="2"),
                rx.text("Question: ", tab.question, size="2"),
                rx.text("Waited ", tab.wait_text, " before accept", size="1", color_scheme="gray"),
                section_id=key + "-contact",
            ),
            # The colleague's handover note stays in view on a phone too: it is short, and meant to be read first.
            rx.cond(
                tab.transfer_note != "", rx.text("Transfer note: ", tab.transfer_note, size="2", color_scheme="amber")
            ),
            _earlier_interactions(tab, key + "-earlier"),
            spacing="1",
            align="start",
        ),
        width="100%",
        aria_label="Customer information",
    )


@rx.memo
def chat_outbox(interaction_id: rx.Var[int]) -> rx.Component:
    """The agent's texts not yet taken by the server, at the conversation's end: its
    own component, so only it re-renders when ``LiveState.taken_ids`` changes."""
    return outbox(
        scope="agent-" + interaction_id.to_string(),
        form_id=composer_form_id(interaction_id),
        taken=LiveState.taken_ids,
        on_send=WorkspaceState.send_message,
        fields={"interaction_id": interaction_id},
        sender_name=YOU,
        leave_prefix=canned.COMMAND_PREFIX,  # quick actions run through the composer's own submit
    )


@rx.memo
def chat_log(interaction_id: rx.Var[int], customer_name: rx.Var[str], slot: rx.Var[int]) -> rx.Component:
    """The conversation, its texts not yet sent, and the customer's typing line: the
    only part of a chat tab that reads LiveState and the chat's slot, so a new
    message re-renders this and not the whole tab."""
    key = interaction_id.to_string()
    render = agent_message(interaction_id)
    return rx.fragment(
        conversation_box(
            rx.match(
                slot,
                *(
                    (index, message_list(state.messages, render=render, label="Conversation"))
                    for index, state in enumerate(chat_slots.SLOT_STATES)
                ),
                rx.callout("Close another chat to see this one's messages.", icon="triangle-alert", size="1"),
            ),
            chat_outbox(interaction_id=interaction_id),
        ),
        rx.cond(
            LiveState.typing_now[key],
            rx.text(customer_name, " is typing…", size="1", color_scheme="gray", role="status"),
        ),
    )


def active_chat(tab: ChatTab) -> rx.Component:
    return rx.vstack(
        customer_info(tab),
        actions_toolbar(tab),
        chat_log(interaction_id=tab.interaction_id, customer_name=tab.customer_name, slot=tab.slot),
        rx.cond(
            tab.customer_ended,
            rx.callout(
                "The customer ended the chat. Complete the Details and Close.", icon="info", size="1", width="100%"
            ),
            composer(tab),
        ),
        spacing="3",
        width="100%",
        flex="3",
        # Beside the child tabs on a wide screen, above them on a phone (the row wraps).
        min_width="min(100%, 360px)",
    )


def child_tab_button(tab: ChatTab, label, value, **props) -> rx.Component:
    selected = tab.child_tab == value
    return rx.button(
        label,
        role="tab",
        aria_selected=selected,
        size="1",
        variant=rx.cond(selected, "solid", "outline"),
        on_click=WorkspaceState.select_child_tab(tab.interaction_id, value),
        **props,
    )


def child_tabs(tab: ChatTab) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            child_tab_button(tab, "Details", "details", **shortcut_target(Target.DETAILS_TAB)),
            rx.button(
                "Agent Assist",
                role="tab",
                aria_selected=tab.child_tab == "assist",
                size="1",
                variant=rx.cond(tab.child_tab == "assist", "solid", "outline"),
                on_click=AssistState.open_for(tab.interaction_id),
                **shortcut_target(Target.ASSIST_TAB),
            ),
            rx.foreach(tab.records, lambda r: child_tab_button(tab, r.number, r.number)),
            role="tablist",
            aria_label="Interaction details",
            spacing="2",
            wrap="wrap",
        ),
        rx.box(
            rx.match(
                tab.child_tab,
                ("details", details_tab(tab)),
                ("assist", assist_panel(tab)),
                rx.foreach(tab.records, lambda r: rx.cond(tab.child_tab == r.number, record_tab(r))),
            ),
            role="tabpanel",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def interaction_panel(tab: ChatTab) -> rx.Component:
    return rx.cond(
        WorkspaceState.active_tab == tab.interaction_id.to_string(),
        rx.hstack(
            active_chat(tab),
            rx.box(child_tabs(tab), flex="2", min_width="min(100%, 300px)"),
            spacing="4",
            wrap="wrap",
            align="start",
            width="100%",
            role="tabpanel",
            aria_label="Interaction " + tab.number,
        ),
    )
