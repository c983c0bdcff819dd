"""The record lists and record pages over the websocket: refused to anyone without
the workspace role, and a number guessed by an agent of another queue opens nothing."""

from __future__ import annotations

import pytest
from sqlmodel import select

from agent_workspace.models import Interaction, Queue, SupportRecord, User
from agent_workspace.state.customer import CustomerChatState
from agent_workspace.state.records import RecordListState, RecordPageState
from tests.e2e.record_handlers import RECORD_PAYLOADS
from tests.e2e.victim_chat import make_victim, victim_snapshot, wait_for_outbox
from tests.e2e.ws_callers import cookie_for
from tests.e2e.ws_client import EventClient

# Each handler with the page it is sent from (the record page reads its number from the route).
PAGES = {RecordListState: "/interactions", RecordPageState: "/interaction/IMS0001001"}


def _customer(world, client: EventClient) -> None:
    """The client starts a chat as a customer would: it holds a chat, not a session."""
    queue_name = world.queue("Curious")
    with world.session() as session:
        queue_id = session.exec(select(Queue.id).where(Queue.name == queue_name)).one()
    form = {
        "name": "Curious Customer",
        "email": "curious@example.com",
        "queue_id": str(queue_id),
        "question": "What can I see?",
    }
    client.send(CustomerChatState.on_load, path="/chat")
    client.send(CustomerChatState.event_handlers["start_chat"], {"form": form}, path="/chat")
    client.drain()


@pytest.mark.parametrize("caller", ["anonymous", "customer", "signed in without workspace_user"])
def test_record_handlers_refuse_callers_without_the_role(app_server, world, caller):
    cookie = None
    if caller == "signed in without workspace_user":
        cookie = cookie_for(world, *world.agent(queues=[world.queue()], roles=()))
    client = EventClient(app_server.base_url, cookie=cookie)
    try:
        if caller == "customer":
            _customer(world, client)
            assert client.latest(CustomerChatState).get("browser_key")
        for cls, path in PAGES.items():
            for name, handler in cls.event_handlers.items():
                client.send(handler, RECORD_PAYLOADS.get(name, {}), path=path)
        client.drain()
        touched = client.states_touched()
    finally:
        client.close()
    assert not {cls.get_full_name() for cls in PAGES} & touched


def _numbers(world, victim) -> tuple[str, str]:
    with world.session() as session:
        chat = session.get(Interaction, victim.chat_id).number
        record = session.exec(select(SupportRecord.number).where(SupportRecord.id == victim.record_id)).one()
    return chat, record


def _guesses(chat: str, record: str) -> list[str]:
    """The victim's own numbers as typed in any case, and their neighbours."""
    base = int(chat.removeprefix("IMS"))
    around = [f"/interaction/IMS{n:07d}" for n in range(base - 2, base + 3)]
    return [
        *around,
        f"/interaction/{chat.lower()}",
        f"/case/{chat}",
        f"/case/{record}",
        f"/incident/{record}",
        f"/interaction/{record}",
    ]


def test_an_agent_of_another_queue_guessing_numbers_opens_nothing(app_server, world, monkeypatch):
    victim = make_victim(world, monkeypatch)
    chat, record = _numbers(world, victim)
    intruder_name, intruder_password = world.agent(queues=[world.queue("Intruder")])
    with world.session() as session:
        intruder_id = session.exec(select(User.id).where(User.username == intruder_name)).one()
    cookie = cookie_for(world, intruder_name, intruder_password)
    wait_for_outbox(world, victim)
    before = victim_snapshot(world, victim, intruder_id)
    client = EventClient(app_server.base_url, cookie=cookie)
    try:
        for path in _guesses(chat, record):
            mark = client.mark()
            client.send(RecordPageState.event_handlers["load"], path=path)
            client.wait_for_value(RecordPageState, "loaded", True, after=mark)
            assert client.latest(RecordPageState).get("found") is not True, path
        client.send(RecordListState.event_handlers["load"], path="/interactions")
        client.send(
            RecordListState.event_handlers["run_search"], {"form": {"q": "Secret"}}, path="/interactions"
        )  # the victim's question
        client.drain()
    finally:
        client.close()
    received = "\n".join(client.received)
    leaked = [
        secret for secret in victim.secrets if secret in received and secret not in (chat, record)
    ]  # the numbers it typed come back in its own URL
    assert not leaked, f"the intruder received {leaked}"
    assert victim_snapshot(world, victim, intruder_id) == before


def test_the_queues_own_agent_opens_the_record_by_its_number(app_server, world, monkeypatch):
    """Positive control: the refusals above are the rule's doing, not a route that never loads."""
    victim = make_victim(world, monkeypatch)
    chat, _record = _numbers(world, victim)
    with world.session() as session:
        queue_name = session.get(Queue, victim.queue_id).name
    colleague, password = world.agent(queues=[queue_name])
    client = EventClient(app_server.base_url, cookie=cookie_for(world, colleague, password))
    try:
        client.send(RecordPageState.event_handlers["load"], path=f"/interaction/{chat}")
        client.wait_for_value(RecordPageState, "found", True)
        assert victim.secrets[0] in "\n".join(client.received)
    finally:
        client.close()
