"""Who hears about a change (``audience.tokens_for`` against a real database), and
how queue changes to many tabs are gathered and read ahead once."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import reflex as rx
from sqlmodel import Session

from agent_workspace import realtime
from agent_workspace.models import ClientKind, Presence
from agent_workspace.services import audience, conversations, routing
from agent_workspace.services.events import AgentChanged, InteractionChanged, QueueChanged
from tests.factories import make_queue
from tests.services.helpers import make_agent


def _chat(session: Session, queue, name: str) -> int:
    started = conversations.start_chat(
        session, name=name, email=f"{name.lower()}@example.com", queue_id=queue.id, question="Help?"
    )
    audience.register_client(session, token=f"customer-{name}", kind="customer", interaction_id=started.id)
    return started.id


def _heard(session: Session, changes: list) -> dict[str, tuple[str, list]]:
    return {
        token: (target.kind, list(target.changes)) for token, target in audience.tokens_for(session, changes).items()
    }


def _world(session: Session):
    billing, shipping = make_queue(session, "Billing"), make_queue(session, "Shipping")
    grace = make_agent(session, "grace", queues=[billing], presence=Presence.AWAY)
    alan = make_agent(session, "alan", queues=[billing], presence=Presence.AWAY)
    ship = make_agent(session, "ship", queues=[shipping], presence=Presence.AWAY)
    for agent in (grace, alan, ship):
        audience.register_client(session, token=f"agent-{agent.username}", kind="agent", user_id=agent.id)
    return billing, shipping, grace, alan, ship


def test_a_chat_change_reaches_its_customer_and_its_agent_only(session: Session) -> None:
    billing, shipping, grace, _alan, _ship = _world(session)
    chat = _chat(session, billing, "Ada")
    _chat(session, billing, "Bob")
    routing.set_presence(session, user_id=grace.id, presence=Presence.AVAILABLE)
    routing.accept(session, user_id=grace.id, queue_id=billing.id)

    assert _heard(session, [InteractionChanged(chat)]) == {
        "customer-Ada": ("customer", [InteractionChanged(chat)]),
        "agent-grace": ("agent", [InteractionChanged(chat)]),
    }


def test_a_supervisor_tab_hears_only_the_chat_it_watches(session: Session) -> None:
    """Not its user's queues or presence: the dashboard ticks; the read-only chat is live."""
    billing, _shipping, grace, _alan, _ship = _world(session)
    chat = _chat(session, billing, "Ada")
    audience.register_client(session, token="supervisor-grace", kind="supervisor", user_id=grace.id)
    assert "supervisor-grace" not in _heard(session, [InteractionChanged(chat), QueueChanged(billing.id)])
    audience.register_client(
        session, token="supervisor-grace", kind="supervisor", user_id=grace.id, interaction_id=chat
    )
    heard = _heard(session, [InteractionChanged(chat), QueueChanged(billing.id), AgentChanged(grace.id)])
    assert heard["supervisor-grace"] == ("supervisor", [InteractionChanged(chat)])
    assert heard["agent-grace"][1] == [QueueChanged(billing.id), AgentChanged(grace.id)]


def test_an_offered_chat_change_reaches_the_agent_it_is_offered_to(session: Session) -> None:
    billing, _shipping, grace, _alan, _ship = _world(session)
    routing.set_presence(session, user_id=grace.id, presence=Presence.AVAILABLE)
    chat = _chat(session, billing, "Ada")
    routing.drain(session)

    assert _heard(session, [InteractionChanged(chat)]) == {
        "customer-Ada": ("customer", [InteractionChanged(chat)]),
        "agent-grace": ("agent", [InteractionChanged(chat)]),
    }


def test_a_queue_change_reaches_its_members_and_the_customers_waiting_in_it(session: Session) -> None:
    billing, shipping, grace, _alan, _ship = _world(session)
    _chat(session, billing, "Ada")
    _chat(session, billing, "Bob")
    _chat(session, shipping, "Cy")
    routing.set_presence(session, user_id=grace.id, presence=Presence.AVAILABLE)
    routing.accept(session, user_id=grace.id, queue_id=billing.id)  # Ada is now chatting, not waiting

    moved = [QueueChanged(billing.id)]
    assert _heard(session, moved) == {
        "agent-grace": ("agent", moved),
        "agent-alan": ("agent", moved),
        "customer-Bob": ("customer", moved),
    }


