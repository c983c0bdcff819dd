"""On PostgreSQL, one chat's messages are stored one at a time, so ids follow commit order.

Pages hold a cursor (the highest message id they have) and pushes carry the id a
message follows. If two writers in one chat could commit out of id order, a page
could move its cursor past a message still being written and never show it.
"""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, select

from agent_workspace.db import make_engine
from agent_workspace.migrations import upgrade
from agent_workspace.models import Message, SenderKind
from agent_workspace.services import conversations, routing
from tests.factories import make_queue
from tests.scaleout import harness
from tests.services.helpers import make_agent

WRITERS, MESSAGES_EACH = 6, 15


@pytest.fixture
def pg_url():
    problem = harness.pg_problem()
    if problem:
        pytest.skip(f"needs PostgreSQL: {problem}")
    name, url = harness.create_pg_database("aw_scale")
    try:
        upgrade(url)
        yield url
    finally:
        harness.drop_pg_database(name)


def test_concurrent_writers_in_one_chat_form_one_chain_in_commit_order(pg_url: str) -> None:
    engine = make_engine(pg_url)
    with Session(engine, expire_on_commit=False) as session:
        queue = make_queue(session, "Order")
        agent = make_agent(session, "ordering", queues=[queue])
        chat = conversations.start_chat(session, name="Ada", email="ada@example.com", queue_id=queue.id, question="q")
        routing.accept(session, user_id=agent.id, queue_id=queue.id)

    chain: list[tuple[int, int]] = []  # (follows_id, id) in the order the commits returned
    lock = threading.Lock()
    start = threading.Barrier(WRITERS)

    def write(writer: int) -> None:
        start.wait()
        for n in range(MESSAGES_EACH):
            with Session(engine, expire_on_commit=False) as session:
                message, follows_id = conversations.post_message(
                    session,
                    interaction_id=chat.id,
                    sender_kind=SenderKind.AGENT,
                    body=f"{writer}-{n}",
                    client_id=f"order-{writer:02d}-{n:04d}",
                    sender_user_id=agent.id,
                )
            with lock:
                chain.append((follows_id, message.id))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with Session(engine) as session:
        stored = list(session.exec(select(Message.id).where(Message.interaction_id == chat.id).order_by(Message.id)))
    follows = dict((message_id, follows_id) for follows_id, message_id in chain)
    assert len(follows) == WRITERS * MESSAGES_EACH
    # Every message follows exactly the one stored before it: one unbroken chain.
    broken = [
        (previous, current, follows[current])
        for previous, current in zip(stored, stored[1:])
        if current in follows and follows[current] != previous
    ]
    assert broken == []
    engine.dispose()
