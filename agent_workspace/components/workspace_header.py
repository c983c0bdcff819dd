"""What the workspace page adds to the app header: presence and load with the
after-hours opt-in, the keyboard shortcuts and their help, and the sound and
desktop alerts (played in the browser, no round trip to the server)."""

from __future__ import annotations

import reflex as rx

from agent_workspace.state.workspace import PRESENCE_LABELS, LiveState, WorkspaceState


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
