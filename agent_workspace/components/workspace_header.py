"""What the workspace page adds to the app header: presence and load with the
after-hours opt-in, and the sound and desktop alerts (played in the browser, no
round trip to the server). The keyboard shortcuts and their help are in
components/shortcuts.py."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.layout import header_label
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
            header_label(rx.cond(LiveState.sound_on == "on", "Sound on", "Sound off")),
            size="2",
            variant="soft",
            on_click=LiveState.toggle_sound,
            aria_pressed=LiveState.sound_on == "on",
            title=rx.cond(LiveState.sound_on == "on", "Sound on", "Sound off"),
        ),
        rx.button(
            rx.icon("bell", size=14),
            header_label("Desktop alerts"),
            size="2",
            variant="soft",
            on_click=rx.call_script("'Notification' in window && Notification.requestPermission()"),
            title="Desktop alerts: allow notifications for new offers and messages",
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
