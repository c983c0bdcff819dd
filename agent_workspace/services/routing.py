"""Queues, presence, capacity, claims and the timers (``sweep``).

Offers are made in ``offers``; its ``drain`` is re-exported here, as every
capacity event here ends in one. Every claim is a conditional UPDATE whose
row count is checked, inside a transaction that first locks the agent
(``SELECT … FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so two
agents never get the same chat and one agent never exceeds their capacity,
whichever process they are on. Timers are stored timestamps swept by
``sweep``, so they survive restarts and work with any number of workers.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from agent_workspace.models import (
    Interaction,
    InteractionState,
    Message,
    OfferRejection,
    Presence,
    Queue,
    QueueMember,
    SenderKind,
    User,
    non_null,
    stored_id,
    utcnow,
)
from agent_workspace.services import absence, audit, notices
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.availability import WAITING_STATES
from agent_workspace.services.errors import Conflict, Forbidden, NotFound, ValidationError
from agent_workspace.services.events import AgentChanged, InteractionChanged, QueueChanged, announce
from agent_workspace.services.offers import closed_queues, drain

CLAIM_RETRIES = 5


@dataclass(frozen=True)
class AgentLoad:
    user_id: int
    display_name: str
    presence: str
    capacity: int
    active_chats: int


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def create_queue(session: Session, *, name: str, description: str = "") -> Queue:
    name = name.strip()
    if not 2 <= len(name) <= 80:
        raise ValidationError("A queue name has 2-80 characters.")
    if session.exec(select(Queue).where(Queue.name == name)).first():
        raise Conflict(f"A queue named {name!r} exists already.")
    queue = Queue(name=name, description=description.strip()[:500])
    session.add(queue)
    session.flush()
    audit.record(
        session, action=AuditAction.QUEUE_CREATED, actor_kind="system", target_kind="queue", target_id=queue.id
    )
    session.commit()
    return queue


def active_queues(session: Session) -> list[Queue]:
    return list(session.exec(select(Queue).where(col(Queue.active).is_(True)).order_by(Queue.name)))


def add_member(session: Session, *, queue_id: int, user_id: int) -> None:
    if session.get(QueueMember, (queue_id, user_id)) is None:
        session.add(QueueMember(queue_id=queue_id, user_id=user_id))
        session.commit()


def queue_ids_of(session: Session, user_id: int) -> list[int]:
    return list(session.exec(select(QueueMember.queue_id).where(QueueMember.user_id == user_id)))


def active_chat_count(session: Session, user_id: int) -> int:
    return active_chat_counts(session, user_ids=[user_id]).get(user_id, 0)


def active_chat_counts(session: Session, *, user_ids: Collection[int]) -> dict[int, int]:
    """Chats each agent is working on now (agents with none are left out)."""
    rows = session.connection().execute(_ACTIVE_CHAT_COUNTS, {"user_ids": list(user_ids)})
    return dict(rows.all())


_ACTIVE_CHAT_COUNTS = (
    sa_select(non_null(Interaction.agent_id), func.count())
    .where(
        col(Interaction.agent_id).in_(bindparam("user_ids", expanding=True)),
        col(Interaction.state) == InteractionState.WORK_IN_PROGRESS,
    )
    .group_by(col(Interaction.agent_id))
)


def _pending_offer_count(session: Session, user_id: int) -> int:
    return session.exec(
        select(func.count()).where(
            Interaction.offered_to_id == user_id,
            Interaction.state == InteractionState.OFFERED,
        )
    ).one()


def lock_agent(session: Session, user_id: int) -> User:
    """Serialise every capacity decision for one agent."""
    stmt = select(User).where(User.id == user_id)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    user = session.exec(stmt).first()
    if user is None:
        raise NotFound("No such agent.")
    return user


# ---------------------------------------------------------------- presence


def set_presence(session: Session, *, user_id: int, presence: str) -> None:
    """Change an agent's presence; leaving Available hands back pending offers.

    The agent's queues change too: who is available is what their waiting
    customers are told (``services.availability``)."""
    if presence not in {p.value for p in Presence}:
        raise ValidationError("Presence is Available, Away or Offline.")
    user = lock_agent(session, user_id)
    announce(session, AgentChanged(user_id))
    if user.presence != presence:
        user.presence = presence
        user.presence_changed_at = utcnow()
        audit.record(
            session,
            action=AuditAction.PRESENCE_CHANGED,
            actor_kind="agent",
            actor_id=user_id,
            target_kind="user",
            target_id=user_id,
            presence=presence,
        )
        announce(session, *(QueueChanged(queue_id) for queue_id in queue_ids_of(session, user_id)))
    released = _release_offers_of(session, user_id) if presence != Presence.AVAILABLE else 0
    if presence == Presence.AVAILABLE:  # "you are Away", "you were set Offline" are no longer true
        notices.retire_topic(session, user_id=user_id, topic=notices.UNTIL_AVAILABLE)
    session.commit()
    if presence == Presence.AVAILABLE or released:
        drain(session)


def set_after_hours(session: Session, *, user_id: int, enabled: bool) -> None:
    """Opt in (or out) to be offered chats of the agent's queues while they are closed."""
    user = lock_agent(session, user_id)
    announce(session, AgentChanged(user_id))
    if user.after_hours != enabled:
        user.after_hours = enabled
        audit.record(
            session,
            action=AuditAction.PRESENCE_AFTER_HOURS,
            actor_kind="agent",
            actor_id=user_id,
            target_kind="user",
            target_id=user_id,
            enabled=enabled,
        )
        announce(session, *(QueueChanged(queue_id) for queue_id in queue_ids_of(session, user_id)))
    session.commit()
    if enabled:
        drain(session)


