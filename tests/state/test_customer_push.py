"""The customer page's state runs the proven model (``sync.customer``): a push that
continues its cursor costs no statement, one after a missed message reads what was
missed, typing reads nothing, and the view it holds is a plain, picklable value."""

from __future__ import annotations

import asyncio
import pickle
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import reflex as rx
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from agent_workspace.models import SenderKind
from agent_workspace.services import conversations
from agent_workspace.services.events import Change, InteractionChanged, MessagePosted, Typing
from agent_workspace.state import customer_push
from agent_workspace.state.customer import CustomerChatState
from agent_workspace.state.views import own_message
from agent_workspace.sync.customer import CustomerView
from tests.announced import Announced
from tests.factories import make_customer, make_interaction, make_queue, make_user


@contextmanager
def statements() -> Iterator[list[str]]:
    """The statements any engine runs inside (SQLite's BEGIN is no read)."""
    ran: list[str] = []

    def heard(_conn, _cursor, statement, _params, _context, _many) -> None:
        if not statement.startswith("BEGIN"):
            ran.append(statement)

    event.listen(Engine, "before_cursor_execute", heard)
    try:
        yield ran
    finally:
        event.remove(Engine, "before_cursor_execute", heard)


class Chat:
    """One live chat in the database and its customer's tab, a real CustomerChatState."""

    def __init__(self, session: Session, announced: Announced) -> None:
        self.session, self.announced = session, announced
        self.agent = make_user(session, "ada_agent", display_name="Ada")
        self.id = make_interaction(
            session, queue=make_queue(session), customer=make_customer(session), agent=self.agent
        ).id
        root = rx.State(_reflex_internal_init=True)
        self.tab = root.get_substate(CustomerChatState.get_full_name().split(".")[1:])
        self.tab._hold(self.id)
        asyncio.run(self.tab._refresh())  # the tab's first read: fresh
        announced.take()

    def agent_writes(self, body: str) -> MessagePosted:
        conversations.post_message(
            self.session,
            interaction_id=self.id,
            sender_kind=SenderKind.AGENT,
            sender_user_id=self.agent.id,
            body=body,
            client_id=secrets.token_hex(16),
        )
        self.session.commit()
        return next(c for c in self.announced.take() if isinstance(c, MessagePosted))

    def push(self, *changes: Change) -> list[str]:
        with statements() as ran:
            asyncio.run(self.tab._receive(list(changes), None))
        return ran

    @property
    def shown(self) -> list[str]:
        return [m.body for m in self.tab.messages]


@pytest.fixture
def chat(session: Session, announced: Announced) -> Chat:
    return Chat(session, announced)


def test_a_push_that_continues_the_cursor_is_applied_without_a_statement(chat: Chat) -> None:
    assert chat.tab.phase == customer_push.Phase.CHATTING
    notice = chat.agent_writes("Hello, how can I help?")
    assert notice.follows_id == chat.tab._view.cursor
    assert chat.push(notice) == []
    assert chat.shown[-1] == "Hello, how can I help?"
    assert chat.tab._view.cursor == notice.message.id


def test_a_push_after_a_missed_message_reads_what_was_missed_in_order(chat: Chat) -> None:
    chat.agent_writes("First")  # its push is lost
    notice = chat.agent_writes("Second")
    assert chat.push(notice)  # read after the cursor
    assert chat.shown[-2:] == ["First", "Second"]
    assert chat.tab._view.cursor == notice.message.id


def test_typing_reads_nothing_and_an_agents_message_ends_it(chat: Chat) -> None:
    assert chat.push(Typing(chat.id, SenderKind.AGENT)) == []
    assert chat.tab.agent_typing
    assert chat.push(chat.agent_writes("Here it is")) == []
    assert not chat.tab.agent_typing


def test_the_agent_typing_again_after_a_message_in_the_same_push_shows(chat: Chat) -> None:
    """The notices' order decides: a message carried before a new typing signal does not end it."""
    sent = chat.agent_writes("One moment")
    assert chat.push(sent, Typing(chat.id, SenderKind.AGENT)) == []
    assert chat.tab.agent_typing
    missed = chat.agent_writes("Found it")  # its push is lost: the next push reads it after the cursor
    assert chat.push(InteractionChanged(chat.id))  # read: the agent's message ends their typing
    assert chat.shown[-1] == "Found it" and missed.message.id == chat.tab._view.cursor
    assert not chat.tab.agent_typing


def test_the_customers_own_message_moves_the_cursor_only_when_it_followed_it(chat: Chat) -> None:
    cursor = chat.tab._view.cursor
    mine = own_message(client_id="c" * 32, sender_kind=SenderKind.CUSTOMER, sender_name="You", body="Thanks")
    mine.id = cursor + 1
    chat.tab._stored(mine, follows_id=cursor + 7)  # something came in between: the next push reads
    assert chat.tab._view.cursor == cursor
    chat.tab._stored(mine, follows_id=cursor)
    assert chat.tab._view.cursor == cursor + 1


def test_the_view_is_held_as_a_plain_value_that_pickles(chat: Chat) -> None:
    """Reflex proxies a dataclass on every read; what the state stores (and the Redis
    state manager pickles) must be the frozen view itself."""
    chat.push(chat.agent_writes("Hello"))
    held = vars(chat.tab)["_view"]
    assert type(held) is CustomerView
    assert pickle.loads(pickle.dumps(chat.tab))._view == held
