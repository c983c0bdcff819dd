"""The public chat's limits, from a bare websocket client as an attacker would send:
oversized fields and frames, refused attempts counted, bounded per-tab memory, typing throttled."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlmodel import func, select

from agent_workspace.models import Customer, Interaction, Queue
from agent_workspace.services.budgets import ALLOWANCES, Budget
from agent_workspace.state.customer import CustomerChatState
from agent_workspace.state.customer_limits import MAX_UNSENT, TOO_MANY_UNSENT
from tests.e2e.conftest import unique
from tests.e2e.ws_client import NAMESPACE, EventClient

HANDLERS = CustomerChatState.event_handlers
# Just under Reflex's own limit (1,000,000 bytes a frame), which the attack measured
# in issue 17 stayed under: ours is far lower.
ALMOST_A_MEGABYTE = "x" * 999_000
REFUSED_BY_THE_PAGE = "Slow down: too many attempts from this page. Try again in a few minutes."


def _form(world, queue: str, **fields) -> dict:
    with world.session() as session:
        queue_id = session.exec(select(Queue.id).where(Queue.name == queue)).one()
    return {
        "name": unique("Limits"),
        "email": "limits@example.com",
        "queue_id": str(queue_id),
        "question": "Help",
    } | fields


def _customers_named(world, prefix: str) -> int:
    with world.session() as session:
        return session.exec(select(func.count()).select_from(Customer).where(Customer.name.startswith(prefix))).one()


@pytest.fixture
def chatting(app_server, world) -> Iterator[EventClient]:
    """A tab with a chat waiting in a queue nobody serves (a customer may write while waiting)."""
    client = EventClient(app_server.base_url)
    client.send(HANDLERS["start_chat"], {"form": _form(world, world.queue("Limits"))}, path="/chat")
    client.drain()
    assert client.latest(CustomerChatState).get("chat_key"), client.latest(CustomerChatState)
    yield client
    client.close()


def test_an_oversized_field_is_refused_with_a_clear_message_and_nothing_kept(app_server, world, chatting):
    queue = world.queue("Oversized")
    client = EventClient(app_server.base_url)
    try:
        mark = client.mark()
        client.send(
            HANDLERS["start_chat"], {"form": _form(world, queue, name="Oversized " + "n" * 200_000)}, path="/chat"
        )
        client.wait_for_value(
            CustomerChatState, "form_error", "Your name is too long: 200,010 characters (limit 120).", after=mark
        )
        client.send(
            HANDLERS["start_chat"], {"form": _form(world, queue, question={"nested": ["q" * 100]})}, path="/chat"
        )
        client.drain()
        assert client.latest(CustomerChatState)["form_error"] == "Your question must be text."
        assert _customers_named(world, "Oversized") == 0
    finally:
        client.close()

    before = chatting.latest(CustomerChatState)["messages"]
    mark = chatting.mark()
    chatting.send(HANDLERS["send"], {"form": {"body": "b" * 200_000}}, path="/chat")
    chatting.wait_for_value(
        CustomerChatState, "send_error", "The message is too long: 200,000 characters (limit 4,000).", after=mark
    )
    assert chatting.latest(CustomerChatState)["messages"] == before  # the refused message is not kept


def test_refused_starts_are_counted_and_then_a_valid_start_is_refused(app_server, world):
    queue = world.queue("Counted")
    client = EventClient(app_server.base_url)
    try:
        for _ in range(ALLOWANCES[Budget.REQUEST].per_tab):
            client.send(HANDLERS["start_chat"], {"form": _form(world, queue, email="not an address")}, path="/chat")
        client.drain()
        assert client.latest(CustomerChatState)["form_error"] == "Enter a valid email address, like name@example.com."

        mark = client.mark()
        client.send(HANDLERS["start_chat"], {"form": _form(world, queue, name="Counted valid")}, path="/chat")
        client.wait_for_value(CustomerChatState, "form_error", REFUSED_BY_THE_PAGE, after=mark)
        assert _customers_named(world, "Counted valid") == 0
        assert not client.latest(CustomerChatState).get("chat_key")
    finally:
        client.close()
    other = EventClient(app_server.base_url)  # another tab (the address's budget is large in this suite)
    try:
        other.send(HANDLERS["start_chat"], {"form": _form(world, queue, name="Counted other")}, path="/chat")
        other.drain()
        assert other.latest(CustomerChatState).get("chat_key")
    finally:
        other.close()


def test_two_hundred_refused_sends_leave_the_tab_bounded(chatting):
    for n in range(200):
        chatting.send(HANDLERS["send"], {"form": {"body": f"flood {n} " + "f" * 3000}}, path="/chat")
    chatting.drain()
    view = chatting.latest(CustomerChatState)
    unsent = [m for m in view["messages"] if m["status"] != "sent"]
    stored = [m for m in view["messages"] if m["status"] == "sent" and m["body"].startswith("flood")]

    assert len(stored) <= ALLOWANCES[Budget.SEND].per_tab
    assert 1 <= len(unsent) <= MAX_UNSENT  # the chat refused some (10 per 10 s): a few bubbles offer Retry
    assert len(view["messages"]) <= 1 + len(stored) + MAX_UNSENT  # the greeting, stored ones, a few unsent
    assert view["send_error"] in (
        TOO_MANY_UNSENT,
        "Slow down: too many attempts from this page. Try again in a few seconds.",
    )


def test_twenty_typing_signals_in_a_second_write_nothing(world, chatting):
    """Typing is a signal, never a write on the chat row that storing a message locks."""
    with world.session() as session:
        chat_id = session.exec(
            select(Interaction.id).where(Interaction.public_id == chatting.latest(CustomerChatState)["chat_key"])
        ).one()
        # Every write of this chat's row is counted, by the database itself.
        session.execute(text(f"CREATE TABLE IF NOT EXISTS chat_writes_{chat_id} (at TEXT)"))
        session.execute(
            text(
                f"CREATE TRIGGER chat_written_{chat_id} AFTER UPDATE ON interaction "
                f"WHEN NEW.id = {chat_id} BEGIN INSERT INTO chat_writes_{chat_id} VALUES (datetime('now')); END"
            )
        )
        session.commit()
    try:
        for _ in range(20):
            chatting.send(HANDLERS["typing"], path="/chat")
        chatting.drain()
        with world.session() as session:
            writes = session.execute(text(f"SELECT count(*) FROM chat_writes_{chat_id}")).scalar_one()
        assert writes == 0
    finally:
        with world.session() as session:
            session.execute(text(f"DROP TRIGGER IF EXISTS chat_written_{chat_id}"))
            session.execute(text(f"DROP TABLE IF EXISTS chat_writes_{chat_id}"))
            session.commit()


def test_a_frame_of_almost_a_megabyte_closes_the_socket_and_reaches_no_handler(app_server, world, chatting):
    token, before = chatting.token, chatting.latest(CustomerChatState)
    closed = threading.Event()
    chatting.sio.on("disconnect", lambda *reason: closed.set(), namespace=NAMESPACE)
    chatting.send(HANDLERS["send"], {"form": {"body": ALMOST_A_MEGABYTE}}, path="/chat")
    assert closed.wait(timeout=15), "the server kept a socket that sent an almost 1 MB frame"

    queue = world.queue("Megabyte")
    attacker = EventClient(app_server.base_url)
    closed = threading.Event()
    attacker.sio.on("disconnect", lambda *reason: closed.set(), namespace=NAMESPACE)
    attacker.send(
        HANDLERS["start_chat"], {"form": _form(world, queue, name="Megabyte " + ALMOST_A_MEGABYTE)}, path="/chat"
    )
    assert closed.wait(timeout=15)
    assert attacker.deltas == []  # no handler answered

    again = EventClient(app_server.base_url, token=token)  # the same tab, reconnected
    try:
        again.send(HANDLERS["send"], {"form": {"body": "after the frame"}}, path="/chat")
        again.drain()
        bodies = [m["body"] for m in again.latest(CustomerChatState)["messages"]]
    finally:
        again.close()
    assert bodies == [m["body"] for m in before["messages"]] + ["after the frame"]  # the frame left nothing behind
    assert _customers_named(world, "Megabyte") == 0
