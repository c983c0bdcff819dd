"""The workspace's tab strip: the Inbox tab and one per open chat (unread count,
waiting colour, a mouse shortcut to close it), and the dialog that closes a chat's tab."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.server_dialog import server_dialog
from agent_workspace.components.shortcut_targets import Target, shortcut_target
from agent_workspace.state.live import Urgency
from agent_workspace.state.views import ChatTab
from agent_workspace.state.workspace import LiveState, WorkspaceState


def close_tab_dialog() -> rx.Component:
    return server_dialog(
        rx.alert_dialog.content(
            rx.alert_dialog.title("End the chat without saving?"),
            rx.alert_dialog.description(
                "Closing the tab ends the chat for the customer, and the conversation history is NOT saved "
                "to the interaction record. To keep it, use Close in the Details tab instead."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep chat open", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "End chat without saving",
                        color_scheme="red",
                        high_contrast=True,
                        on_click=WorkspaceState.confirm_close_tab,
                    )
                ),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
        open=WorkspaceState.close_tab_open,
        on_close=WorkspaceState.cancel_close_tab,
        alert=True,
    )


def tab_button(label: rx.Component, *, value, selected, urgency: rx.Var[str] | str = "", **props) -> rx.Component:
    """A tab in Radix's own colour pairs, which keep text at 4.5:1 or more in light
    and dark mode: solid when selected, soft otherwise; amber / red while the
    customer waits 30 s / 60 s. Pale amber and every red take the high-contrast
    pair (their plain ones fall below 4.5:1 with the label on them)."""
    critical, warning = urgency == Urgency.CRITICAL, urgency == Urgency.WARNING
    return rx.button(
        label,
        role="tab",
        aria_selected=selected,
        variant=rx.cond(selected, "solid", "soft"),
        color_scheme=rx.cond(critical, "red", rx.cond(warning, "amber", "indigo")),
        high_contrast=critical | (warning & ~selected),
        on_click=WorkspaceState.select_tab(value),
        class_name="aw-tab aw-urgency-" + urgency,
        **props,
    )


def urgency_sign(urgency: rx.Var[str]) -> rx.Component:
    """The wait in words and an icon too, not by colour alone (WCAG 1.4.1)."""
    return rx.match(
        urgency,
        (Urgency.WARNING, _sign("clock", "customer waiting over 30 s")),
        (Urgency.CRITICAL, _sign("circle-alert", "customer waiting over 1 min")),
        rx.fragment(),
    )


def _sign(icon: str, words: str) -> rx.Component:
    return rx.fragment(
        rx.icon(icon, size=14, aria_hidden="true"), rx.el.span(", " + words, class_name="aw-visually-hidden")
    )


def interaction_trigger(tab: ChatTab) -> rx.Component:
    return chat_tab_trigger(
        interaction_id=tab.interaction_id,
        customer_name=tab.customer_name,
        selected=WorkspaceState.active_tab == tab.interaction_id.to_string(),
    )


@rx.memo
def chat_tab_trigger(interaction_id: rx.Var[int], customer_name: rx.Var[str], selected: rx.Var[bool]) -> rx.Component:
    """The tab with its unread count and waiting colour, and a mouse shortcut to close
    it (keyboard users get "Close tab" in the panel). A memo: it reads LiveState,
    which changes on every message, and must not drag the tab list along."""
    key = interaction_id.to_string()
    unread = LiveState.unread[key]
    urgency = LiveState.urgency[key].to(str)
    return rx.hstack(
        tab_button(
            rx.hstack(
                rx.text(customer_name),
                urgency_sign(urgency),
                rx.cond(
                    unread > 0,
                    rx.badge(
                        unread.to_string(),
                        color_scheme="red",
                        variant="solid",
                        high_contrast=True,
                        aria_label=unread.to_string() + " unread",
                    ),
                ),
                spacing="2",
                align="center",
            ),
            value=key,
            selected=selected,
            urgency=urgency,
        ),
        rx.el.span(
            rx.icon("x", size=14),
            aria_hidden="true",
            class_name="aw-tab-close",
            on_click=WorkspaceState.open_close_tab(interaction_id),
        ),
        spacing="1",
        align="center",
        role="presentation",
    )


def tab_strip() -> rx.Component:
    """The tab list: the Inbox, then one tab per open chat."""
    return rx.hstack(
        tab_button(
            rx.hstack(
                rx.text("Inbox"),
                rx.cond(
                    WorkspaceState.inbox_count > 0,
                    rx.badge(
                        WorkspaceState.inbox_count.to_string(), color_scheme="gray", variant="solid", high_contrast=True
                    ),
                ),
                spacing="2",
                align="center",
            ),
            value="inbox",
            selected=WorkspaceState.active_tab == "inbox",
            **shortcut_target(Target.INBOX_TAB),
        ),
        rx.foreach(WorkspaceState.tabs, interaction_trigger),
        role="tablist",
        **shortcut_target(Target.TABS),
        aria_label="Interactions",
        spacing="3",
        wrap="wrap",
        width="100%",
        class_name="aw-tablist",
    )
