"""An agent's send from the page's outbox: stored once per client id, and every
text the server does not store is still taken, or the page would show it
"Sending…" for ever."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from agent_workspace.state import agent_send
from agent_workspace.state.message_status import MessageStatus
from agent_workspace.state.views import ChatTab, MessageView

CHAT = 41
CLIENT_ID = "o" + "1" * 32


class FakeTab:
    """What ``agent_send`` reads of a WorkspaceState: its open chats, their slots, its LiveState."""

    def __init__(self, messages: list[MessageView], *, open_chat: bool = True) -> None:
        self.tabs = [ChatTab(interaction_id=CHAT)] if open_chat else []
        self.slot = SimpleNamespace(messages=messages)
        self.live = SimpleNamespace(taken_ids=[], _waiting_since={})

    def _tab(self, interaction_id: int) -> ChatTab | None:
        return next((t for t in self.tabs if t.interaction_id == interaction_id), None)

    async def _slot(self, interaction_id: int) -> SimpleNamespace | None:
        return self.slot if interaction_id == CHAT else None

    async def _live(self) -> SimpleNamespace:
        return self.live


def to_store(tab: FakeTab, body: str, client_id: str = CLIENT_ID) -> MessageView | None:
    form = {"interaction_id": str(CHAT), "body": body, "client_id": client_id}
    return asyncio.run(agent_send.to_store(tab, CHAT, form))


def test_a_new_text_is_stored_under_the_pages_client_id_as_the_agents_own() -> None:
    tab = FakeTab([])
    message = to_store(tab, "  Hello there  ")
    assert message is not None
    assert (message.client_id, message.body, message.mine, message.status) == (
        CLIENT_ID,
        "Hello there",
        True,
        MessageStatus.SENDING,
    )
    assert tab.live.taken_ids == []  # taken when it shows (agent_send.show), in the same update


def test_a_second_copy_of_a_held_text_is_not_stored_again_and_is_taken() -> None:
    for status in (MessageStatus.SENT, MessageStatus.SENDING, MessageStatus.FAILED):
        tab = FakeTab([MessageView(client_id=CLIENT_ID, body="Hello", status=status)])
        assert to_store(tab, "Hello") is None
        assert tab.live.taken_ids == [CLIENT_ID]


def test_a_quick_action_typed_out_is_never_sent_but_taken() -> None:
    tab = FakeTab([])
    assert to_store(tab, "/kb printer") is None
    assert tab.live.taken_ids == [CLIENT_ID]


def test_a_text_for_a_chat_not_open_here_is_taken() -> None:
    tab = FakeTab([], open_chat=False)
    assert to_store(tab, "Hello") is None
    assert tab.live.taken_ids == [CLIENT_ID]


def test_the_composers_own_empty_submit_changes_nothing() -> None:
    """The outbox empties the box before the form's submit reads it: that send has nothing pending."""
    tab = FakeTab([])
    assert to_store(tab, "   ") is None
    assert tab.live.taken_ids == []


def test_showing_a_message_takes_its_id_once() -> None:
    tab = FakeTab([])
    message = MessageView(client_id=CLIENT_ID, body="Hello", status=MessageStatus.SENDING, mine=True)
    asyncio.run(agent_send.show(tab, CHAT, message))
    asyncio.run(agent_send.show(tab, CHAT, message))
    assert tab.live.taken_ids == [CLIENT_ID]
    assert [m.client_id for m in tab.slot.messages] == [CLIENT_ID]
