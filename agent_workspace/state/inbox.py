"""The agent's Inbox outside its state class: whether Accept can work now, and
inbox reads for pushes made before the tabs' states are locked."""

from __future__ import annotations

from agent_workspace.models import Presence
from agent_workspace.services import views
from agent_workspace.services.events import Change, ChatOffered, QueueChanged
from agent_workspace.state.common import run_query
from agent_workspace.sync.agent import InboxAhead


def accept_blocker(*, presence: str, active_chats: int, capacity: int) -> str:
    """Why Accept would be refused now, in routing.accept's words ("" when it would
    not be): the card says so before the click instead of after it."""
    if presence != Presence.AVAILABLE:
        return "Set yourself Available to accept chats."
    if active_chats >= capacity:
        return f"You are at your capacity of {capacity} chats. Close one first."
    return ""


async def prefetch_inboxes(batch: dict[str, list[Change]]) -> dict[str, InboxAhead]:
    """For tabs a queue change or an offer reached, their inboxes, read before
    their states are locked and in one read for all of them: every member's tab
    re-reads its inbox many times a minute in a busy queue."""
    tokens = [
        token for token, changes in batch.items() if any(isinstance(c, (QueueChanged, ChatOffered)) for c in changes)
    ]
    if not tokens:
        return {}
    found = await run_query(views.inboxes_of_clients, tokens=tokens)
    return {token: InboxAhead(user_id, snapshot) for token, (user_id, snapshot) in found.items()}
