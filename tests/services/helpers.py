"""Helpers for the routing / conversation service tests (on top of tests.factories)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypeVar

from argon2 import PasswordHasher
from sqlalchemy import update
from sqlmodel import Session, SQLModel, col, func, select

from agent_workspace.models import (
    Customer,
    Interaction,
    InteractionState,
    Message,
    Presence,
    Queue,
    QueueMember,
    SenderKind,
    User,
    utcnow,
)
from agent_workspace.services import auth, conversations, routing
from tests.factories import make_customer, make_interaction, make_user

T = TypeVar("T", bound=SQLModel)

# Offers lapse after this long in the routing tests (the ``offer_timeout`` fixture).
OFFER_SECONDS = 30

# A fixed, distinct past instant so requested_at values are fully under the test's control.
T0 = datetime(2025, 1, 1, 9, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """T0 plus ``seconds``: a requested_at that orders exactly as the test says."""
    return T0 + timedelta(seconds=seconds)


def make_agent(
    session: Session,
    username: str,
    *,
    queues: list[Queue] = (),
    capacity: int = 4,
    presence: str = Presence.AVAILABLE,
    presence_changed_at: datetime | None = None,
) -> User:
    """A workspace user, member of ``queues``, with the presence set directly (no drain)."""
    user = make_user(session, username, capacity=capacity)
    for queue in queues:
        session.add(QueueMember(queue_id=queue.id, user_id=user.id))
    user.presence = presence
    user.last_seen_at = utcnow()
    if presence_changed_at is not None:
        user.presence_changed_at = presence_changed_at
    session.add(user)
    session.commit()
    return user


def make_waiting(
    session: Session,
    queue: Queue,
    *,
    requested_at: datetime | None = None,
    customer: Customer | None = None,
    question: str = "Where is my order?",
) -> Interaction:
    """A QUEUED request (no drain runs), optionally with an exact requested_at."""
    customer = customer or make_customer(session, name="Customer", email="c@example.com")
    item = make_interaction(
        session,
        queue=queue,
        customer=customer,
        state=InteractionState.QUEUED,
        question=question,
        short_description=question[:160],
    )
    if requested_at is not None:
        item.requested_at = requested_at
        session.add(item)
        session.commit()
    return item


def fresh(session: Session, model: type[T], key) -> T:
    """The row as the database has it now (drops whatever the identity map holds)."""
    session.expire_all()
    row = session.get(model, key)
    assert row is not None
    return row


def state_of(session: Session, item: Interaction) -> str:
    return fresh(session, Interaction, item.id).state


def wip_count(session: Session, user_id: int) -> int:
    session.expire_all()
    return session.exec(
        select(func.count()).where(
            Interaction.agent_id == user_id, Interaction.state == InteractionState.WORK_IN_PROGRESS
        )
    ).one()


def offers_to(session: Session, user_id: int) -> list[int]:
    session.expire_all()
    return list(
        session.exec(
            select(Interaction.id)
            .where(Interaction.offered_to_id == user_id, Interaction.state == InteractionState.OFFERED)
            .order_by(col(Interaction.id))
        )
    )


def touch_all(session: Session, when: datetime) -> None:
    """Every agent's tab was last seen at ``when``."""
    session.execute(update(User).values(last_seen_at=when))
    session.commit()


def count(session: Session, model: type[SQLModel]) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def use_fast_argon2(monkeypatch) -> None:
    """Still argon2id, with test-sized costs (tests/services/test_auth.py checks the
    production ones, which take ~0.2 s a hash)."""
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", fast)
    monkeypatch.setattr(auth, "_DUMMY_HASH", fast.hash("timing-equaliser"))


# ---------------------------------------------------------------- chats through the real services


def start(
    session: Session,
    queue: Queue,
    *,
    name: str = "Ada Lovelace",
    email: str = "ada@example.com",
    question: str = "My invoice shows the wrong amount.",
) -> Interaction:
    """A chat started as a customer starts one (so it is offered if an agent is free)."""
    return conversations.start_chat(session, name=name, email=email, queue_id=queue.id, question=question)


def accept(session: Session, user: User, queue: Queue) -> Interaction:
    """The chat ``user`` gets by pressing Accept on ``queue``."""
    item = routing.accept(session, user_id=user.id, queue_id=queue.id)
    return item


def live_chat(session: Session, queue: Queue, agent: User) -> Interaction:
    """A new chat that ``agent`` accepted: both sides may write."""
    item = start(session, queue)
    claimed = routing.accept(session, user_id=agent.id, queue_id=queue.id)
    assert claimed.id == item.id
    return fresh(session, Interaction, item.id)


_client_ids = iter(range(10**6))


def post(
    session: Session, item: Interaction, body: str, *, kind=SenderKind.CUSTOMER, user=None, client_id: str | None = None
) -> Message:
    """``body`` sent in ``item`` by the customer (or, with ``kind`` and ``user``, an agent)."""
    message, _ = conversations.post_message(
        session,
        interaction_id=item.id,
        sender_kind=kind,
        body=body,
        client_id=client_id or f"client-{next(_client_ids):08d}",
        sender_user_id=user.id if user else None,
    )
    return message


def bodies(session: Session, item: Interaction, kind: str | None = None) -> list[str]:
    """The chat's message bodies in order, optionally of one sender kind."""
    session.expire_all()
    stmt = select(Message).where(Message.interaction_id == item.id).order_by(Message.id)
    if kind:
        stmt = stmt.where(Message.sender_kind == kind)
    return [m.body for m in session.exec(stmt)]
