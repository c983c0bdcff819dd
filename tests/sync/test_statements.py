"""What the hot paths cost: statements run by ``plan`` + ``read`` for the pushes a
busy workspace gets most (the counts ``sync.agent`` and ``sync.customer`` promise)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent_workspace.models import ClientKind, Presence, QueueMember, SenderKind, utcnow
from agent_workspace.services import conversations, events, routing
from agent_workspace.services.events import (
    AgentChanged,
    ChatOffered,
    DetailsChanged,
    InteractionChanged,
    MessagePosted,
    QueueChanged,
    Typing,
    TypingStopped,
)
from agent_workspace.sync import agent as agent_sync
from agent_workspace.sync import customer as customer_sync
from tests.factories import make_queue, make_user
from tests.sync.world import SyncWorld, hear

pytestmark = pytest.mark.usefixtures("offer_timeout", "clock")

INBOX_STATEMENTS = 7  # change version, presence, load, memberships, rejections, waiting cards, business hours
DELTA_STATEMENTS = 2  # the chats, then the messages after the cursor of each (one chat here)
HEADER_STATEMENTS = 10  # change version, agent, queues, open chats, notices, inbox cards, transfers waiting
CHAT_IN_FULL_STATEMENTS = 6  # a shown chat re-read: its customer, queue, earlier chats, messages, records, emails
CUSTOMER_CHAT_STATEMENTS = 3  # change version, the chat with its names, the messages after the cursor


@pytest.fixture
def world(template: Path, tmp_path: Path):
    """Ada works on one chat; its customer and another waiting one have their pages open."""
    path = tmp_path / "world.db"
    shutil.copyfile(template, path)
    world = SyncWorld(path)
    previous = hear(world)
    support = make_queue(world.s, "Support").id
    world.queue_ids = [support]
    ada = make_user(world.s, "ada", capacity=1)
    ada.presence, ada.last_seen_at = Presence.AVAILABLE, utcnow()
    world.s.add(QueueMember(queue_id=support, user_id=ada.id))
    world.s.commit()
    world.agent_ids.append(ada.id)
    world.open_tab(ClientKind.AGENT, ada.id)
    world.start(0)
    routing.accept(world.s, user_id=ada.id, queue_id=support)
    world.start(0)
    for tab in world.tabs.values():
        tab.messages = None
        tab.absorb(world.fresh(tab))
        tab.pending.clear()
    yield world
    events.set_publisher(previous)
    world.close_db()


def cost(world: SyncWorld, count_statements, module, view, changes, ahead=None):
    """Statements ``plan`` and ``read`` run for ``changes``, and the plan."""
    with world.reader() as s, count_statements(world.read_engine) as ran:
        reads = module.plan(view, changes)
        module.read(s, view, reads, ahead)
    return len(ran), reads


def posted(world: SyncWorld, chat: int) -> MessagePosted:
    conversations.post_message(
        world.s, interaction_id=chat, sender_kind=SenderKind.CUSTOMER, body="hello", client_id="client-000001"
    )
    return next(
        c for c in world.tabs[f"agent-{world.agent_ids[0]}"].pending[-1].changes if isinstance(c, MessagePosted)
    )


def test_a_carried_message_costs_no_statement(world: SyncWorld, count_statements) -> None:
    chat = world.chats[0]
    change = posted(world, chat)
    agent_view = world.tabs[f"agent-{world.agent_ids[0]}"].view
    customer_view = world.tabs[f"customer-{chat}"].view
    assert change.follows_id == agent_view.chat(chat).cursor == customer_view.cursor
    assert cost(world, count_statements, agent_sync, agent_view, [change]) == (0, agent_sync.Reads())
    assert cost(world, count_statements, customer_sync, customer_view, [change]) == (0, customer_sync.Reads())


def test_typing_costs_a_customer_no_statement(world: SyncWorld, count_statements) -> None:
    """No read sees typing: with a carried message too, the customer's push reads nothing."""
    chat = world.chats[0]
    view = world.tabs[f"customer-{chat}"].view
    typed = [Typing(chat, SenderKind.AGENT), TypingStopped(chat, SenderKind.AGENT)]
    assert cost(world, count_statements, customer_sync, view, typed) == (0, customer_sync.Reads())
    assert cost(world, count_statements, customer_sync, view, [*typed, posted(world, chat)]) == (
        0,
        customer_sync.Reads(),
    )


def test_a_message_after_a_missed_one_is_read_after_the_cursor(world: SyncWorld, count_statements) -> None:
    chat = world.chats[0]
    posted(world, chat)
    conversations.post_message(
        world.s, interaction_id=chat, sender_kind=SenderKind.CUSTOMER, body="again", client_id="client-000002"
    )
    second = world.tabs[f"agent-{world.agent_ids[0]}"].pending[-1].changes[0]
    view = world.tabs[f"agent-{world.agent_ids[0]}"].view
    assert second.follows_id != view.chat(chat).cursor
    assert cost(world, count_statements, agent_sync, view, [second]) == (
        DELTA_STATEMENTS,
        agent_sync.Reads(deltas=frozenset({chat})),
    )


