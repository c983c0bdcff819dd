"""Offering waiting chats to Available agents with a free seat (``drain``).

Split from ``routing``, which re-exports ``drain``: every capacity event there
(presence, accept, reject, sweep) ends in one, and so do conversations,
transfers and business hours. Each offer is a conditional UPDATE, so any
number of processes may drain at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Result, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from agent_workspace.config import settings
from agent_workspace.models import (
    Interaction,
    InteractionState,
    OfferRejection,
    Presence,
    Queue,
    QueueMember,
    User,
    non_null,
    stored_id,
    utcnow,
)
from agent_workspace.services import audit, hours
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.events import ChatOffered, QueueChanged, announce


def drain(session: Session, *, queue_id: int | None = None, now: datetime | None = None) -> int:
    """Offer the oldest waiting chats to Available agents with free capacity.

    Called on every capacity event: arrival, close, transfer, reject, timeout,
    an agent becoming Available, a queue opening. Reads the free seats once
    (one query, usually answering "none"), then the waiting chats oldest first;
    each offer goes to the least-loaded member of the chat's queue who has not
    rejected it (outside the queue's business hours, only to members who opted
    in to after-hours chats), and is a conditional UPDATE, so two processes
    draining at once never offer one chat twice. Commits; returns how many
    chats it offered.
    """
    now = now or utcnow()
    seats = _free_seats(session)
    if not seats:
        return 0
    queue_filter = [Interaction.queue_id == queue_id] if queue_id is not None else []
    waiting = list(
        session.exec(
            select(Interaction.id, Interaction.queue_id)
            .where(Interaction.state == InteractionState.QUEUED, *queue_filter)
            .order_by(col(Interaction.requested_at), col(Interaction.id))
            .limit(200)
        )
    )
    if not waiting:
        return 0
    members: dict[int, set[int]] = {}
    for member_queue_id, user_id in session.exec(
        select(QueueMember.queue_id, QueueMember.user_id).where(col(QueueMember.user_id).in_(list(seats)))
    ):
        members.setdefault(member_queue_id, set()).add(user_id)
    declined = set(
        session.exec(
            select(OfferRejection.interaction_id, OfferRejection.user_id).where(
                col(OfferRejection.interaction_id).in_([interaction_id for interaction_id, _ in waiting])
            )
        )
    )
    closed = closed_queues(session, {item_queue_id for _, item_queue_id in waiting}, now)
    offer_seconds = settings().offer_timeout_seconds
    made = 0
    for interaction_id, item_queue_id in waiting:
        candidates = [
            seat
            for user_id, seat in seats.items()
            if seat.free > 0
            and user_id in members.get(item_queue_id, ())
            and (interaction_id, user_id) not in declined
            and (seat.after_hours or item_queue_id not in closed)
        ]
        if not candidates:
            continue
        seat = min(candidates, key=lambda s: (s.load, s.since))
        offered = session.exec(
            update(Interaction)
            .where(col(Interaction.id) == interaction_id, col(Interaction.state) == InteractionState.QUEUED)
            .values(
                state=InteractionState.OFFERED,
                offered_to_id=seat.user_id,
                offered_at=now,
                offer_expires_at=now + timedelta(seconds=offer_seconds),
                updated_at=now,
            )
        )
        if offered.rowcount == 1:
            seat.load += 1
            seat.free -= 1
            audit.record(
                session,
                action=AuditAction.INTERACTION_OFFERED,
                actor_kind="system",
                target_kind="interaction",
                target_id=interaction_id,
                agent_id=seat.user_id,
            )
            announce(session, ChatOffered(seat.user_id), QueueChanged(item_queue_id))
            made += 1
        if not any(s.free > 0 for s in seats.values()):
            break
    session.commit()
    return made


def closed_queues(session: Session, queue_ids: set[int], now: datetime) -> set[int]:
    """Which of these queues are outside their business hours at ``now``."""
    rows = session.exec(select(Queue).where(col(Queue.id).in_(list(queue_ids))))
    return {stored_id(queue) for queue in rows if not hours.is_open(hours.hours_of(queue), now)}


@dataclass
class _Seat:
    user_id: int
    load: int  # chats in progress plus pending offers
    free: int
    since: datetime  # became Available at: ties go to who waited longest
    after_hours: bool  # may be offered chats of closed queues


def _free_seats(session: Session) -> dict[int, _Seat]:
    """Available agents with room for one more chat, by id."""
    wip = (
        select(func.count())
        .where(Interaction.agent_id == User.id, Interaction.state == InteractionState.WORK_IN_PROGRESS)
        .scalar_subquery()
    )
    offers = (
        select(func.count())
        .where(Interaction.offered_to_id == User.id, Interaction.state == InteractionState.OFFERED)
        .scalar_subquery()
    )
    load = (wip + offers).label("load")
    # Five columns: more than sqlmodel's select types, so SQLAlchemy's.
    rows: Result[int, int, datetime, bool, int] = session.execute(
        sa_select(
            non_null(User.id), col(User.capacity), col(User.presence_changed_at), col(User.after_hours), load
        ).where(col(User.presence) == Presence.AVAILABLE, col(User.active).is_(True), wip + offers < col(User.capacity))
    )
    return {
        user_id: _Seat(user_id, n, capacity - n, since, after_hours)
        for user_id, capacity, since, after_hours, n in rows
    }
