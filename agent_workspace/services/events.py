"""What a service tells the realtime layer: that something changed, and about what.

A service records its changes on the session it writes with (``announce``);
they are published once that transaction commits, never before and never for
one that rolls back, so no tab re-reads a row that is not there yet. The
realtime layer installs the publisher (``set_publisher``) and finds the browser
tabs that must hear each change. Nothing here knows about browsers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class QueueChanged:
    """Cards or places in line changed in this queue."""

    queue_id: int


@dataclass(frozen=True)
class InteractionChanged:
    """A chat got a message, a new state, a typing signal or new details."""

    interaction_id: int


@dataclass(frozen=True)
class MessageData:
    """One stored message as the pages show it."""

    id: int
    sender_kind: str
    sender_name: str
    body: str
    client_id: str
    created_at: datetime
    attachment_public_id: str = ""
    attachment_name: str = ""
    attachment_type: str = ""
    article_number: str = ""
    sender_user_id: int | None = None  # the agent who wrote it (pages style their own messages apart)
    article_title: str = ""  # the article's card: set while the article is published
    article_summary: str = ""


@dataclass(frozen=True)
class MessagePosted(InteractionChanged):
    """A chat got this message, stored right after ``follows_id`` (0: the first).

    A page whose cursor is ``follows_id`` appends it without reading the
    database; any other page treats it as a plain ``InteractionChanged`` and
    reads after its cursor, so a missed or reordered push still converges.
    """

    message: MessageData
    follows_id: int


@dataclass(frozen=True)
class DetailsChanged(InteractionChanged):
    """What only a chat read in full shows changed: its details, earlier chats,
    emails or a pending transfer. An agent's tab re-reads that chat in full; any
    other page treats it as a plain ``InteractionChanged``."""


@dataclass(frozen=True)
class AgentChanged:
    """An agent's header changed: presence, notices, offers, or which chats are
    open (a chat new to their tab is read in full; those shown stay as they are)."""

    user_id: int


@dataclass(frozen=True)
class ChatOffered:
    """A chat was offered to this agent: only their inbox changes (not their chats or presence)."""

    user_id: int


@dataclass(frozen=True)
class Typing:
    """One side of a chat is typing. Never stored: it is sent at once (``signal``)
    and the other side shows it until ``TYPING_SECONDS`` pass without another,
    or that side's message arrives."""

    interaction_id: int
    sender_kind: str


@dataclass(frozen=True)
class TypingStopped:
    """``TYPING_SECONDS`` passed since this tab last heard ``Typing`` for the chat."""

    interaction_id: int
    sender_kind: str


# A tab sends typing at most once per TYPING_SIGNAL_SECONDS (its page throttles
# keystroke events to one per TYPING_THROTTLE_MS, the first at once); the other
# side shows it until TYPING_SECONDS pass without another: within 0.5 s of the
# first keystroke, cleared 2.5-4 s after the last one, or at once by a message.
TYPING_SECONDS = 4.0
TYPING_SIGNAL_SECONDS = 1.5
TYPING_THROTTLE_MS = 1000

Change = QueueChanged | InteractionChanged | AgentChanged | ChatOffered | Typing | TypingStopped


# ---------------------------------------------------------------- the unit of work

_RECORDED = "aw.changes.recorded"  # announced in the open transaction
_HELD = "aw.changes.held"  # committed, held until the unit of work ends (``hold``)

Publisher = Callable[[list[Change]], None]
_publisher: Publisher | None = None


def set_publisher(publisher: Publisher | None) -> None:
    """Who hears committed changes (the realtime layer; a test's collector; None: nobody)."""
    global _publisher
    _publisher = publisher


def announce(session: Session, *changes: Change) -> None:
    """Publish ``changes`` when the session's current transaction commits."""
    if not session.in_transaction():
        session.begin()  # a transaction of its own, so that a rollback drops them (no connection yet)
    session.info.setdefault(_RECORDED, []).extend(changes)


def hold(session: Session) -> None:
    """Keep committed changes until ``release``: the unit of work publishes them
    once it has let go of the write lock, since finding their audience reads."""
    session.info[_HELD] = []


def release(session: Session) -> None:
    """Publish the changes ``hold`` kept, once each, in the order they were announced."""
    publish(session.info.pop(_HELD, []))


def signal(*changes: Change) -> None:
    """Publish at once what is never stored (typing): no transaction to wait for."""
    publish(list(changes))


def publish(changes: list[Change]) -> None:
    if changes and _publisher is not None:
        _publisher(list(dict.fromkeys(changes)))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    recorded = session.info.pop(_RECORDED, None)
    if not recorded:
        return
    held = session.info.get(_HELD)
    if held is None:
        publish(recorded)
    else:
        held.extend(recorded)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _previous_transaction) -> None:
    """Any rollback, also of a transaction that had not reached the database yet."""
    session.info.pop(_RECORDED, None)
