"""An agent tab kept in step through ``sync.agent``: the tab holds the model's view,
asks it which reads a batch of notices needs (``plan``), reads them off the event
loop (``read``), and shows what ``apply`` returns. Which reads a push needs and
what they change are the model's (``docs/realtime.md``; proven by tests/sync);
this module projects a view onto the vars the page renders, with the page's own
rules: which messages alert and count as unread, and typing, which no read sees."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from agent_workspace import routes
from agent_workspace.models import SenderKind
from agent_workspace.services.events import Change, MessageData, Typing, TypingStopped
from agent_workspace.state import chat_slots
from agent_workspace.state.common import assign_changed, run_query, unproxied
from agent_workspace.state.live import LiveState, fold_messages, update_urgency
from agent_workspace.state.views import (
    ChatTab,
    card_view,
    message_view,
    transfer_offer_view,
    typing_after,
    update_tab,
)
from agent_workspace.sync import agent as agent_sync
from agent_workspace.sync.agent import AgentView, Applied, InboxAhead, OpenChat, Reads

if TYPE_CHECKING:
    from agent_workspace.state.workspace import WorkspaceState


def view_of(state: WorkspaceState) -> AgentView:
    """The view the tab holds (a new, empty one for a tab whose agent changed)."""
    view = unproxied(state._view)
    return view if view.user_id == state._uid else AgentView(user_id=state._uid)


async def receive(state: WorkspaceState, changes: list[Change], ahead: InboxAhead | None) -> None:
    """A push: what ``plan`` says to read, then the view ``apply`` returns."""
    if state._uid:
        await sync(state, changes, agent_sync.plan(view_of(state), changes), ahead)


async def sync(state: WorkspaceState, changes: Sequence[Change], reads: Reads, ahead: InboxAhead | None = None) -> None:
    """Bring the tab up to date for ``changes`` with ``reads`` (a push's plan, or a
    handler's own re-read after its action), and show the result."""
    view = view_of(state)
    state._heard_at = time.time()
    data = agent_sync.Data() if reads.nothing else await run_query(agent_sync.read, view=view, reads=reads, ahead=ahead)
    await show(state, view, agent_sync.apply(view, changes, data), changes)


async def show(state: WorkspaceState, before: AgentView, applied: Applied, changes: Sequence[Change]) -> None:
    """Project ``applied`` onto the page's vars, assigning only what changed (Reflex
    sends every var assigned); the per-chat vars and a chat's slot are loaded only
    when something of theirs changed."""
    view = applied.view
    assign_changed(
        state,
        display_name=view.display_name,
        presence=view.presence,
        capacity=view.capacity,
        active_chats=view.active_chats,
        after_hours=view.after_hours,
        queue_names=list(view.queue_names),
    )
    reloading = not state.loaded  # the page's vars may hold anything: project them all
    if reloading or view.inbox != before.inbox:
        await state._set_inbox([card_view(card) for card in view.inbox])
    if reloading or view.transfer_offers != before.transfer_offers:
        state.transfer_offers = [transfer_offer_view(t) for t in view.transfer_offers]
    if reloading or view.notices != before.notices:
        state.notices = [[level, body, str(notice_id)] for level, body, notice_id in view.notices]
    listed = [c.details.id for c in view.chats] != [c.details.id for c in before.chats]
    live: LiveState | None = None
    if listed or any(c.details != b.details or c.customer_ended != b.customer_ended for c, b in _pairs(view, before)):
        live = await state._live()
        await _show_tabs(state, live, view)
    typed = {c.interaction_id for c in changes if isinstance(c, (Typing, TypingStopped))}
    touched = [c.details.id for c in view.chats if c.details.id in typed or c.details.id in applied.messages]
    if touched:
        live = live or await state._live()
        for interaction_id in touched:
            new = list(applied.messages.get(interaction_id, ()))
            shown = live.typing_now.get(str(interaction_id), False)
            news = before.chat(interaction_id) is not None  # a chat just opened brings its history, not news
            typing = typing_after(
                changes, interaction_id=interaction_id, side=SenderKind.CUSTOMER, shown=shown, read=new
            )
            await _fold(state, live, interaction_id, new, typing, alerting=news)
    if live is not None:
        update_urgency(live, state.tabs)
    if state.active_tab != "inbox" and view.chat(int(state.active_tab) if state.active_tab.isdigit() else 0) is None:
        state.active_tab = "inbox"
    state._view = view  # last: a push that fails on the way leaves the view (and its cursors) as it was


def _pairs(view: AgentView, before: AgentView) -> list[tuple[OpenChat, OpenChat]]:
    return [(c, b) for c in view.chats if (b := before.chat(c.details.id)) is not None]


async def _show_tabs(state: WorkspaceState, live: LiveState, view: AgentView) -> None:
    """The tabs of the view's open chats, in its order: a chat's tab is rebuilt from
    its details, its slot kept; chats that left lose their tab, slot and per-chat vars."""
    open_ids = [c.details.id for c in view.chats]
    await state._forget_closed(live, {str(i) for i in open_ids})
    state._slots = chat_slots.assign(state._slots, open_ids)
    existing = {tab.interaction_id: tab for tab in unproxied(state.tabs)}
    tabs = []
    for chat in view.chats:
        i = chat.details.id
        tab = update_tab(existing.get(i) or ChatTab(interaction_id=i, slot=state._slots[i]), chat.details)
        tab.customer_ended = chat.customer_ended
        tabs.append(tab)
    state.tabs = tabs


async def _fold(
    state: WorkspaceState, live: LiveState, interaction_id: int, new: list[MessageData], typing: bool, *, alerting: bool
) -> None:
    """New messages into the chat's slot, the customer's typing into the small
    per-chat vars (typing alone loads no slot). Customer messages alert and count
    as unread only if ``alerting`` (the chat was open here before) and the tab is loaded."""
    slot = await state._slot(interaction_id) if new else None
    if new and slot is None:
        return
    fold_messages(
        live,
        slot,
        str(interaction_id),
        [message_view(m, attachment_base=routes.ATTACHMENTS, mine=m.sender_user_id == state._uid) for m in new],
        typing,
        shown=state.active_tab == str(interaction_id),
        alerting=alerting and state.loaded,
    )
