"""An agent tab's push: what it re-reads for a batch of notices, and what it
applies without reading (``docs/realtime.md``; the rules as a pure model are
``sync.agent``, proven by tests/sync)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from agent_workspace.models import InteractionState, SenderKind
from agent_workspace.services import views
from agent_workspace.services.events import (
    AgentChanged,
    Change,
    ChatOffered,
    InteractionChanged,
    QueueChanged,
    Typing,
    TypingStopped,
)
from agent_workspace.state.common import run_query, unproxied
from agent_workspace.state.inbox import PrefetchedInbox
from agent_workspace.state.live import update_urgency
from agent_workspace.state.views import mark_customer_ended, typing_after
from agent_workspace.sync import carried_messages

if TYPE_CHECKING:
    from agent_workspace.state.workspace import WorkspaceState


async def receive(state: WorkspaceState, changes: list[Change], prefetched: PrefetchedInbox | None) -> None:
    """Only what changed is re-read: this agent's own changes need the whole
    view; a queue change only the inbox (``prefetched`` before the lock, see
    ``prefetch_inboxes``); a chat change only that chat; typing nothing."""
    if not state._uid:
        return
    state._heard_at = time.time()
    if any(isinstance(c, AgentChanged) and c.user_id == state._uid for c in changes):
        await state._refresh()
        return
    if any(
        (isinstance(c, QueueChanged) and c.queue_id in state._queue_ids)
        or (isinstance(c, ChatOffered) and c.user_id == state._uid)
        for c in changes
    ):
        await state._refresh_inbox(prefetched)
    changed_chats = {c.interaction_id for c in changes if isinstance(c, InteractionChanged)}
    typed = {c.interaction_id for c in changes if isinstance(c, (Typing, TypingStopped))} - changed_chats
    if changed_chats & {t.interaction_id for t in state.transfer_offers}:
        await state._refresh(chats=set())  # a transfer waiting for this agent: its card
    touched = changed_chats & set(state._cursors)
    typed &= set(state._cursors)
    if not (touched or typed):
        return  # a queue change only: the chats' vars are not loaded
    live = await state._live()
    for interaction_id in typed:
        shown = live.typing_now.get(str(interaction_id), False)
        typing = typing_after(changes, interaction_id=interaction_id, side=SenderKind.CUSTOMER, shown=shown)
        await state._apply_live(live, interaction_id, [], typing)
    if not touched:
        return
    unread_cursors = {}
    for interaction_id in touched:
        carried = carried_messages(changes, interaction_id=interaction_id, cursor=state._cursors[interaction_id])
        if carried is None:
            unread_cursors[interaction_id] = state._cursors[interaction_id]
            continue
        shown = live.typing_now.get(str(interaction_id), False)
        typing = typing_after(changes, interaction_id=interaction_id, side=SenderKind.CUSTOMER, shown=shown)
        await state._apply_live(live, interaction_id, carried, typing)
    deltas = await run_query(views.chat_deltas, cursors=unread_cursors) if unread_cursors else []
    gone = {
        d.interaction_id for d in deltas if d.state != InteractionState.WORK_IN_PROGRESS or d.agent_id != state._uid
    }
    for delta in deltas:
        if delta.interaction_id not in gone:
            await state._apply_live(live, delta.interaction_id, delta.new_messages)
    ended = mark_customer_ended(unproxied(state.tabs), {d.interaction_id for d in deltas if d.customer_ended})
    if ended:
        state.tabs = ended
    if gone:  # closed or moved elsewhere: the header and the tabs, not every chat
        await state._refresh(chats=set())
    else:
        update_urgency(live, state.tabs)
