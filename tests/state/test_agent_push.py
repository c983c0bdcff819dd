"""An agent tab's push runs ``sync.agent``'s rules and only projects the result:
a notice that continues a chat's cursor is shown without a read, one after a
missed message asks the model's ``read`` for a delta, a chat that left the view
takes its tab, slot and per-chat vars along, typing loads no slot."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from agent_workspace.models import InteractionState, SenderKind
from agent_workspace.services.events import InteractionChanged, MessageData, MessagePosted, Typing
from agent_workspace.services.views import ChatDelta, InteractionData
from agent_workspace.state import agent_push, chat_slots
from agent_workspace.state.views import ChatTab
from agent_workspace.state.workspace import WorkspaceState
from agent_workspace.sync import agent as agent_sync
from agent_workspace.sync.agent import AgentView, OpenChat

AGENT, CHAT = 7, 41
AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def details(interaction_id: int = CHAT) -> InteractionData:
    return InteractionData(
        id=interaction_id,
        number=f"IMS{interaction_id:07d}",
        public_id="p",
        state=InteractionState.WORK_IN_PROGRESS,
        close_reason="",
        queue_id=1,
        queue_name="Support",
        customer_name="Ann",
        customer_email="ann@example.com",
        question="Printer?",
        short_description="",
        category="inquiry",
        priority=4,
        work_notes="",
        requested_at=AT,
        accepted_at=AT,
        closed_at=None,
        wait_seconds=3,
        customer_ended=False,
        agent_name="Ada",
        transfer_note="",
        earlier_interactions=[],
    )


def said(message_id: int, kind: str = SenderKind.CUSTOMER) -> MessageData:
    return MessageData(
        id=message_id,
        sender_kind=kind,
        sender_name="Ann",
        body=f"m{message_id}",
        client_id=f"c{message_id}",
        created_at=AT,
    )


class FakeWorkspace:
    """A WorkspaceState's vars and the methods ``agent_push`` calls, its own where they
    need no Reflex (``_set_inbox``, ``_forget_closed``); slots and LiveState as namespaces."""

    _set_inbox = WorkspaceState._set_inbox
    _forget_closed = WorkspaceState._forget_closed

    def __init__(self, view: AgentView) -> None:
        self._uid, self._view, self._heard_at = AGENT, view, 0.0
        self.loaded, self.active_tab = True, "inbox"
        self.display_name, self.presence, self.capacity, self.active_chats = "", "", 0, 0
        self.after_hours, self.queue_names, self.inbox, self.transfer_offers, self.notices = False, [], [], [], []
        self.live = SimpleNamespace(typing_now={}, unread={}, urgency={}, _waiting_since={}, alert_seq=0, alert_text="")
        self.slot_states = [SimpleNamespace(messages=[]) for _ in chat_slots.SLOT_STATES]
        self.slots_loaded: list[int] = []
        self._slots = chat_slots.assign({}, [c.details.id for c in view.chats])
        self.tabs = [ChatTab(interaction_id=c.details.id, slot=self._slots[c.details.id]) for c in view.chats]

    async def _live(self) -> SimpleNamespace:
        return self.live

    async def _slot(self, interaction_id: int) -> SimpleNamespace | None:
        index = self._slots.get(interaction_id, chat_slots.NO_SLOT)
        if index == chat_slots.NO_SLOT:
            return None
        self.slots_loaded.append(interaction_id)
        return self.slot_states[index]


def one_chat(cursor: int) -> FakeWorkspace:
    return FakeWorkspace(
        AgentView(user_id=AGENT, chats=(OpenChat(details=dataclasses.replace(details()), cursor=cursor),))
    )


def messages_of(tab: FakeWorkspace, interaction_id: int = CHAT) -> list[int]:
    return [m.id for m in tab.slot_states[tab._slots[interaction_id]].messages]


def test_a_notice_that_continues_the_cursor_is_shown_without_a_read(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_read(*_args, **_kwargs):
        raise AssertionError("a carried message needs no read")

    monkeypatch.setattr(agent_push, "run_query", no_read)
    tab = one_chat(cursor=5)
    asyncio.run(agent_push.receive(tab, [MessagePosted(CHAT, message=said(6), follows_id=5)], None))
    assert messages_of(tab) == [6]
    assert tab._view.chat(CHAT).cursor == 6
    assert tab.live.unread == {str(CHAT): 1} and tab.live.alert_seq == 1  # the Inbox shows, not this chat


def test_a_message_after_a_missed_one_is_read_after_the_cursor_by_the_models_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = []

    async def delta(fn, **kwargs):
        asked.append((fn, kwargs["reads"]))
        return agent_sync.Data(
            deltas=(ChatDelta(CHAT, InteractionState.WORK_IN_PROGRESS, AGENT, False, [said(6), said(7)]),)
        )

    monkeypatch.setattr(agent_push, "run_query", delta)
    tab = one_chat(cursor=5)
    asyncio.run(agent_push.receive(tab, [MessagePosted(CHAT, message=said(7), follows_id=6)], None))
    assert asked == [(agent_sync.read, agent_sync.Reads(deltas=frozenset({CHAT})))]
    assert messages_of(tab) == [6, 7] and tab._view.chat(CHAT).cursor == 7


def test_a_chat_that_left_the_view_takes_its_tab_slot_and_per_chat_vars_along() -> None:
    tab = one_chat(cursor=5)
    tab.slot_states[tab._slots[CHAT]].messages = ["held"]
    tab.live.unread, tab.live.typing_now = {str(CHAT): 2}, {str(CHAT): True}
    tab.active_tab = str(CHAT)
    before = tab._view
    asyncio.run(agent_push.show(tab, before, agent_sync.Applied(AgentView(user_id=AGENT)), []))
    assert tab.tabs == [] and tab._slots == {} and tab.slot_states[0].messages == []
    assert tab.live.unread == {} and tab.live.typing_now == {} and tab.active_tab == "inbox"


def test_typing_shows_without_a_read_or_a_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_read(*_args, **_kwargs):
        raise AssertionError("typing is never stored: nothing to read")

    monkeypatch.setattr(agent_push, "run_query", no_read)
    tab = one_chat(cursor=5)
    asyncio.run(agent_push.receive(tab, [Typing(CHAT, SenderKind.CUSTOMER)], None))
    assert tab.live.typing_now == {str(CHAT): True} and tab.slots_loaded == []
    asyncio.run(agent_push.receive(tab, [MessagePosted(CHAT, message=said(6), follows_id=5)], None))
    assert tab.live.typing_now == {str(CHAT): False}  # their message ends it


def test_a_chat_just_opened_brings_its_history_not_unread_messages() -> None:
    """Found on a shift: after accepting a transfer, the new tab counted every
    customer message of the chat as unread, even while the agent looked at it."""
    tab = FakeWorkspace(AgentView(user_id=AGENT))
    opened = AgentView(user_id=AGENT, chats=(OpenChat(details=details(), cursor=3),))
    applied = agent_sync.Applied(opened, {CHAT: (said(1), said(2), said(3))})
    asyncio.run(agent_push.show(tab, tab._view, applied, []))
    assert messages_of(tab) == [1, 2, 3]
    assert tab.live.unread == {} and tab.live.alert_seq == 0


def test_a_change_of_a_pending_transfer_does_not_hide_a_change_of_an_open_chat() -> None:
    """Found in review: a batch with a change of the chat whose transfer waits for this
    agent planned a header read only, and an open chat's file in the same batch went unread."""
    offered = details(interaction_id=CHAT + 1)
    view = AgentView(user_id=AGENT, chats=(OpenChat(details=details(), cursor=5),), transfer_offers=(offered,))
    reads = agent_sync.plan(view, [InteractionChanged(CHAT), InteractionChanged(offered.id)])
    assert reads == agent_sync.Reads(header=True, deltas=frozenset({CHAT}))
