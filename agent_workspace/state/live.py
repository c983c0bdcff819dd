"""The part of an agent's tab that changes on every message, and the rules for it.

Kept in its own small state so a push re-renders only the components that show
it (Reflex re-renders every consumer of a state class when any of its vars
changes); the messages themselves are in one slot state per chat
(``chat_slots``). ``WorkspaceState`` writes both; their data is that state's user's.
"""

from __future__ import annotations

import time

import reflex as rx

from agent_workspace.models import SenderKind
from agent_workspace.security import Access, access
from agent_workspace.state.chat_slots import MessageSlot
from agent_workspace.state.common import unproxied
from agent_workspace.state.views import ChatTab, MessageView, merge_messages

WARNING_AFTER_SECONDS = 30
CRITICAL_AFTER_SECONDS = 60
LIVE_VARS = ("unread", "urgency", "typing_now", "_customer_waiting")


@access(Access.WORKSPACE)
class LiveState(rx.State):
    """Unread counts, urgency and typing per open chat (key: interaction id); the sound switch."""

    unread: dict[str, int] = {}
    urgency: dict[str, str] = {}  # "" | warning | critical
    typing_now: dict[str, bool] = {}
    # The customer wrote after the agent's last message, per chat: what urgency
    # is timed from, kept here so that colouring the tabs reads no slot.
    _customer_waiting: dict[str, bool] = {}
    # Bumped on a new offer or customer message: the page beeps and, when hidden,
    # shows a desktop notification, in the browser (components/workspace_header.py, ``alerts``).
    alert_seq: int = 0
    alert_text: str = ""
    sound_on: str = rx.LocalStorage("on", name="aw_sound")

    @rx.event
    def toggle_sound(self):
        self.sound_on = "off" if self.sound_on == "on" else "on"


def alert(live: LiveState, text: str) -> None:
    live.alert_seq += 1
    live.alert_text = text


def fold_messages(
    live: LiveState,
    slot: MessageSlot | None,
    key: str,
    new: list[MessageView],
    customer_typing: bool,
    *,
    shown: bool,
    alerting: bool,
) -> None:
    """New messages of one chat (``key``) into its ``slot`` (None: no new messages) and its typing flag into
    the per-chat vars: customer messages count as unread unless the chat is
    ``shown``, and raise an alert when ``alerting``."""
    if live.typing_now.get(key) != customer_typing:
        live.typing_now = {**unproxied(live.typing_now), key: customer_typing}
    if not new or slot is None:
        return
    show_messages(live, slot, key, merge_messages(unproxied(slot.messages), new))
    arrived = [m for m in new if m.sender_kind == SenderKind.CUSTOMER]
    if arrived and not shown:
        live.unread = {**unproxied(live.unread), key: live.unread.get(key, 0) + len(arrived)}
    if arrived and alerting:
        alert(live, f"{arrived[-1].sender_name}: {arrived[-1].body[:120]}")


def show_messages(live: LiveState, slot: MessageSlot, key: str, messages: list[MessageView]) -> None:
    """A chat's messages as its slot shows them, and whether its customer now waits."""
    slot.messages = messages
    waiting = customer_waiting(messages)
    if live._customer_waiting.get(key) != waiting:
        live._customer_waiting = {**live._customer_waiting, key: waiting}


def forget_closed(live: LiveState, open_keys: set[str]) -> None:
    """Drop what the per-chat vars hold for chats no longer open."""
    for name in LIVE_VARS:
        current = unproxied(getattr(live, name))
        if set(current) - open_keys:
            setattr(live, name, {k: v for k, v in current.items() if k in open_keys})


def customer_waiting(messages: list[MessageView]) -> bool:
    """The customer wrote after the agent's last message."""
    for message in reversed(messages):
        if message.sender_kind == SenderKind.AGENT:
            return False
        if message.sender_kind == SenderKind.CUSTOMER:
            return True
    return False


def update_urgency(live: LiveState, tabs: list[ChatTab], waiting_since: dict[str, float]) -> None:
    """Colour tabs whose customer has waited 30 s (warning) / 60 s (critical) for a
    reply; ``waiting_since`` (chat key -> when the wait began) is kept up to date."""
    now = time.time()
    urgency = {}
    for tab in tabs:
        key = str(tab.interaction_id)
        if tab.customer_ended or not live._customer_waiting.get(key, False):
            waiting_since.pop(key, None)
            urgency[key] = ""
            continue
        waited = now - waiting_since.setdefault(key, now)
        urgency[key] = (
            "critical" if waited >= CRITICAL_AFTER_SECONDS else "warning" if waited >= WARNING_AFTER_SECONDS else ""
        )
    if urgency != live.urgency:
        live.urgency = urgency
