"""The part of an agent's tab that changes on every message, and the rules for it.

Kept in its own small state so a push re-renders only the components that show
it (Reflex re-renders every consumer of a state class when any of its vars
changes); the messages themselves are in one slot state per chat
(``chat_slots``). ``WorkspaceState`` writes both; their data is that state's user's.
"""

from __future__ import annotations

import time
from enum import StrEnum

import reflex as rx

from agent_workspace.models import SenderKind
from agent_workspace.security import Access, access
from agent_workspace.state.chat_slots import MessageSlot
from agent_workspace.state.common import unproxied
from agent_workspace.state.views import ChatTab, MessageView, merge_messages

WARNING_AFTER_SECONDS = 30
CRITICAL_AFTER_SECONDS = 60


class Urgency(StrEnum):
    """How long the customer of a chat has waited for a reply (the tab's colour)."""

    CALM = ""
    WARNING = "warning"  # 30 s
    CRITICAL = "critical"  # 60 s


LIVE_VARS = ("unread", "urgency", "typing_now", "_waiting_since")


@access(Access.WORKSPACE)
class LiveState(rx.State):
    """Unread counts, urgency and typing per open chat (key: interaction id); the sound switch."""

    unread: dict[str, int] = {}
    urgency: dict[str, str] = {}  # chat key -> Urgency
    typing_now: dict[str, bool] = {}
    taken_ids: list[str] = []  # client ids of the last sends taken: the page's outbox forgets them
    # Since when (epoch seconds) the customer has waited for a reply, per chat that
    # waits: what urgency is timed from, kept here so that colouring the tabs reads no slot.
    _waiting_since: dict[str, float] = {}
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
    the per-chat vars. Customer messages the slot did not hold arrive while the tab
    is loaded (``alerting``): they raise an alert, and count as unread unless the
    chat is ``shown``. A (re)load reads every message again and counts none: what
    was unread before it stays as it was."""
    if live.typing_now.get(key) != customer_typing:
        live.typing_now = {**unproxied(live.typing_now), key: customer_typing}
    if not new or slot is None:
        return
    held = unproxied(slot.messages)
    held_ids = {m.id for m in held}
    show_messages(live, slot, key, merge_messages(held, new))
    arrived = [m for m in new if m.sender_kind == SenderKind.CUSTOMER and m.id not in held_ids]
    if not (arrived and alerting):
        return
    if not shown:
        live.unread = {**unproxied(live.unread), key: live.unread.get(key, 0) + len(arrived)}
    alert(live, f"{arrived[-1].sender_name}: {arrived[-1].body[:120]}")


def show_messages(live: LiveState, slot: MessageSlot, key: str, messages: list[MessageView]) -> None:
    """A chat's messages as its slot shows them, and whether its customer now waits."""
    slot.messages = messages
    since = waiting_since(messages, time.time())
    if live._waiting_since.get(key) != since:
        live._waiting_since = {k: v for k, v in live._waiting_since.items() if k != key}
        if since is not None:
            live._waiting_since[key] = since


def forget_closed(live: LiveState, open_keys: set[str]) -> None:
    """Drop what the per-chat vars hold for chats no longer open."""
    for name in LIVE_VARS:
        current = unproxied(getattr(live, name))
        if set(current) - open_keys:
            setattr(live, name, {k: v for k, v in current.items() if k in open_keys})


def waiting_since(messages: list[MessageView], now: float) -> float | None:
    """When the customer's first message after the agent's last one was stored
    (None: nobody waits for a reply). Read from the messages, so a reload or
    another tab of the agent shows the same wait."""
    since = None
    for message in reversed(messages):
        if message.sender_kind == SenderKind.AGENT:
            break
        if message.sender_kind == SenderKind.CUSTOMER:
            since = message.sent_at or now
    return since


def update_urgency(live: LiveState, tabs: list[ChatTab], *, now: float | None = None) -> None:
    """Colour tabs whose customer has waited 30 s (warning) / 60 s (critical) for a reply."""
    now = time.time() if now is None else now
    urgency: dict[str, str] = {}
    for tab in tabs:
        key = str(tab.interaction_id)
        since = live._waiting_since.get(key)
        if tab.customer_ended or since is None:
            urgency[key] = Urgency.CALM
            continue
        waited = now - since
        urgency[key] = (
            Urgency.CRITICAL
            if waited >= CRITICAL_AFTER_SECONDS
            else Urgency.WARNING
            if waited >= WARNING_AFTER_SECONDS
            else Urgency.CALM
        )
    if urgency != live.urgency:
        live.urgency = urgency
