"""What a service tells the realtime layer: who must hear that something changed.

Services return these after their commit; the state layer hands them to
``agent_workspace.realtime.publish``, which finds the browser tabs to refresh.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueChanged:
    """Cards or places in line changed in this queue."""

    queue_id: int


@dataclass(frozen=True)
class InteractionChanged:
    """A chat got a message, a new state, a typing signal or new details."""

    interaction_id: int


@dataclass(frozen=True)
class AgentChanged:
    """An agent's presence, offers or open chats changed."""

    user_id: int


Change = QueueChanged | InteractionChanged | AgentChanged
