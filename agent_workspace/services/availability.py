"""What a customer is told before and while they wait: who is there, and for how long.

Per queue, from stored state only (so every worker agrees):

* **on duty**: within the queue's business hours (``services.hours``); outside
  them only agents who opted in to after-hours chats count;
* **available now**: an agent on duty is Available with a free seat (and, for
  a waiting chat, has not rejected it);
* **busy**: agents on duty are Available but every seat is taken: the customer
  gets a place in line and an estimate;
* **nobody**: on duty, but no agent is Available (or every one rejected it);
* **closed**: outside business hours and nobody opted in: the customer reads
  when the queue opens again.

The estimate is simulated from real data: the recent handle time of the queue
(``closed_at - accepted_at`` of its last chats, weighed against a default
until there are enough of them), the seats of the Available agents, and how
long each of their open chats has run. Seats free in order, the chats ahead
take them, each for a handle time. It is a wait *from now*, read again as time
passes, so a customer never outlives the number shown: a chat that runs past
the average is assumed to need a quarter of what it has run so far (the
longer a chat has gone on, the longer it is likely to go on), so the estimate
grows while agents stay busy instead of sitting at "less than a minute".
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, Select, and_, bindparam, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from agent_workspace.models import (
    Interaction,
    InteractionState,
    OfferRejection,
    Presence,
    Queue,
    QueueMember,
    User,
    non_null,
    utcnow,
)
from agent_workspace.services import hours

WAITING_STATES = (InteractionState.QUEUED, InteractionState.OFFERED)
DEFAULT_HANDLE_SECONDS = 300  # the handle time a queue starts from
PRIOR_CHATS = 5  # the default counts as this many chats: a few short ones do not make every wait "a minute"
RECENT_CHATS = 20  # closed chats the handle time is averaged over
OVERDUE_SHARE = 0.25  # of its running time (at least of the handle time), still expected from a chat past the average


class Availability(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    NOBODY = "nobody"
    CLOSED = "closed"


@dataclass(frozen=True)
class Outlook:
    """What a customer of one queue is told. ``position`` 0: not in line yet
    (the figures are for someone starting a chat now)."""

    queue_id: int
    status: Availability
    position: int = 0
    wait_seconds: int = 0
    opens_at: datetime | None = None  # when a closed queue opens again
    closed_message: str = ""


@dataclass
class _Agent:
    user_id: int
    capacity: int
    after_hours: bool
    chat_ages: list[float] = field(default_factory=list)  # seconds each chat in progress has run
    offered_from: list[int] = field(default_factory=list)  # queues of the chats offered to them now


@dataclass
class _QueueFacts:
    """Everything the outlook of one queue needs, read once for many customers."""

    queue_id: int
    hours: hours.BusinessHours
    closed_message: str
    agents: list[_Agent]
    handle_seconds: float
    line: list[int]  # waiting chats, oldest first (read only for ``chat_outlooks``)
    waiting: int  # how many


def queue_outlooks(
    session: Session, *, queue_ids: Collection[int] | None = None, now: datetime | None = None
) -> dict[int, Outlook]:
    """For someone about to start a chat, per active queue (or those given)."""
    now = now or utcnow()
    facts = _read_facts(session, queue_ids=queue_ids, now=now, line=False)
    return {queue_id: _Line(f, now).outlook(f.waiting + 1, rejected_by=frozenset()) for queue_id, f in facts.items()}


def chat_outlooks(
    session: Session, *, interaction_ids: Collection[int], now: datetime | None = None
) -> dict[int, Outlook]:
    """For customers already in line, in a few statements whatever their number:
    when a queue moves, every customer waiting in it is told at once. Chats no
    longer waiting are left out."""
    ids = list(interaction_ids)
    if not ids:
        return {}
    now = now or utcnow()
    connection = session.connection()
    queue_ids = set(connection.execute(_QUEUES_OF_CHATS, {"interaction_ids": ids}).scalars())
    if not queue_ids:
        return {}
    facts = _read_facts(session, queue_ids=queue_ids, now=now, line=True)
    rejected_by: dict[int, set[int]] = defaultdict(set)
    for interaction_id, user_id in connection.execute(_REJECTIONS, {"interaction_ids": ids}):
        rejected_by[interaction_id].add(user_id)
    wanted, outlooks = set(ids), {}
    for f in facts.values():
        line = _Line(f, now)
        for place, interaction_id in enumerate(f.line, start=1):
            if interaction_id in wanted:
                outlooks[interaction_id] = line.outlook(place, rejected_by=frozenset(rejected_by[interaction_id]))
    return outlooks


def chat_outlook(session: Session, *, interaction_id: int, now: datetime | None = None) -> Outlook | None:
    """``chat_outlooks`` of one chat, without reading the line behind it (every
    waiting customer's page reads this on load and on its quiet ticks); None once
    it no longer waits."""
    connection = session.connection()
    place = connection.execute(_PLACE_OF_CHAT, {"interaction_id": interaction_id}).first()
    if place is None:
        return None
    queue_id, ahead = place
    now = now or utcnow()
    facts = _read_facts(session, queue_ids=[queue_id], now=now, line=False)
    if queue_id not in facts:
        return None
    rejected_by = frozenset(
        user_id for _, user_id in connection.execute(_REJECTIONS, {"interaction_ids": [interaction_id]})
    )
    return _Line(facts[queue_id], now).outlook(ahead + 1, rejected_by=rejected_by)


def open_queue_ids(session: Session, *, now: datetime | None = None) -> frozenset[int]:
    """Active queues within their business hours now: the sweeper compares these
    between runs, since a queue that opens is a capacity event."""
    now = now or utcnow()
    rows = session.connection().execute(_QUEUE_HOURS, {"queue_ids": [-1], "all": True}).all()
    return frozenset(row[0] for row in rows if hours.is_open(_hours_of_row(row), now))


def when_back(opens_at: datetime, *, time_zone: str, now: datetime | None = None) -> str:
    """ "today at 09:00", "tomorrow at 09:00", "Monday 7 December at 09:00": in the
    reader's time zone, which the page sends (UTC when it is unknown)."""
    zone = ZoneInfo(time_zone)
    local, today = opens_at.astimezone(zone), (now or utcnow()).astimezone(zone).date()
    clock = f"{local:%H:%M}"
    if local.date() == today:
        return f"today at {clock}"
    if local.date() == today + timedelta(days=1):
        return f"tomorrow at {clock}"
    return f"{local:%A} {local.day} {local:%B} at {clock}"


# ---------------------------------------------------------------- the model


class _Line:
    """The outlooks of one queue's line at ``now``: the seats are simulated once
    for every place (a chat some agent rejected gets its own simulation)."""

    def __init__(self, facts: _QueueFacts, now: datetime):
        self.facts, self.now = facts, now
        self.on_duty = hours.is_open(facts.hours, now)
        self._waits: dict[frozenset[int], list[int]] = {}

    def outlook(self, position: int, *, rejected_by: frozenset[int]) -> Outlook:
        facts = self.facts
        agents = [a for a in facts.agents if (self.on_duty or a.after_hours) and a.user_id not in rejected_by]
        if not agents:
            if self.on_duty:
                return Outlook(facts.queue_id, Availability.NOBODY, position)
            return Outlook(
                facts.queue_id,
                Availability.CLOSED,
                position,
                opens_at=hours.next_opening(facts.hours, self.now),
                closed_message=facts.closed_message,
            )
        waits = self._waits.get(rejected_by)
        if waits is None or len(waits) < position:
            waits = self._waits[rejected_by] = _waits(
                agents, facts.handle_seconds, max(position, facts.waiting + 1), queue_id=facts.queue_id
            )
        wait = waits[position - 1]
        return Outlook(
            facts.queue_id, Availability.AVAILABLE if wait == 0 else Availability.BUSY, position, wait_seconds=wait
        )


def _waits(agents: list[_Agent], handle: float, places: int, *, queue_id: int) -> list[int]:
    """Seconds until the chat at each place (1 first) of ``queue_id``'s line gets a
    seat: seats free in order, and each chat ahead holds the one it gets for a
    handle time. A seat held by an offer from another queue counts as a chat just
    begun (this queue's own offers are in its line already)."""
    frees: list[float] = []
    for agent in agents:
        busy = [max(handle - age, OVERDUE_SHARE * max(handle, age)) for age in agent.chat_ages]
        busy += [handle for offered_queue in agent.offered_from if offered_queue != queue_id]
        busy = sorted(busy)[: agent.capacity]
        frees += [0.0] * (agent.capacity - len(busy)) + busy
    heapq.heapify(frees)
    waits = []
    for _ in range(places):
        free_at = heapq.heappop(frees)
        waits.append(round(free_at))
        heapq.heappush(frees, free_at + handle)
    return waits


def _read_facts(
    session: Session, *, queue_ids: Collection[int] | None, now: datetime, line: bool
) -> dict[int, _QueueFacts]:
    """Five statements and one per queue; ``line``: the waiting chats in
    order, else only how many there are."""
    connection = session.connection()
    wanted = None if queue_ids is None else list(queue_ids)
    queues = connection.execute(_QUEUE_HOURS, {"queue_ids": wanted or [-1], "all": wanted is None}).all()
    ids = [row[0] for row in queues]
    if not ids:
        return {}
    agents_of: dict[int, list[_Agent]] = defaultdict(list)
    agents: dict[int, _Agent] = {}
    for queue_id, user_id, capacity, after_hours in connection.execute(_AVAILABLE_MEMBERS, {"queue_ids": ids}):
        agent = agents.setdefault(user_id, _Agent(user_id, capacity, bool(after_hours)))
        agents_of[queue_id].append(agent)
    if agents:
        for agent_id, accepted_at in connection.execute(_CHATS_IN_PROGRESS, {"user_ids": list(agents)}):
            agents[agent_id].chat_ages.append(
                max((now - _aware(accepted_at)).total_seconds(), 0.0) if accepted_at else 0.0
            )
        for agent_id, queue_id in connection.execute(_OFFERS_HELD, {"user_ids": list(agents)}):
            agents[agent_id].offered_from.append(queue_id)
    handle: dict[int, list[float]] = defaultdict(list)
    for queue_id in ids:  # one indexed read of 20 rows each, whatever the queue's history
        for accepted_at, closed_at in connection.execute(_RECENT_HANDLES, {"queue_id": queue_id}):
            handle[queue_id].append(max((_aware(closed_at) - _aware(accepted_at)).total_seconds(), 0.0))
    lines: dict[int, list[int]] = defaultdict(list)
    waiting: dict[int, int] = defaultdict(int)
    if line:
        for interaction_id, queue_id in connection.execute(_LINE, {"queue_ids": ids}):
            lines[queue_id].append(interaction_id)
        waiting.update((queue_id, len(chats)) for queue_id, chats in lines.items())
    else:
        waiting.update(connection.execute(_WAITING_COUNTS, {"queue_ids": ids}).all())
    return {
        row[0]: _QueueFacts(
            queue_id=row[0],
            hours=_hours_of_row(row),
            closed_message=row[4],
            agents=agents_of[row[0]],
            handle_seconds=(sum(handle[row[0]]) + PRIOR_CHATS * DEFAULT_HANDLE_SECONDS)
            / (len(handle[row[0]]) + PRIOR_CHATS),
            line=lines[row[0]],
            waiting=waiting[row[0]],
        )
        for row in queues
    }


def _hours_of_row(row) -> hours.BusinessHours:
    _id, weekly_hours, time_zone, closures, _message = row
    return hours.from_texts(weekly_hours or "", time_zone or "UTC", closures or "")


def _aware(at: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored in UTC."""
    return at if at.tzinfo else at.replace(tzinfo=utcnow().tzinfo)


# Statements built once: every waiting customer's refresh runs them.
_QUEUE_HOURS = sa_select(
    non_null(Queue.id), col(Queue.weekly_hours), col(Queue.time_zone), col(Queue.closures), col(Queue.closed_message)
).where(
    col(Queue.active).is_(True),
    or_(bindparam("all", type_=Boolean), col(Queue.id).in_(bindparam("queue_ids", expanding=True))),
)
_AVAILABLE_MEMBERS = (
    sa_select(col(QueueMember.queue_id), non_null(User.id), col(User.capacity), col(User.after_hours))
    .join(User, col(User.id) == col(QueueMember.user_id))
    .where(
        col(QueueMember.queue_id).in_(bindparam("queue_ids", expanding=True)),
        col(User.presence) == Presence.AVAILABLE,
        col(User.active).is_(True),
    )
)
_OFFERS_HELD = sa_select(non_null(Interaction.offered_to_id), col(Interaction.queue_id)).where(
    col(Interaction.offered_to_id).in_(bindparam("user_ids", expanding=True)),
    col(Interaction.state) == InteractionState.OFFERED,
)
_CHATS_IN_PROGRESS = sa_select(non_null(Interaction.agent_id), col(Interaction.accepted_at)).where(
    col(Interaction.agent_id).in_(bindparam("user_ids", expanding=True)),
    col(Interaction.state) == InteractionState.WORK_IN_PROGRESS,
)
_RECENT_HANDLES = (
    sa_select(non_null(Interaction.accepted_at), non_null(Interaction.closed_at))
    .where(
        col(Interaction.queue_id) == bindparam("queue_id"),
        col(Interaction.state) == InteractionState.CLOSED_COMPLETE,
        col(Interaction.closed_at).is_not(None),
        col(Interaction.accepted_at).is_not(None),
    )
    .order_by(col(Interaction.closed_at).desc())
    .limit(RECENT_CHATS)
)
_LINE = (
    sa_select(non_null(Interaction.id), col(Interaction.queue_id))
    .where(
        col(Interaction.queue_id).in_(bindparam("queue_ids", expanding=True)),
        col(Interaction.state).in_(WAITING_STATES),
    )
    .order_by(col(Interaction.queue_id), col(Interaction.requested_at), col(Interaction.id))
)
_WAITING_COUNTS = (
    sa_select(col(Interaction.queue_id), func.count())
    .where(
        col(Interaction.queue_id).in_(bindparam("queue_ids", expanding=True)),
        col(Interaction.state).in_(WAITING_STATES),
    )
    .group_by(col(Interaction.queue_id))
)
_THIS_CHAT = (
    sa_select(col(Interaction.queue_id), col(Interaction.requested_at), non_null(Interaction.id))
    .where(col(Interaction.id) == bindparam("interaction_id"), col(Interaction.state).in_(WAITING_STATES))
    .subquery()
)
_PLACE_OF_CHAT: Select[int, int] = sa_select(
    _THIS_CHAT.c.queue_id,
    sa_select(func.count())
    .where(
        col(Interaction.queue_id) == _THIS_CHAT.c.queue_id,
        col(Interaction.state).in_(WAITING_STATES),
        or_(
            col(Interaction.requested_at) < _THIS_CHAT.c.requested_at,
            and_(col(Interaction.requested_at) == _THIS_CHAT.c.requested_at, col(Interaction.id) < _THIS_CHAT.c.id),
        ),
    )
    .scalar_subquery(),
)
_QUEUES_OF_CHATS = (
    sa_select(col(Interaction.queue_id))
    .where(
        col(Interaction.id).in_(bindparam("interaction_ids", expanding=True)),
        col(Interaction.state).in_(WAITING_STATES),
    )
    .distinct()
)
_REJECTIONS = sa_select(col(OfferRejection.interaction_id), col(OfferRejection.user_id)).where(
    col(OfferRejection.interaction_id).in_(bindparam("interaction_ids", expanding=True))
)