def test_each_tab_hears_only_the_changes_that_concern_it(session: Session, announced) -> None:
    """An accept tells the queue's members the queue moved; only the chat's own
    agent and customer hear that the chat changed."""
    billing, _shipping, grace, alan, _ship = _world(session)
    ada = _chat(session, billing, "Ada")
    _chat(session, billing, "Bob")
    routing.set_presence(session, user_id=grace.id, presence=Presence.AVAILABLE)
    announced.take()
    routing.accept(session, user_id=grace.id, queue_id=billing.id)
    changes = announced.take()

    heard = _heard(session, changes)
    assert heard["agent-grace"] == ("agent", changes)
    assert heard["customer-Ada"] == ("customer", [InteractionChanged(ada)])
    assert heard["agent-alan"] == ("agent", [QueueChanged(billing.id)])
    assert heard["customer-Bob"] == ("customer", [QueueChanged(billing.id)])
    assert set(heard) == {"agent-grace", "customer-Ada", "agent-alan", "customer-Bob"}


def test_an_agent_change_reaches_that_agent_only_and_nothing_reaches_no_one(session: Session) -> None:
    _billing, _shipping, _grace, alan, _ship = _world(session)
    assert _heard(session, [AgentChanged(alan.id)]) == {"agent-alan": ("agent", [AgentChanged(alan.id)])}
    assert _heard(session, []) == {}


# ------------------------------------------------------------------ gathering


class _Tab:
    """Stands in for a tab's state: records what each push handed it."""

    def __init__(self) -> None:
        self.pushes: list[tuple[list, object]] = []

    async def _receive(self, changes, prefetched) -> None:
        self.pushes.append((changes, prefetched))


class _Tabs:
    """Stands in for the app's ``modify_state``: one ``_Tab`` per client token."""

    def __init__(self) -> None:
        self.tabs: dict[str, _Tab] = {}

    @contextlib.asynccontextmanager
    async def modify_state(self, token):
        tab = self.tabs.setdefault(token.ident, _Tab())

        class Root:
            async def get_state(self, _cls):
                return tab

        yield Root()


def test_queue_changes_to_many_tabs_are_read_ahead_once_for_all_of_them(monkeypatch) -> None:
    reads: list[dict[str, list]] = []

    async def read_ahead(batch):
        reads.append(batch)
        return {token: f"read for {token}" for token in batch}

    app = _Tabs()
    monkeypatch.setattr(realtime, "_app", app)
    monkeypatch.setitem(realtime._receivers, "agent", realtime.Receiver(rx.State, read_ahead))
    monkeypatch.setitem(realtime.QUEUE_REFRESH_SECONDS, "agent", 0.05)

    async def scenario() -> None:
        await realtime.push_to_tab("tab-1", "agent", [QueueChanged(1)])
        await realtime.push_to_tab("tab-2", "agent", [QueueChanged(1)])
        await realtime.push_to_tab("tab-1", "agent", [QueueChanged(2), QueueChanged(1)])
        await realtime.push_to_tab(
            "tab-3", "agent", [AgentChanged(7)]
        )  # not a queue change: pushed at once, read alone
        while realtime._background:
            await asyncio.gather(*realtime._background)

    asyncio.run(scenario())

    assert reads == [
        {"tab-3": [AgentChanged(7)]},
        {"tab-1": [QueueChanged(1), QueueChanged(2)], "tab-2": [QueueChanged(1)]},
    ]
    assert app.tabs["tab-1"].pushes == [([QueueChanged(1), QueueChanged(2)], "read for tab-1")]
    assert app.tabs["tab-2"].pushes == [([QueueChanged(1)], "read for tab-2")]
    assert app.tabs["tab-3"].pushes == [([AgentChanged(7)], "read for tab-3")]


def test_a_state_class_without_a_receiver_cannot_take_pushes() -> None:
    from agent_workspace.state.supervisor import SupervisorState

    class NoReceiver:  # as a state class named its push method before sync.Receiver
        async def _on_changes(self, changes) -> None: ...

    with pytest.raises(TypeError, match="_receive"):
        realtime.register_receiver(ClientKind.SUPERVISOR, NoReceiver)  # type: ignore[arg-type]
    assert realtime._receivers[ClientKind.SUPERVISOR].state_cls is SupervisorState


def test_the_audience_of_a_change_is_one_statement_on_a_bare_connection(session: Session, monkeypatch) -> None:
    """``resolve`` runs after every message: no unit of work (nothing is written), one statement."""
    from sqlalchemy import event

    from agent_workspace import db

    billing, _shipping, grace, _alan, _ship = _world(session)
    chat = _chat(session, billing, "Ada")
    monkeypatch.setattr(realtime, "session_scope", None)  # a unit of work here would fail
    ran: list[str] = []
    reader = db.get_engine(writer=False)
    listener = lambda _c, _cur, statement, *_a: ran.append(statement)  # noqa: E731
    event.listen(reader, "before_cursor_execute", listener)
    try:
        targets = realtime.resolve([InteractionChanged(chat), AgentChanged(grace.id)])
    finally:
        event.remove(reader, "before_cursor_execute", listener)
    assert {token: target.kind for token, target in targets.items()} == {
        "customer-Ada": "customer",
        "agent-grace": "agent",
    }
    assert len([s for s in ran if not s.startswith("BEGIN")]) == 1
