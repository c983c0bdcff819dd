"""Storing a page's pending message: Sent when stored, Failed with why otherwise, never twice."""

from __future__ import annotations

import sqlite3

from sqlmodel import Session, select

from agent_workspace.models import Message, SenderKind
from agent_workspace.services import conversations, routing
from agent_workspace.state.views import NOT_STORED, MessageView, deliver, start_delivery, storing_is_slow
from tests.factories import make_queue
from tests.services.helpers import make_agent


def _live_chat(session: Session) -> int:
    queue = make_queue(session, "General")
    agent = make_agent(session, "grace", queues=[queue])
    item = conversations.start_chat(session, name="Ada", email="ada@example.com", queue_id=queue.id, question="Help")
    routing.accept(session, user_id=agent.id, queue_id=queue.id)
    session.commit()
    return item.id


def _customer_bodies(session: Session, interaction_id: int) -> list[str]:
    session.expire_all()
    stmt = select(Message.body).where(
        Message.interaction_id == interaction_id, Message.sender_kind == SenderKind.CUSTOMER
    )
    return list(session.exec(stmt))


async def test_a_stored_message_is_sent_with_its_id_and_time(session: Session) -> None:
    chat = _live_chat(session)
    message = MessageView(client_id="client-0001", sender_kind=SenderKind.CUSTOMER, body="hello", status="sending")
    follows = await deliver(message, interaction_id=chat, sender_kind=SenderKind.CUSTOMER)
    assert (message.status, message.error) == ("sent", "")
    assert message.id and message.time and follows is not None and follows < message.id
    assert _customer_bodies(session, chat) == ["hello"]


async def test_a_refused_message_fails_with_the_reason(session: Session) -> None:
    chat = _live_chat(session)
    message = MessageView(client_id="client-0002", sender_kind=SenderKind.CUSTOMER, body="   ", status="sending")
    assert await deliver(message, interaction_id=chat, sender_kind=SenderKind.CUSTOMER) is None
    assert message.status == "failed" and message.error
    assert _customer_bodies(session, chat) == []


async def test_a_database_failure_fails_the_message_and_a_retry_stores_it_once(
    session: Session, database_url: str
) -> None:
    chat = _live_chat(session)
    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as raw:
        raw.execute("ALTER TABLE message RENAME TO message_away")
    message = MessageView(
        client_id="client-0003", sender_kind=SenderKind.CUSTOMER, body="still there?", status="sending"
    )
    assert await deliver(message, interaction_id=chat, sender_kind=SenderKind.CUSTOMER) is None
    assert (message.status, message.error) == ("failed", NOT_STORED)

    with sqlite3.connect(path) as raw:
        raw.execute("ALTER TABLE message_away RENAME TO message")
    for _ in range(2):  # the page's Retry, twice: stored once
        message.status = "sending"
        await deliver(message, interaction_id=chat, sender_kind=SenderKind.CUSTOMER)
        assert message.status == "sent"
    assert _customer_bodies(session, chat) == ["still there?"]


async def test_a_store_is_slow_only_while_the_database_makes_it_wait(session: Session, database_url: str) -> None:
    chat = _live_chat(session)
    quick = MessageView(client_id="client-0004", sender_kind=SenderKind.CUSTOMER, body="quick", status="sending")
    delivery = start_delivery(quick, interaction_id=chat, sender_kind=SenderKind.CUSTOMER)
    assert not await storing_is_slow(delivery)
    assert quick.status == "sent"

    # Another writer holds SQLite's write lock: the page would show Sending… until it lets go.
    blocker = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    held = MessageView(client_id="client-0005", sender_kind=SenderKind.CUSTOMER, body="held", status="sending")
    delivery = start_delivery(held, interaction_id=chat, sender_kind=SenderKind.CUSTOMER)
    assert await storing_is_slow(delivery)
    assert held.status == "sending"
    blocker.rollback()
    blocker.close()
    await delivery
    assert held.status == "sent"
    assert _customer_bodies(session, chat) == ["quick", "held"]