def touch_agent(session: Session, *, user_id: int) -> None:
    """Record that a browser tab of this agent is alive (heartbeat)."""
    session.execute(update(User).where(col(User.id) == user_id).values(last_seen_at=utcnow()))
    session.commit()


# ---------------------------------------------------------------- claims


def _offered_to(user_id: int, queue_id: int):
    return and_(
        col(Interaction.queue_id) == queue_id,
        col(Interaction.state) == InteractionState.OFFERED,
        col(Interaction.offered_to_id) == user_id,
    )


def _eligible_for(user_id: int, queue_id: int):
    rejected = exists().where(
        col(OfferRejection.interaction_id) == col(Interaction.id), col(OfferRejection.user_id) == user_id
    )
    return and_(
        col(Interaction.queue_id) == queue_id,
        or_(
            and_(col(Interaction.state) == InteractionState.QUEUED, ~rejected),
            and_(col(Interaction.state) == InteractionState.OFFERED, col(Interaction.offered_to_id) == user_id),
        ),
    )


def closed_queue_refusal(queue_name: str) -> str:
    return f"{queue_name} is closed now. Switch on Take chats after hours to take its chats."


def accept(session: Session, *, user_id: int, queue_id: int, offer_id: int | None = None) -> Interaction:
    """Claim the oldest request of ``queue_id`` that this agent may take, or the
    chat ``offer_id`` if it is offered to them (Accept on that offer's card).

    One transaction: lock the agent, check presence, membership, capacity and
    the queue's business hours (outside them only an agent who opted in, or
    one accepting their own offer), then a conditional UPDATE that only one
    claimant can win.
    """
    agent = lock_agent(session, user_id)
    if agent.presence != Presence.AVAILABLE:
        raise Forbidden("Set yourself Available to accept chats.")
    if session.get(QueueMember, (queue_id, user_id)) is None:
        raise Forbidden("You are not a member of that queue.")
    if active_chat_count(session, user_id) >= agent.capacity:
        raise Conflict(f"You are at your capacity of {agent.capacity} chats. Close one first.")
    mine = _offered_to(user_id, queue_id)
    if not agent.after_hours and queue_id in closed_queues(session, {queue_id}, utcnow()):
        eligible = and_(_eligible_for(user_id, queue_id), mine)  # only what was offered before it closed
        if session.exec(select(Interaction.id).where(eligible).limit(1)).first() is None:
            raise Forbidden(closed_queue_refusal(session.get_one(Queue, queue_id).name))
    else:
        eligible = _eligible_for(user_id, queue_id)
    for _ in range(CLAIM_RETRIES):
        candidate = select(Interaction.id).where(eligible)
        # The card's offer first if it is this agent's, then the oldest: no picking out of line.
        first = (
            [~and_(col(Interaction.id) == offer_id, mine)]
            if isinstance(offer_id, int) and not isinstance(offer_id, bool)
            else []
        )
        candidate = candidate.order_by(*first, col(Interaction.requested_at), col(Interaction.id)).limit(1)
        if is_postgres(session):
            candidate = candidate.with_for_update(skip_locked=True)
        interaction_id = session.exec(candidate).first()
        if interaction_id is None:
            raise NotFound("No customer is waiting in this queue any more.")
        now = utcnow()
        claimed = session.exec(
            update(Interaction)
            .where(col(Interaction.id) == interaction_id, eligible)
            .values(
                state=InteractionState.WORK_IN_PROGRESS,
                agent_id=user_id,
                accepted_at=now,
                offered_to_id=None,
                offered_at=None,
                offer_expires_at=None,
                updated_at=now,
            )
        )
        if claimed.rowcount == 1:
            break
    else:
        raise Conflict("Another agent took that chat; try again.")
    item = session.get_one(Interaction, interaction_id)
    session.refresh(item)
    if item.wait_seconds is None:
        item.wait_seconds = int((now - item.requested_at).total_seconds())
    session.add(
        Message(
            interaction_id=stored_id(item),
            sender_kind=SenderKind.SYSTEM,
            sender_name="System",
            body=f"{agent.display_name} joined the chat.",
            client_id=f"sys-accept-{item.id}-{int(now.timestamp() * 1000)}",
        )
    )
    audit.record(
        session,
        action=AuditAction.INTERACTION_ACCEPTED,
        actor_kind="agent",
        actor_id=user_id,
        target_kind="interaction",
        target_id=item.id,
        wait_seconds=item.wait_seconds,
    )
    announce(session, InteractionChanged(stored_id(item)), QueueChanged(queue_id), AgentChanged(user_id))
    # The agent's load changed: what every queue of theirs tells its waiting customers did too.
    announce(session, *(QueueChanged(other) for other in queue_ids_of(session, user_id)))
    released = _release_offers_of(session, user_id) if active_chat_count(session, user_id) >= agent.capacity else 0
    session.commit()
    if released:
        drain(session)
    return item


