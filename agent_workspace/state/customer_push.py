"""A customer tab's page vars from its ``sync.customer`` view. The model decides
what a push or a re-read reads and what it changes (``docs/realtime.md``, proven
by tests/sync); this module runs it, reading off the event loop, and shows the result."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import TYPE_CHECKING

from agent_workspace import routes
from agent_workspace.models import SenderKind
from agent_workspace.services.customer_views import Place
from agent_workspace.services.events import Change
from agent_workspace.state.common import assign_changed, run_query, unproxied
from agent_workspace.state.outlook import outlook_view
from agent_workspace.state.views import merge_messages, message_view, typing_after
from agent_workspace.sync import customer as customer_sync

if TYPE_CHECKING:
    from agent_workspace.state.customer import CustomerChatState


class Phase(StrEnum):
    FORM = "form"  # the pre-chat form
    WAITING = "waiting"
    CHATTING = "chatting"
    ENDED = "ended"
    LEAVE = "leave"  # the leave-a-message form
    LEFT = "left"  # a message was left


async def receive(state: CustomerChatState, changes: list[Change], ahead: Place | None) -> None:
    """A push: ``plan``, ``read`` only when the plan needs one, ``apply``. Typing is the
    tab's own, from the notices in their order: no read sees it."""
    if not state._interaction_id:
        return
    state._heard_at = time.time()
    view = unproxied(state._view)
    reads = customer_sync.plan(view, changes)
    if reads.nothing:
        data = customer_sync.Data()
    else:
        data = await run_query(customer_sync.read, view=view, reads=reads, ahead=ahead)
    applied = customer_sync.apply(view, changes, data)
    typing = typing_after(
        changes,
        interaction_id=view.interaction_id,
        side=SenderKind.AGENT,
        shown=state.agent_typing,
        read=applied.messages,
    )
    show(state, applied, typing=typing)


async def reread(state: CustomerChatState) -> None:
    """The tab's own re-read (on load, after its own actions, on the quiet tick): the
    model's ``heal``, the chat after the cursor (of a view just made: ``fresh``)."""
    if not state._interaction_id:
        return
    state._heard_at = time.time()
    applied = await run_query(customer_sync.heal, view=unproxied(state._view))
    typing = typing_after(
        [],
        interaction_id=applied.view.interaction_id,
        side=SenderKind.AGENT,
        shown=state.agent_typing,
        read=applied.messages,
    )
    show(state, applied, typing=typing)


def _page_phase(phase: customer_sync.Phase, shown: str) -> Phase:
    """The model's phase under the page's own: a message being left, or left."""
    if phase == customer_sync.Phase.WAITING:
        return Phase.LEAVE if shown == Phase.LEAVE else Phase.WAITING
    if phase == customer_sync.Phase.CHATTING:
        return Phase.CHATTING
    return Phase.LEFT if shown == Phase.LEFT else Phase.ENDED


def show(state: CustomerChatState, applied: customer_sync.Applied, *, typing: bool) -> None:
    """Hold the applied view and project it, assigning only what changed; the new
    messages join those shown (a stored copy replaces the page's pending one)."""
    view = state._view = applied.view
    phase = _page_phase(view.phase, state.phase)
    if applied.messages:
        state.messages = merge_messages(
            unproxied(state.messages),
            [
                message_view(m, attachment_base=routes.ATTACHMENTS, mine=m.sender_kind == SenderKind.CUSTOMER)
                for m in applied.messages
            ],
        )
    assign_changed(
        state,
        number=view.number,
        queue_name=view.queue_name,
        rated=view.rated,
        agent_name=view.agent_name,
        agent_typing=typing and phase == Phase.CHATTING,
        phase=phase,
        transcript_url=f"/api/transcript/{view.public_id}" if phase == Phase.ENDED else state.transcript_url,
    )
    show_outlook(state)


def show_outlook(state: CustomerChatState) -> None:
    """The view's place in line, in the visitor's time zone."""
    shown = outlook_view(
        unproxied(state._view).outlook, queue_name=state.queue_name, time_zone=state._time_zone, waiting=True
    )
    if shown != state.outlook:
        state.outlook = shown
