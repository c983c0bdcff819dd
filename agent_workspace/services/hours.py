"""Business hours of a queue: when it takes chats, in the queue's own time zone.

Weekly schedule (``Queue.weekly_hours``), case-insensitive::

    schedule := group (";" group)*           a newline also separates groups
    group    := days " " intervals
    days     := day ("," day)*               day: "Mon" or a range "Mon-Fri" (may wrap: "Sat-Mon")
    intervals:= HH:MM "-" HH:MM ("," HH:MM "-" HH:MM)*

e.g. ``Mon-Fri 09:00-12:00, 13:00-17:00; Sat 10:00-14:00``. Days are the
three-letter English names. A closing time at or before the opening time is on
the next day (``Fri 22:00-02:00`` is Friday 22:00 to Saturday 02:00); ``24:00``
is the end of the day, so ``00:00-24:00`` is the whole day. Intervals may not
overlap. An empty schedule is open around the clock.

Closures (``Queue.closures``): dates ``YYYY-MM-DD`` and inclusive ranges
``YYYY-MM-DD..YYYY-MM-DD``, separated by commas. They are whole local days on
which the queue is closed whatever the schedule says, including the part of an
interval that began the evening before.

Daylight saving: times are wall-clock times in the queue's zone. A time the
clocks skip (spring forward) means the moment they jump: in Europe/Berlin on
2026-03-29, "02:30" is 03:00 CEST. A time that occurs twice (fall back) means
its first occurrence: on 2026-10-25 an interval ending at 02:30 ends at 02:30
CEST and does not reopen during the repeated hour.

``set_hours`` validates and stores normalised texts; everything else works on
a parsed ``BusinessHours``, which ``hours_of`` caches per stored texts, and
which keeps the open spans of the days it was asked about: the routing drain's
``is_open`` per queue is a zone conversion and two dictionary lookups, cheap
enough for every queue on every drain.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlmodel import Session

from agent_workspace.models import Queue
from agent_workspace.services import audit
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.errors import NotFound, ValidationError
from agent_workspace.services.events import QueueChanged, announce

log = logging.getLogger(__name__)

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MIDNIGHT = time(0, 0)
ONE_DAY = timedelta(days=1)
HORIZON_DAYS = 400  # next_opening looks no further ahead
# Stored column sizes (models.Queue): input longer than this is refused before parsing.
MAX_WEEKLY_CHARS = 500
MAX_TIME_ZONE_CHARS = 64
MAX_CLOSURES_CHARS = 2000
MAX_MESSAGE_CHARS = 500

_DAY = {name.lower(): index for index, name in enumerate(DAY_NAMES)}
_GROUP = re.compile(r"(?P<days>[^\d]*?)\s*(?P<intervals>\d.*)")
_DAY_RANGE = re.compile(r"([a-z]{3})\s*-\s*([a-z]{3})", re.IGNORECASE)
_INTERVAL = re.compile(r"(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Weekly = tuple[tuple[int, time, time], ...]
Closures = tuple[tuple[date, date], ...]


@dataclass(frozen=True)
class BusinessHours:
    """A queue's parsed hours. ``weekly``: (weekday 0=Mon, opens, closes), sorted;
    ``closes <= opens`` closes on the next day (so 00:00-00:00 is the whole day);
    empty means every day around the clock. ``closures``: inclusive local days."""

    weekly: Weekly
    time_zone: str
    closures: Closures

    @property
    def always_open(self) -> bool:
        return not self.weekly and not self.closures

    @cached_property
    def _plan(self) -> _Plan:
        return _Plan(self)


class _Plan:
    """What is_open and next_opening need, derived once per BusinessHours:
    the zone, the intervals per weekday, the closures ready for bisection,
    and a memo of each local day's open spans as UTC instants."""

    MEMO_DAYS = 64

    def __init__(self, hours: BusinessHours):
        self.zone = ZoneInfo(hours.time_zone)
        weekly = hours.weekly or tuple((day, MIDNIGHT, MIDNIGHT) for day in range(7))
        self.by_day = [
            tuple((opens, closes) for day, opens, closes in weekly if day == weekday) for weekday in range(7)
        ]
        merged = _merge(hours.closures)
        self.closure_starts = [first for first, _ in merged]
        self.closure_ends = [last for _, last in merged]
        self.memo: dict[date, tuple[tuple[datetime, datetime], ...]] = {}

    def closed_through(self, day: date) -> date | None:
        """The last day of the closure that contains ``day``, or None."""
        index = bisect_right(self.closure_starts, day) - 1
        if index >= 0 and self.closure_ends[index] >= day:
            return self.closure_ends[index]
        return None

    def instant(self, day: date, clock: time) -> datetime:
        """The UTC instant of a local wall-clock time (see the module docstring on DST)."""
        local = datetime.combine(day, clock, tzinfo=self.zone)
        utc = local.astimezone(UTC)
        if utc.astimezone(self.zone).replace(tzinfo=None) == local.replace(tzinfo=None):
            return utc  # fold=0: the first occurrence of a repeated time
        # Skipped: the first instant whose wall clock reads ``clock`` or later (the jump).
        wanted = local.replace(tzinfo=None)
        low = int(local.replace(fold=1).astimezone(UTC).timestamp())
        high = int(utc.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if datetime.fromtimestamp(middle, self.zone).replace(tzinfo=None) >= wanted:
                high = middle
            else:
                low = middle
        return datetime.fromtimestamp(high, UTC)

    def spans(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """Open [start, end) spans, in UTC, of the intervals that begin on local ``day``."""
        found = self.memo.get(day)
        if found is not None:
            return found
        following = day + ONE_DAY
        closed_today = self.closed_through(day) is not None
        closed_tomorrow = self.closed_through(following) is not None
        pieces: list[tuple[datetime, datetime]] = []
        for opens, closes in self.by_day[day.weekday()]:
            start = self.instant(day, opens)
            if closes > opens:
                parts = [(start, self.instant(day, closes), closed_today)]
            else:
                midnight = self.instant(following, MIDNIGHT)
                parts = [(start, midnight, closed_today), (midnight, self.instant(following, closes), closed_tomorrow)]
            pieces += [(begin, end) for begin, end, closed in parts if not closed and begin < end]
        merged: list[tuple[datetime, datetime]] = []
        for begin, end in sorted(pieces):
            if merged and begin <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((begin, end))
        if len(self.memo) >= self.MEMO_DAYS:
            self.memo.clear()
        self.memo[day] = found = tuple(merged)
        return found


def _merge(ranges: Closures) -> Closures:
    """Sorted, with overlapping and adjacent ranges joined."""
    merged: list[tuple[date, date]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + ONE_DAY:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return tuple(merged)


# ---------------------------------------------------------------- parsing


def _clock(text: str, group: str, *, closing: bool) -> time:
    match = _CLOCK.fullmatch(text)
    hour, minute = (int(match[1]), int(match[2])) if match else (99, 99)
    if closing and (hour, minute) == (24, 0):
        return MIDNIGHT
    if hour > 23 or minute > 59:
        raise ValidationError(f'Weekly hours: "{text}" in "{group}" is not a time (HH:MM, 00:00 to 24:00).')
    return time(hour, minute)


def _days(text: str, group: str) -> list[int]:
    if not text:
        raise ValidationError(f'Weekly hours: "{group}" names no day (start with e.g. "Mon-Fri").')
    days: list[int] = []
    for item in (part.strip() for part in text.split(",")):
        ends = _DAY_RANGE.fullmatch(item)
        names = [ends[1], ends[2]] if ends else [item]
        for name in names:
            if name.lower() not in _DAY:
                raise ValidationError(f'Weekly hours: "{name}" in "{group}" is not a day; use {", ".join(DAY_NAMES)}.')
        first, last = _DAY[names[0].lower()], _DAY[names[-1].lower()]
        days += [(first + step) % 7 for step in range((last - first) % 7 + 1)]
    return days


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def _week_span(day: int, opens: time, closes: time) -> tuple[int, int]:
    """Minutes from Monday 00:00 at which an interval opens and closes (may pass the week's end)."""
    length = (_minutes(closes) - _minutes(opens)) % 1440 or 1440
    start = day * 1440 + _minutes(opens)
    return start, start + length


def parse_weekly_hours(text: str) -> Weekly:
    """The weekly schedule of the module docstring's grammar; "" is always open."""
    weekly: list[tuple[int, time, time]] = []
    for group in (g.strip() for g in re.split(r"[;\n]", text.replace("–", "-").replace("—", "-"))):
        if not group:
            continue
        match = _GROUP.fullmatch(group)
        if match is None:
            raise ValidationError(f'Weekly hours: "{group}" has no times (e.g. "Mon-Fri 09:00-17:00").')
        days = _days(match["days"].rstrip(", "), group)
        for part in (p.strip() for p in match["intervals"].split(",")):
            interval = _INTERVAL.fullmatch(part)
            if interval is None:
                raise ValidationError(f'Weekly hours: "{part}" in "{group}" is not an interval (HH:MM-HH:MM).')
            opens, closes = _clock(interval[1], group, closing=False), _clock(interval[2], group, closing=True)
            if opens == closes and interval[2] != "24:00":
                raise ValidationError(
                    f'Weekly hours: "{part}" in "{group}" opens and closes at once; the whole day is 00:00-24:00.'
                )
            weekly += [(day, opens, closes) for day in days]
    weekly.sort(key=lambda entry: (entry[0], entry[1]))
    _check_overlaps(weekly)
    return tuple(weekly)


def _check_overlaps(weekly: list[tuple[int, time, time]]) -> None:
    spans = [(*_week_span(*entry), entry) for entry in weekly]
    if spans:  # the last interval may run past Sunday midnight into Monday
        first_start, first_end, first = spans[0]
        spans.append((first_start + 7 * 1440, first_end + 7 * 1440, first))
    for (_, end, entry), (start, _, other) in zip(spans, spans[1:]):
        if start < end:
            raise ValidationError(f"Weekly hours: {_entry_text(entry)} overlaps {_entry_text(other)}.")


def parse_closures(text: str) -> Closures:
    """Closed days "YYYY-MM-DD" and ranges "YYYY-MM-DD..YYYY-MM-DD", sorted and merged."""
    ranges: list[tuple[date, date]] = []
    for item in (part.strip() for part in re.split(r"[,;\n]", text)):
        if not item:
            continue
        bounds = [bound.strip() for bound in item.split("..")]
        if len(bounds) > 2:
            raise ValidationError(f'Closures: "{item}" is not a date or a range (YYYY-MM-DD..YYYY-MM-DD).')
        days = [_date(bound, item) for bound in bounds]
        if days[-1] < days[0]:
            raise ValidationError(f'Closures: "{item}" ends before it starts.')
        ranges.append((days[0], days[-1]))
    return _merge(tuple(ranges))


def _date(text: str, item: str) -> date:
    try:
        if _DATE.fullmatch(text) and date.fromisoformat(text) < date.max:  # the last day has no next day to merge with
            return date.fromisoformat(text)
    except ValueError:
        pass
    where = "" if text == item else f' in "{item}"'
    raise ValidationError(f'Closures: "{text}"{where} is not a date (YYYY-MM-DD).')


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def valid_time_zone(name: str) -> str:
    """The IANA name, spelled as the database spells it ("europe/berlin" -> "Europe/Berlin")."""
    name = name.strip()
    if 0 < len(name) <= MAX_TIME_ZONE_CHARS:
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            if name.lower() in _zones_by_lower_name():
                return _zones_by_lower_name()[name.lower()]
    raise ValidationError(
        f'Time zone: "{name[:MAX_TIME_ZONE_CHARS]}" is not a known time zone; use an IANA name such as Europe/Berlin, America/New_York or UTC.'
    )


def hours_of(queue: Queue) -> BusinessHours:
    """The queue row's hours, parsed once per distinct stored texts."""
    return from_texts(queue.weekly_hours or "", queue.time_zone or "UTC", queue.closures or "")


@lru_cache(maxsize=512)
def from_texts(weekly: str, zone: str, closures: str) -> BusinessHours:
    """``hours_of`` for the three stored columns read without the row (e.g. in a batched statement)."""
    try:
        return BusinessHours(parse_weekly_hours(weekly), valid_time_zone(zone), parse_closures(closures))
    except ValidationError as error:
        # Only a hand-edited row gets here (set_hours validates): keep the queue
        # reachable rather than failing every routing drain.
        log.warning("unreadable business hours, treated as open around the clock: %s", error)
        return BusinessHours((), "UTC", ())


# ---------------------------------------------------------------- questions


def _utc(at: datetime) -> datetime:
    """Stored times come back naive from SQLite; they are UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def is_open(hours: BusinessHours, at: datetime) -> bool:
    if hours.always_open:
        return True
    at = _utc(at)
    plan = hours._plan
    today = at.astimezone(plan.zone).date()
    return any(start <= at < end for day in (today - ONE_DAY, today) for start, end in plan.spans(day))


def next_opening(hours: BusinessHours, at: datetime) -> datetime | None:
    """When a closed queue opens next (UTC); None if open at ``at`` or not within 400 days."""
    if hours.always_open:
        return None
    at = _utc(at)
    plan = hours._plan
    day = at.astimezone(plan.zone).date() - ONE_DAY
    last = (at + timedelta(days=HORIZON_DAYS)).astimezone(plan.zone).date()
    while day <= last:
        # Spans of a day start before those of the next, so the first found is the earliest.
        for start, end in plan.spans(day):
            if start <= at < end:
                return None
            if start > at:
                return start if start - at <= timedelta(days=HORIZON_DAYS) else None
        day = max(day + ONE_DAY, plan.closed_through(day) or day)  # skip a closure in one step
    return None


def status_text(hours: BusinessHours, at: datetime) -> str:
    """Open, Closed (opens Mon 09:00 Europe/Berlin), or Closed if it opens not within 400 days."""
    if is_open(hours, at):
        return "Open"
    opening = next_opening(hours, at)
    return f"Closed (opens {opening_text(hours, opening, at)})" if opening else "Closed"


def opening_text(hours: BusinessHours, opening: datetime, at: datetime) -> str:
    """An opening in the queue's zone: "Mon 09:00 Europe/Berlin", with the date if a week or more away."""
    zone = hours._plan.zone
    local = opening.astimezone(zone)
    day = DAY_NAMES[local.weekday()]
    if (local.date() - _utc(at).astimezone(zone).date()).days >= 7:
        day = f"{day} {local:%Y-%m-%d}"
    return f"{day} {local:%H:%M} {hours.time_zone}"


# ---------------------------------------------------------------- text


def _interval_text(opens: time, closes: time, dash: str = "-") -> str:
    return f"{opens:%H:%M}{dash}{'24:00' if closes == MIDNIGHT else f'{closes:%H:%M}'}"


def _entry_text(entry: tuple[int, time, time]) -> str:
    day, opens, closes = entry
    return f"{DAY_NAMES[day]} {_interval_text(opens, closes)}"


def _groups(weekly: Weekly, dash: str) -> list[tuple[str, list[str]]]:
    """(days, intervals) with the weekdays that share the same intervals together."""
    per_day = [tuple(_interval_text(o, c, dash) for d, o, c in weekly if d == day) for day in range(7)]
    groups: list[tuple[str, list[str]]] = []
    for intervals in dict.fromkeys(i for i in per_day if i):
        days = [day for day in range(7) if per_day[day] == intervals]
        runs: list[list[int]] = []
        for day in days:
            if runs and runs[-1][-1] == day - 1:
                runs[-1].append(day)
            else:
                runs.append([day])
        names = ", ".join(DAY_NAMES[r[0]] + (f"{dash}{DAY_NAMES[r[-1]]}" if len(r) > 1 else "") for r in runs)
        groups.append((names, list(intervals)))
    return groups


def weekly_text(weekly: Weekly) -> str:
    """The normalised stored form: "Mon-Fri 09:00-17:00; Sat 10:00-14:00"."""
    return "; ".join(f"{days} {', '.join(intervals)}" for days, intervals in _groups(weekly, "-"))


def closures_text(closures: Closures, dash: str = "..") -> str:
    return ", ".join(f"{first}" if first == last else f"{first}{dash}{last}" for first, last in closures)


def describe(hours: BusinessHours) -> str:
    """For people: "Mon–Fri 09:00–17:00, Sat 10:00–14:00 (Europe/Berlin); closed 2026-12-24"."""
    if hours.always_open:
        return "Open around the clock"
    weekly = ", ".join(f"{days} {' and '.join(intervals)}" for days, intervals in _groups(hours.weekly, "–"))
    text = f"{weekly or 'Open around the clock'} ({hours.time_zone})"
    if hours.closures:
        text += f"; closed {closures_text(hours.closures, '–')}"
    return text


# ---------------------------------------------------------------- change


def _check_length(label: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise ValidationError(f"{label}: at most {limit:,} characters.")


def set_hours(
    session: Session,
    *,
    queue_id: int,
    weekly_hours: str,
    time_zone: str,
    closures: str,
    closed_message: str,
    actor_id: int | None,
) -> None:
    """Validate all four, then store the normalised texts and audit, in one commit."""
    for label, text, limit in (
        ("Weekly hours", weekly_hours, MAX_WEEKLY_CHARS),
        ("Time zone", time_zone, MAX_TIME_ZONE_CHARS),
        ("Closures", closures, MAX_CLOSURES_CHARS),
        ("Out-of-hours message", closed_message.strip(), MAX_MESSAGE_CHARS),
    ):
        _check_length(label, text, limit)
    weekly, zone = weekly_text(parse_weekly_hours(weekly_hours)), valid_time_zone(time_zone)
    closed = closures_text(parse_closures(closures))
    _check_length("Weekly hours", weekly, MAX_WEEKLY_CHARS)
    _check_length("Closures", closed, MAX_CLOSURES_CHARS)
    queue = session.get(Queue, queue_id)
    if queue is None:
        raise NotFound("No such queue.")
    queue.weekly_hours, queue.time_zone, queue.closures = weekly, zone, closed
    queue.closed_message = closed_message.strip()
    audit.record(
        session,
        action=AuditAction.QUEUE_HOURS_CHANGED,
        actor_kind="agent" if actor_id is not None else "system",
        actor_id=actor_id,
        target_kind="queue",
        target_id=queue_id,
        weekly_hours=weekly,
        time_zone=zone,
        closures=closed,
        closed_message=queue.closed_message,
    )
    announce(session, QueueChanged(queue_id))
    session.commit()
    # A queue that opens is a capacity event. (Imported here: routing reads hours.)
    from agent_workspace.services import routing

    routing.drain(session)