def test_an_inbox_refresh(world: SyncWorld, count_statements) -> None:
    view = world.tabs[f"agent-{world.agent_ids[0]}"].view
    changes = [QueueChanged(world.queue_ids[0])]
    assert cost(world, count_statements, agent_sync, view, changes) == (
        INBOX_STATEMENTS,
        agent_sync.Reads(inbox=True),
    )
    with world.reader() as s:
        same = agent_sync.read_inboxes(s, user_ids=[view.user_id])[view.user_id]
    assert cost(world, count_statements, agent_sync, view, changes, same)[0] == INBOX_STATEMENTS, (
        "a read ahead that saw no later change than the view's own does not stand in"
    )
    world.start(0)  # an audited change the view has not read yet
    with world.reader() as s:
        ahead = agent_sync.read_inboxes(s, user_ids=[view.user_id])[view.user_id]
    assert cost(world, count_statements, agent_sync, view, changes, ahead)[0] == 0, "a newer read ahead stands in"


def test_a_read_ahead_older_than_the_tabs_own_read_is_not_used(world: SyncWorld) -> None:
    """Read ahead before a change the tab has read since (its own accept, say): taken
    before the tab's state was locked, it must not put the old inbox back."""
    tab = world.tabs[f"agent-{world.agent_ids[0]}"]
    with world.reader() as s:
        stale = agent_sync.read_inboxes(s, user_ids=[tab.view.user_id])[tab.view.user_id]
    world.start(0)
    world.heal(tab)
    assert tab.view.inbox_version > stale.snapshot.version
    changes = [QueueChanged(world.queue_ids[0])]
    with world.reader() as s:
        reads = agent_sync.plan(tab.view, changes)
        data = agent_sync.read(s, tab.view, reads, stale)
    assert data.inbox is not stale
    assert agent_sync.apply(tab.view, changes, data).view == world.fresh(tab).view


def test_a_chat_delta(world: SyncWorld, count_statements) -> None:
    view = world.tabs[f"agent-{world.agent_ids[0]}"].view
    changes = [InteractionChanged(world.chats[0])]  # a typing signal
    assert cost(world, count_statements, agent_sync, view, changes) == (
        DELTA_STATEMENTS,
        agent_sync.Reads(deltas=frozenset({world.chats[0]})),
    )


def test_the_customers_reads(world: SyncWorld, count_statements) -> None:
    chatting = world.tabs[f"customer-{world.chats[0]}"].view
    assert cost(world, count_statements, customer_sync, chatting, [InteractionChanged(world.chats[0])]) == (
        CUSTOMER_CHAT_STATEMENTS,
        customer_sync.WHOLE,
    )
    waiting = world.tabs[f"customer-{world.chats[1]}"].view
    line = [QueueChanged(world.queue_ids[0])]
    world.start(0)  # the line moves: a change the waiting tab has not read
    with world.reader() as s:
        ahead = customer_sync.read_places(s, interaction_ids=[waiting.interaction_id])[waiting.interaction_id]
    assert cost(world, count_statements, customer_sync, waiting, line, ahead) == (0, customer_sync.Reads(place=True))


def test_an_offer_shows_with_its_own_push(template: Path, tmp_path: Path) -> None:
    """A ``ChatOffered`` goes out at once, the queue's change a moment later
    (``realtime.push_to_tab`` gathers those): the offer must show from the first push."""
    path = tmp_path / "offer.db"
    shutil.copyfile(template, path)
    world = SyncWorld(path)
    previous = hear(world)
    try:
        support = make_queue(world.s, "Support").id
        world.queue_ids = [support]
        ada = world.add_agent("ada", 1, [support])
        world.start(0)
        tab = world.tabs[f"agent-{ada}"]
        urgent = [b for b in tab.pending if any(isinstance(c, ChatOffered) for c in b.changes)]
        assert urgent and all(not isinstance(c, QueueChanged) for b in urgent for c in b.changes)
        with world.reader() as s:
            for batch in urgent:
                tab.absorb(
                    agent_sync.apply(
                        tab.view, batch.changes, agent_sync.read(s, tab.view, agent_sync.plan(tab.view, batch.changes))
                    )
                )
        assert [card.offered_to_me for card in tab.view.inbox] == [True]
    finally:
        events.set_publisher(previous)
        world.close_db()


def test_the_agents_own_change_reads_the_header_not_the_chats_shown(world: SyncWorld, count_statements) -> None:
    """An accept, a close or a notice (``AgentChanged``) re-reads the header and the
    list of open chats; a chat shown already is read in full only for its ``DetailsChanged``."""
    view = world.tabs[f"agent-{world.agent_ids[0]}"].view
    chat = world.chats[0]
    header, reads = cost(world, count_statements, agent_sync, view, [AgentChanged(view.user_id)])
    assert (header, reads) == (HEADER_STATEMENTS, agent_sync.Reads(header=True))
    details, reads = cost(world, count_statements, agent_sync, view, [DetailsChanged(chat)])
    assert reads == agent_sync.Reads(header=True, reread=frozenset({chat}), deltas=frozenset({chat}))
    assert details == HEADER_STATEMENTS + DELTA_STATEMENTS + CHAT_IN_FULL_STATEMENTS
