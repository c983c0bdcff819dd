"""All > Workspace Home > Inbox, and one interaction tab per open chat."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.assist import assist_panel
from agent_workspace.components.inbox import inbox_panel, notices, reject_dialog
from agent_workspace.components.interaction import actions_toolbar, details_tab, record_tab, tool_dialogs
from agent_workspace.components.layout import INBOX, app_header, new_tab_link, role_gate
from agent_workspace.components.messages import agent_message, message_list
from agent_workspace.services.events import TYPING_THROTTLE_MS
from agent_workspace.state.assist import AssistState
from agent_workspace.state.auth import AuthState
from agent_workspace.state.tools import ToolsState
from agent_workspace.state.views import ChatTab
from agent_workspace.state.workspace import PRESENCE_LABELS, LiveState, WorkspaceState


def breadcrumb() -> rx.Component:
    return rx.el.nav(
        rx.el.ol(
            rx.el.li(rx.link("All", href="/workspace")),
            rx.el.li("›", aria_hidden="true"),
            rx.el.li(rx.link("Workspace Home", href="/workspace")),
            rx.el.li("›", aria_hidden="true"),
            rx.el.li(rx.text("Inbox", as_="span", weight="bold"), aria_current="page"),
            class_name="aw-breadcrumb",
        ),
        aria_label="Breadcrumb",
    )


def presence_picker() -> rx.Component:
    """Presence and load, with the after-hours opt-in under them (two short rows keep the header on one line)."""
    return rx.vstack(
        rx.hstack(
            rx.el.label("Presence", html_for="presence", class_name="aw-label"),
            rx.select(
                list(PRESENCE_LABELS.values()),
                value=WorkspaceState.presence_label,
                on_change=WorkspaceState.set_presence,
                id="presence",
                aria_label="Presence",
            ),
            rx.badge(
                WorkspaceState.active_chats.to_string() + " / " + WorkspaceState.capacity.to_string() + " chats",
                variant="soft",
            ),
            align="center",
            spacing="2",
        ),
        rx.hstack(
            rx.switch(
                id="after-hours", size="1", checked=WorkspaceState.after_hours, on_change=WorkspaceState.set_after_hours
            ),
            rx.el.label("Take chats after hours", html_for="after-hours", class_name="aw-label"),
            align="center",
            spacing="2",
        ),
        spacing="1",
    )


def close_tab_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("End the chat without saving?"),
            rx.alert_dialog.description(
                "Closing the tab ends the chat for the customer, and the conversation history is NOT saved "
                "to the interaction record. To keep it, use Close in the Details tab instead."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button(
                        "Keep chat open", variant="soft", color_scheme="gray", on_click=WorkspaceState.cancel_close_tab
                    )
                ),
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
    )


# ---------------------------------------------------------------- interaction tab


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


def child_tab_button(tab: ChatTab, label, value) -> rx.Component:
    selected = tab.child_tab == value
    return rx.button(
        label,
        role="tab",
        aria_selected=selected,
        size="1",
        variant=rx.cond(selected, "solid", "outline"),
        on_click=WorkspaceState.select_child_tab(tab.interaction_id, value),
    )


def child_tabs(tab: ChatTab) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            child_tab_button(tab, "Details", "details"),
            rx.button(
                "Agent Assist",
                role="tab",
                aria_selected=tab.child_tab == "assist",
                size="1",
                variant=rx.cond(tab.child_tab == "assist", "solid", "outline"),
                on_click=AssistState.open_for(tab.interaction_id),
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


def tab_button(label: rx.Component, *, value, selected, class_name="aw-tab") -> rx.Component:
    return rx.button(
        label,
        role="tab",
        aria_selected=selected,
        variant=rx.cond(selected, "solid", "soft"),
        on_click=WorkspaceState.select_tab(value),
        class_name=class_name,
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
    return rx.hstack(
        tab_button(
            rx.hstack(
                rx.text(customer_name),
                rx.cond(
                    unread > 0,
                    rx.badge(unread.to_string(), color_scheme="red", aria_label=unread.to_string() + " unread"),
                ),
                spacing="2",
                align="center",
            ),
            value=key,
            selected=selected,
            class_name="aw-tab aw-urgency-" + LiveState.urgency[key],
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


SHORTCUTS = [
    ("Alt+A", "Accept the first chat offered in the Inbox"),
    ("Alt+N", "Next tab"),
    ("Alt+M", "Focus the message box (Enter sends)"),
    ("Alt+C", "Close the current chat (Details › Close)"),
    ("Alt+K", "Open Agent Assist"),
    ("Alt+H", "This help"),
]

# One listener for the whole page; each shortcut clicks the control a person would.
SHORTCUT_SCRIPT = """
if (!window.__awShortcuts) {
  window.__awShortcuts = true;
  document.addEventListener('keydown', (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    const byText = (selector, text) => [...document.querySelectorAll(selector)].find((el) => el.textContent.trim().startsWith(text) || el.getAttribute('aria-label') === text);
    const actions = {
      a: () => byText('button', 'Accept')?.click(),
      n: () => {
        const tabs = [...document.querySelectorAll('[role=tablist][aria-label=Interactions] [role=tab]')];
        const current = tabs.findIndex((tab) => tab.getAttribute('aria-selected') === 'true');
        tabs[(current + 1) % tabs.length]?.click();
      },
      m: () => document.querySelector('input[id^=composer-]')?.focus(),
      c: () => byText('button', 'Close')?.click(),
      k: () => byText('[role=tab]', 'Agent Assist')?.click(),
      h: () => document.getElementById('aw-shortcuts-button')?.click(),
    };
    const action = actions[event.key.toLowerCase()];
    if (action) { event.preventDefault(); action(); }
  });
}
"""


def shortcuts_help() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(rx.icon("keyboard", size=14), "Shortcuts", size="2", variant="soft", id="aw-shortcuts-button")
        ),
        rx.dialog.content(
            rx.dialog.title("Keyboard shortcuts"),
            rx.table.root(
                rx.table.body(
                    *[rx.table.row(rx.table.cell(rx.el.kbd(keys)), rx.table.cell(text)) for keys, text in SHORTCUTS]
                ),
                size="1",
            ),
            rx.dialog.close(rx.button("Close help", variant="soft", margin_top="12px")),
        ),
    )


# Runs in the browser when the alert marker remounts: a short beep if sound is on
# and, while the page is hidden, a desktop notification. The marker carries the
# alert; the last one played is remembered per tab, so a reload does not replay it.
PLAY_ALERT = """(() => {
  const m = document.getElementById('aw-alert');
  if (!m || m.dataset.seq === '0' || sessionStorage.getItem('aw_alerted') === m.dataset.seq) return;
  sessionStorage.setItem('aw_alerted', m.dataset.seq);
  const sound = m.dataset.sound === 'on', text = m.dataset.text;
  setTimeout(() => {  // after this render: the alert never delays the message on screen
    if (sound) {
      try {
        const c = window.__awAudio = window.__awAudio || new AudioContext();
        const o = c.createOscillator(), g = c.createGain();
        g.gain.value = 0.08; o.frequency.value = 880; o.connect(g); g.connect(c.destination);
        o.start(); o.stop(c.currentTime + 0.15);
      } catch (e) {}
    }
    if (document.hidden && 'Notification' in window && Notification.permission === 'granted')
      new Notification('Agent Workspace', {body: text});
  }, 0);
})()"""


def alerts() -> rx.Component:
    """Sound and desktop-notification controls; a new alert remounts the marker,
    which plays it in the browser (no round trip to the server)."""
    return rx.hstack(
        rx.button(
            rx.cond(LiveState.sound_on == "on", rx.icon("volume-2", size=14), rx.icon("volume-x", size=14)),
            rx.cond(LiveState.sound_on == "on", "Sound on", "Sound off"),
            size="2",
            variant="soft",
            on_click=LiveState.toggle_sound,
            aria_pressed=LiveState.sound_on == "on",
        ),
        rx.button(
            rx.icon("bell", size=14),
            "Desktop alerts",
            size="2",
            variant="soft",
            on_click=rx.call_script("'Notification' in window && Notification.requestPermission()"),
            title="Allow desktop notifications for new offers and messages",
        ),
        # The key sits on the parent: a new key remounts the child, whose on_mount plays the alert.
        rx.box(
            rx.box(on_mount=rx.call_script(PLAY_ALERT)),
            key=LiveState.alert_seq.to_string(),
            id="aw-alert",
            custom_attrs={
                "data-seq": LiveState.alert_seq.to_string(),
                "data-sound": LiveState.sound_on,
                "data-text": LiveState.alert_text,
            },
            display="none",
        ),
        spacing="2",
    )


def workspace_body() -> rx.Component:
    return rx.vstack(
        app_header(
            alerts(),
            shortcuts_help(),
            presence_picker(),
            current=INBOX,
        ),
        breadcrumb(),
        notices(),
        rx.hstack(
            tab_button(
                rx.hstack(
                    rx.text("Inbox"),
                    rx.cond(
                        WorkspaceState.inbox_count > 0,
                        rx.badge(WorkspaceState.inbox_count.to_string(), color_scheme="blue"),
                    ),
                    spacing="2",
                    align="center",
                ),
                value="inbox",
                selected=WorkspaceState.active_tab == "inbox",
            ),
            rx.foreach(WorkspaceState.tabs, interaction_trigger),
            role="tablist",
            aria_label="Interactions",
            spacing="3",
            wrap="wrap",
            width="100%",
            class_name="aw-tablist",
        ),
        rx.cond(
            WorkspaceState.active_tab == "inbox",
            rx.box(inbox_panel(), role="tabpanel", aria_label="Inbox", width="100%"),
        ),
        rx.foreach(WorkspaceState.tabs, interaction_panel),
        reject_dialog(),
        close_tab_dialog(),
        tool_dialogs(),
        rx.box(rx.moment(interval=5000, on_change=WorkspaceState.tick), display="none"),
        rx.script(SHORTCUT_SCRIPT),
        spacing="3",
        width="100%",
        padding="12px 20px",
    )


def workspace() -> rx.Component:
    return role_gate(
        role="workspace_user",
        allowed=AuthState.is_workspace_user,
        loaded=WorkspaceState.loaded,
        body=workspace_body(),
        loading_text="Loading your workspace…",
    )