def reject(session: Session, *, user_id: int, interaction_id: int, reason: str) -> None:
    """Decline a waiting chat: it goes back to the queue and is never offered to this agent again."""
    reason = reason.strip()
    if not reason:
        raise ValidationError("Give a reason for rejecting the chat.")
    if len(reason) > 500:
        raise ValidationError("Keep the reason under 500 characters.")
    item = session.get(Interaction, interaction_id)
    if item is None or session.get(QueueMember, (item.queue_id, user_id)) is None:
        raise NotFound("No such chat in your queues.")
    if item.state not in WAITING_STATES:
        raise Conflict("That chat is no longer waiting.")
    if item.state == InteractionState.OFFERED and item.offered_to_id != user_id:
        raise Conflict("That chat is offered to another agent.")
    if session.get(OfferRejection, (interaction_id, user_id)) is None:
        session.add(OfferRejection(interaction_id=interaction_id, user_id=user_id, reason=reason))
    if item.state == InteractionState.OFFERED:
        _requeue(item)
    audit.record(
        session,
        action=AuditAction.INTERACTION_REJECTED,
        actor_kind="agent",
        actor_id=user_id,
        target_kind="interaction",
        target_id=interaction_id,
        reason=reason,
    )
    announce(session, QueueChanged(item.queue_id), AgentChanged(user_id))
    session.commit()
    drain(session)  # the freed seat may take a chat from any of the agent's queues


def _requeue(item: Interaction) -> None:
    item.state = InteractionState.QUEUED
    item.offered_to_id = None
    item.offered_at = None
    item.offer_expires_at = None
    item.updated_at = utcnow()


def _release_offers_of(session: Session, user_id: int) -> int:
    """Hand an agent's pending offers back to their queues, each in the audit trail
    (no commit); how many."""
    released = 0
    for item in session.exec(
        select(Interaction).where(Interaction.offered_to_id == user_id, Interaction.state == InteractionState.OFFERED)
    ):
        _requeue(item)
        audit.record(
            session,
            action=AuditAction.INTERACTION_OFFER_WITHDRAWN,
            actor_kind="system",
            target_kind="interaction",
            target_id=item.id,
            agent_id=user_id,
        )
        announce(session, QueueChanged(item.queue_id))
        released += 1
    return released


# ---------------------------------------------------------------- timers


