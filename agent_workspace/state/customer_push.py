"""A customer tab's push and re-read: the next messages carried by the notice,
the place in line read ahead for every waiting customer, or the chat read again
after the tab's cursor (``docs/realtime.md``; the pure model is ``sync.customer``)."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import TYPE_CHECKING

from agent_workspace.models import InteractionState, SenderKind
from agent_workspace.services import availability, customer_views
from agent_workspace.services.events import Change, MessagePosted, Typing, TypingStopped
from agent_workspace.state.common import assign_changed, run_query
from agent_workspace.state.customer_reads import PrefetchedPlace
from agent_workspace.state.views import typing_after
from agent_workspace.sync import carried_messages

if TYPE_CHECKING:
    from agent_workspace.state.customer import CustomerChatState


class Phase(StrEnum):
    FORM = "form"  # the pre-chat form
    WAITING = "waiting"
    CHATTING = "chatting"
    ENDED = "ended"
    LEAVE = "leave"  # the leave-a-message form
    LEFT = "left"  # a message was left


async def refresh(
    state: CustomerChatState, changes: list[Change] | None = None, place: PrefetchedPlace | None = None
) -> None:
    """Re-read the chat after the page's cursor. A push that only carries the
    next messages of a live chat is applied without reading, and one that only
    moves the line while the customer waits takes the ``place`` read for all
    waiting customers at once (``prefetch_places``)."""
    if not state._interaction_id:
        return
    state._heard_at = time.time()
    if changes and any(isinstance(c, (Typing, TypingStopped)) for c in changes):
        typing = typing_after(
            changes, interaction_id=state._interaction_id, side=SenderKind.AGENT, shown=state.agent_typing
        )
        if typing != state.agent_typing:
            state.agent_typing = typing
        changes = [c for c in changes if not isinstance(c, (Typing, TypingStopped))]
        if not changes:
            return
    if changes and state.phase == Phase.CHATTING and all(isinstance(c, MessagePosted) for c in changes):
        carried = carried_messages(changes, interaction_id=state._interaction_id, cursor=state.last_id)
        if carried is not None:
            state._append(carried)
            return
    if (
        place is not None
        and state.phase == Phase.WAITING
        and place.place.interaction_id == state._interaction_id
        and place.place.version > state._version
    ):
        state._version = place.place.version
        state._show_outlook(place.place.outlook)
        return
    snap = await run_query(
        customer_views.customer_snapshot, interaction_id=state._interaction_id, after_id=state.last_id
    )
    state._version = max(state._version, snap.version)
    if snap.state in availability.WAITING_STATES:
        phase = Phase.LEAVE if state.phase == Phase.LEAVE else Phase.WAITING
    elif snap.state == InteractionState.WORK_IN_PROGRESS and not snap.customer_ended:
        phase = Phase.CHATTING
    else:
        phase = Phase.LEFT if state.phase == Phase.LEFT else Phase.ENDED
    assign_changed(
        state,
        number=snap.number,
        queue_name=snap.queue_name,
        rated=snap.rated,
        agent_name=snap.agent_name,
        agent_typing=state.agent_typing and phase == Phase.CHATTING,
        phase=phase,
        transcript_url=f"/api/transcript/{snap.public_id}" if phase == Phase.ENDED else state.transcript_url,
    )
    state._customer = (snap.customer_name, snap.customer_email)
    state._show_outlook(snap.outlook)
    state._append(snap.new_messages)
