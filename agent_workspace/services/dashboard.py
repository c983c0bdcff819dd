"""Supervisor numbers: live queue and agent figures over a bounded window (today).

Every query is bounded by the window's start and uses the timestamp indexes,
so the dashboard costs the same on day 1 and on day 1,000.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, func, select

from agent_workspace.models import (
    AuditLog,
    Customer,
    Interaction,
    InteractionState,
    Queue,
    User,
    non_null,
    stored_id,
    utcnow,
)
from agent_workspace.services import audit_words, routing
from agent_workspace.services import hours as business_hours
from agent_workspace.services.audit import AuditAction


@dataclass(frozen=True)
class QueueStats:
    queue_id: int
    name: str
    waiting: int
    longest_wait_seconds: int
    average_wait_seconds: int
    accepted_today: int
    abandoned_today: int
    transferred_today: int
    average_rating: float | None
    ratings_today: int
    hours_status: str  # "Open" or "Closed (opens Mon 09:00 Europe/Berlin)", at ``now``


@dataclass(frozen=True)
class AgentStats:
    user_id: int
    display_name: str
    presence: str
    active_chats: int
    capacity: int
    handled_today: int
    average_handle_seconds: int


@dataclass(frozen=True)
class HourBucket:
    hour: str
    requests: int
    average_wait_seconds: int


@dataclass(frozen=True)
class ActiveChat:
    interaction_id: int
    number: str
    customer_name: str
    queue_name: str
    agent_name: str
    state: str
    requested_at: datetime


def start_of_day(now: datetime | None = None) -> datetime:
    now = now or utcnow()
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _as_utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def queue_stats(session: Session, *, since: datetime, now: datetime | None = None) -> list[QueueStats]:
    now = now or utcnow()
    result = []
    for queue in routing.active_queues(session):
        waiting_since = list(
            session.exec(
                select(Interaction.requested_at).where(
                    Interaction.queue_id == queue.id, col(Interaction.state).in_(routing.WAITING_STATES)
                )
            )
        )
        waits = [(now - _as_utc(at)).total_seconds() for at in waiting_since]

        def count(*conditions, queue_id: int = stored_id(queue)) -> int:
            return session.exec(
                select(func.count()).select_from(Interaction).where(Interaction.queue_id == queue_id, *conditions)
            ).one()

        transferred = session.exec(
            select(func.count())
            .select_from(AuditLog)
            .where(
                AuditLog.action == AuditAction.INTERACTION_TRANSFERRED_TO_QUEUE,
                AuditLog.at >= since,
                col(AuditLog.detail).contains(f'"from_queue": {queue.id},'),
            )
        ).one()
        ratings = list(
            session.exec(
                select(non_null(Interaction.rating)).where(
                    Interaction.queue_id == queue.id,
                    col(Interaction.closed_at) >= since,
                    col(Interaction.rating).is_not(None),
                )
            )
        )
        result.append(
            QueueStats(
                queue_id=stored_id(queue),
                name=queue.name,
                waiting=len(waits),
                longest_wait_seconds=int(max(waits, default=0)),
                average_wait_seconds=int(sum(waits) / len(waits)) if waits else 0,
                accepted_today=count(col(Interaction.accepted_at) >= since),
                abandoned_today=count(
                    Interaction.state == InteractionState.CLOSED_ABANDONED, col(Interaction.closed_at) >= since
                ),
                transferred_today=transferred,
                average_rating=round(sum(ratings) / len(ratings), 1) if ratings else None,
                ratings_today=len(ratings),
                hours_status=business_hours.status_text(business_hours.hours_of(queue), now),
            )
        )
    return result


def agent_stats(session: Session, *, since: datetime) -> list[AgentStats]:
    result = []
    for load in routing.agent_loads(session):
        handled = list(
            session.exec(
                select(Interaction.accepted_at, Interaction.closed_at).where(
                    Interaction.agent_id == load.user_id,
                    Interaction.state == InteractionState.CLOSED_COMPLETE,
                    col(Interaction.closed_at) >= since,
                )
            )
        )
        durations = [
            (_as_utc(closed) - _as_utc(accepted)).total_seconds() for accepted, closed in handled if accepted and closed
        ]
        result.append(
            AgentStats(
                user_id=load.user_id,
                display_name=load.display_name,
                presence=load.presence,
                active_chats=load.active_chats,
                capacity=load.capacity,
                handled_today=len(handled),
                average_handle_seconds=int(sum(durations) / len(durations)) if durations else 0,
            )
        )
    return result


def hourly(session: Session, *, since: datetime, now: datetime | None = None) -> list[HourBucket]:
    """Requests and average wait per hour of the window (for the charts)."""
    now = now or utcnow()
    rows = list(
        session.exec(
            select(Interaction.requested_at, Interaction.wait_seconds).where(Interaction.requested_at >= since)
        )
    )
    hours = int((now - since).total_seconds() // 3600) + 1
    buckets: list[list[int]] = [[] for _ in range(hours)]
    counts = [0] * hours
    for requested_at, wait in rows:
        index = min(int((_as_utc(requested_at) - since).total_seconds() // 3600), hours - 1)
        counts[index] += 1
        if wait is not None:
            buckets[index].append(wait)
    return [
        HourBucket(
            hour=(since + timedelta(hours=i)).strftime("%H:00"),
            requests=counts[i],
            average_wait_seconds=int(sum(buckets[i]) / len(buckets[i])) if buckets[i] else 0,
        )
        for i in range(hours)
    ]


def active_chats(session: Session) -> list[ActiveChat]:
    rows = session.exec(
        select(Interaction, Customer.name, Queue.name, User.display_name)
        .join(Customer, col(Customer.id) == col(Interaction.customer_id))
        .join(Queue, col(Queue.id) == col(Interaction.queue_id))
        .join(User, col(User.id) == col(Interaction.agent_id), isouter=True)
        .where(col(Interaction.state).in_((*routing.WAITING_STATES, InteractionState.WORK_IN_PROGRESS)))
        .order_by(col(Interaction.requested_at))
        .limit(200)
    ).all()
    return [
        ActiveChat(stored_id(item), item.number or "", customer, queue, agent or "", item.state, item.requested_at)
        for item, customer, queue, agent in rows
    ]


def recent_audit(session: Session, *, limit: int = 100) -> list[tuple[datetime, str, str, str]]:
    """(at, actor, action, sentence) newest first, in words (``audit_words``): the
    names behind the rows' ids are read once for the whole page of rows."""
    entries = list(session.exec(select(AuditLog).order_by(col(AuditLog.id).desc()).limit(limit)))
    return [
        (line.at, line.actor, audit_words.action_label(entry.action), line.text)
        for entry, line in zip(entries, audit_words.describe(session, entries))
    ]