def sweep(
    session: Session, *, presence_grace_seconds: int, now: datetime | None = None, hours_turned: Collection[int] = ()
) -> None:
    """Expire lapsed offers and agents whose tabs are all gone (their live chats go
    back in line: ``absence``); tell queues whose
    business hours have just opened or closed them (``hours_turned``, as the
    caller saw it) and drain what opened.

    A lapsed offer is not a rejection: the chat goes back to its place in line
    and is offered to the next eligible agent; the agent who let it lapse is
    set Away and told why, and is offered it again once they are Available.
    Safe to run in every worker at once: every change is a conditional update.
    """
    now = now or utcnow()
    changed = bool(hours_turned)
    announce(session, *(QueueChanged(queue_id) for queue_id in hours_turned))
    lapsed = list(
        session.exec(
            select(Interaction).where(
                Interaction.state == InteractionState.OFFERED, col(Interaction.offer_expires_at) < now
            )
        )
    )
    for item in lapsed:
        agent_id = item.offered_to_id
        result = session.exec(
            update(Interaction)
            .where(
                col(Interaction.id) == item.id,
                col(Interaction.state) == InteractionState.OFFERED,
                col(Interaction.offered_to_id) == agent_id,
            )
            .values(
                state=InteractionState.QUEUED,
                offered_to_id=None,
                offered_at=None,
                offer_expires_at=None,
                updated_at=now,
            )
        )
        if result.rowcount != 1 or agent_id is None:
            continue
        set_away = session.exec(
            update(User)
            .where(col(User.id) == agent_id, col(User.presence) == Presence.AVAILABLE)
            .values(presence=Presence.AWAY, presence_changed_at=now)
        )
        queue = session.get_one(Queue, item.queue_id)
        if set_away.rowcount == 1:
            audit.record(
                session,
                action=AuditAction.PRESENCE_AWAY_AFTER_MISSED_OFFER,
                actor_kind="system",
                target_kind="user",
                target_id=agent_id,
                interaction_id=item.id,
            )
            notices.notify(
                session,
                user_id=agent_id,
                body=f"You missed an offer from {queue.name}; you are Away. Set yourself Available to get chats again.",
                level="warning",
                topic=notices.NoticeTopic.PRESENCE,
            )
        audit.record(
            session,
            action=AuditAction.INTERACTION_OFFER_TIMED_OUT,
            actor_kind="system",
            target_kind="interaction",
            target_id=item.id,
            agent_id=agent_id,
        )
        announce(session, QueueChanged(item.queue_id), AgentChanged(agent_id))
        _not_available(session, agent_id)
        changed = True
    cutoff = now - timedelta(seconds=presence_grace_seconds)
    changed = absence.return_chats_of_absent_agents(session, seen_before=cutoff, now=now) or changed
    gone = list(
        session.exec(
            select(non_null(User.id)).where(
                User.presence != Presence.OFFLINE,
                or_(col(User.last_seen_at).is_(None), col(User.last_seen_at) < cutoff),
            )
        )
    )
    for user_id in gone:
        result = session.exec(
            update(User)
            .where(
                col(User.id) == user_id,
                col(User.presence) != Presence.OFFLINE,
                or_(col(User.last_seen_at).is_(None), col(User.last_seen_at) < cutoff),
            )
            .values(presence=Presence.OFFLINE, presence_changed_at=now)
        )
        if result.rowcount == 1:
            audit.record(
                session, action=AuditAction.PRESENCE_EXPIRED, actor_kind="system", target_kind="user", target_id=user_id
            )
            absence.tell_set_offline(session, user_id=user_id)
            announce(session, AgentChanged(user_id))
            _not_available(session, user_id)
            changed = True
    session.commit()
    if changed:
        drain(session, now=now)


def _not_available(session: Session, user_id: int) -> None:
    """An agent stopped being Available: their other offers go back, and their
    queues' waiting customers are told who is left (no commit)."""
    _release_offers_of(session, user_id)
    announce(session, *(QueueChanged(queue_id) for queue_id in queue_ids_of(session, user_id)))


def agent_loads(session: Session, *, queue_id: int | None = None) -> list[AgentLoad]:
    """Agents with presence and load, for transfer pickers and the dashboard."""
    wip = (
        select(func.count())
        .where(Interaction.agent_id == User.id, Interaction.state == InteractionState.WORK_IN_PROGRESS)
        .scalar_subquery()
    )
    stmt = select(User, wip).where(col(User.active).is_(True), col(User.roles).contains("workspace_user"))
    if queue_id is not None:
        stmt = stmt.join(QueueMember, col(QueueMember.user_id) == col(User.id)).where(QueueMember.queue_id == queue_id)
    return [
        AgentLoad(stored_id(user), user.display_name, user.presence, user.capacity, count)
        for user, count in session.exec(stmt.order_by(User.display_name))
    ]
