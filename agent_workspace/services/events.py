"""What a service tells the realtime layer: who must hear that something changed.

Services return these after their commit; the state layer hands them to
``agent_workspace.realtime.publish``, which finds the browser tabs to refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
class AgentChanged:
    """An agent's presence, offers or open chats changed."""

    user_id: int


@dataclass(frozen=True)
class ChatOffered:
    """A chat was offered to this agent: only their inbox changes (not their chats or presence)."""

    user_id: int


Change = QueueChanged | InteractionChanged | AgentChanged | ChatOffered
