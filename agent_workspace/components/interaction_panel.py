"""The panel of one interaction tab: the customer, the conversation with the
composer and its quick actions, and the child tabs (Details, Agent Assist, one
per case or incident)."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.assist import assist_panel
from agent_workspace.components.interaction import actions_toolbar, details_tab, record_tab
from agent_workspace.components.layout import new_tab_link
from agent_workspace.components.messages import agent_message, message_list
from agent_workspace.components.shortcuts import Target, shortcut_target
from agent_workspace.services.events import TYPING_THROTTLE_MS
from agent_workspace.state.assist import AssistState
from agent_workspace.state.tools import ToolsState
from agent_workspace.state.views import ChatTab
from agent_workspace.state.workspace import LiveState, WorkspaceState


def customer_info(tab: ChatTab) -> rx.Component:
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
            rx.text(tab.customer_email, size="2"),
            rx.text("Question: ", tab.question, size="2"),
            rx.text("Waited ", tab.wait_text, " before accept", size="1", color_scheme="gray"),
            rx.cond(
                tab.transfer_note != "", rx.text("Transfer note: ", tab.transfer_note, size="2", color_scheme="amber")
            ),
            rx.cond(
                tab.earlier.length() > 0,
                rx.vstack(
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
                    spacing="1",
                ),
            ),
            spacing="1",
            align="start",
        ),
        width="100%",
        aria_label="Customer information",
    )


@rx.memo
def chat_log(interaction_id: rx.Var[int], customer_name: rx.Var[str]) -> rx.Component:
    """The conversation and the customer's typing line: the only part of a chat tab
    that reads LiveState, so a new message re-renders this and not the whole tab."""
    key = interaction_id.to_string()
    return rx.fragment(
        rx.box(
            message_list(LiveState.conversations[key], render=agent_message(interaction_id), label="Conversation"),
            class_name="aw-scroll",
            width="100%",
        ),
        rx.cond(
            LiveState.typing_now[key],
            rx.text(customer_name, " is typing…", size="1", color_scheme="gray", role="status"),
        ),
    )


def active_chat(tab: ChatTab) -> rx.Component:
    composer_id = "composer-" + tab.interaction_id.to_string()
    return rx.vstack(
        customer_info(tab),
        actions_toolbar(tab),
        chat_log(interaction_id=tab.interaction_id, customer_name=tab.customer_name),
        rx.cond(
            tab.customer_ended,
            rx.callout(
                "The customer ended the chat. Complete the Details and Close.", icon="info", size="1", width="100%"
            ),
            rx.form(
                rx.hstack(
                    rx.el.input(type="hidden", name="interaction_id", value=tab.interaction_id),
                    rx.box(
                        rx.el.label("Message", html_for=composer_id, class_name="aw-visually-hidden"),
                        rx.input(
                            id=composer_id,
                            name="body",
                            placeholder="Type a reply…",
                            width="100%",
                            auto_complete="off",
                            max_length=4000,
                            **shortcut_target(Target.MESSAGE),
                            # Typing goes out on the first keystroke (throttled, not
                            # debounced: a debounce waits for a pause); "/" commands
                            # are looked up once the text settles.
                            on_change=[
                                ToolsState.composer_changed(tab.interaction_id).debounce(300),
                                ToolsState.composer_typing(tab.interaction_id).throttle(TYPING_THROTTLE_MS),
                            ],
                        ),
                        flex="1",
                    ),
                    rx.button("Send", type="submit"),
                    width="100%",
                ),
                on_submit=[WorkspaceState.send_message, ToolsState.close_quick_actions],
                reset_on_submit=True,
                width="100%",
            ),
        ),
        rx.cond(
            ToolsState.quick_for == tab.interaction_id,
            rx.vstack(
                rx.text("Quick actions", size="1", weight="bold"),
                rx.foreach(
                    ToolsState.quick_actions,
                    lambda action, index: rx.button(
                        action.label,
                        size="1",
                        variant="soft",
                        on_click=ToolsState.run_quick_action(index),
                        class_name="aw-quick",
                    ),
                ),
                rx.cond(
                    ToolsState.quick_actions.length() == 0,
                    rx.text("No quick action matches.", size="1", color_scheme="gray"),
                ),
                role="group",
                aria_label="Quick actions",
                spacing="1",
                width="100%",
                class_name="aw-quick-menu",
            ),
        ),
        spacing="3",
        width="100%",
        flex="3",
        min_width="0",
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
            rx.box(child_tabs(tab), flex="2", min_width="300px"),
            spacing="4",
            align="start",
            width="100%",
            role="tabpanel",
            aria_label="Interaction " + tab.number,
        ),
    )
