"""Business hours: the grammar, open/closed at an instant, the next opening (midnight, DST, closures), saving."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from agent_workspace.models import AuditLog, Queue
from agent_workspace.services import dashboard, hours
from agent_workspace.services.errors import NotFound, ValidationError
from agent_workspace.services.events import QueueChanged
from tests.factories import make_queue, make_user

UTC = UTC
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def schedule(weekly: str = "", zone: str = "UTC", closures: str = "") -> hours.BusinessHours:
    return hours.BusinessHours(hours.parse_weekly_hours(weekly), zone, hours.parse_closures(closures))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=zone, fold=fold).astimezone(UTC)


# ---------------------------------------------------------------- grammar


def test_the_grammar_and_its_normal_form():
    weekly = hours.parse_weekly_hours("mon-FRI 9:00-12:00, 13:00 - 17:00;\nSat,sun 10:00-14:00; Fri 22:00-02:00")
    assert weekly[:2] == ((0, time(9), time(12)), (0, time(13), time(17)))
    assert (4, time(22), time(2)) in weekly and (6, time(10), time(14)) in weekly
    assert (
        hours.weekly_text(weekly)
        == "Mon-Thu 09:00-12:00, 13:00-17:00; Fri 09:00-12:00, 13:00-17:00, 22:00-02:00; Sat-Sun 10:00-14:00"
    )
    wrapped = hours.parse_weekly_hours("Sat-Mon 08:00-09:00")
    assert [day for day, _, _ in wrapped] == [0, 5, 6]
    assert hours.parse_weekly_hours("Mon 00:00-24:00") == ((0, time(0), time(0)),)
    assert hours.parse_weekly_hours("  ;\n ") == ()
    assert hours.parse_weekly_hours("Mon–Fri 09:00–17:00") == hours.parse_weekly_hours("Mon-Fri 09:00-17:00")


def test_days_with_the_same_hours_are_listed_together():
    weekly = hours.parse_weekly_hours("Mon,Wed 00:00-24:00; Sat-Sun 22:00-00:00")
    assert hours.weekly_text(weekly) == "Mon, Wed 00:00-24:00; Sat-Sun 22:00-24:00"
    assert (
        hours.weekly_text(hours.parse_weekly_hours("Sun 08:00-09:00; Mon-Tue 08:00-09:00"))
        == "Mon-Tue, Sun 08:00-09:00"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mon 09:00-25:00", '"25:00" in "Mon 09:00-25:00" is not a time'),
        ("Mon 24:00-02:00", '"24:00" in "Mon 24:00-02:00" is not a time'),
        ("Mon 09:60-10:00", '"09:60"'),
        ("Mnd 09:00-10:00", '"Mnd" in "Mnd 09:00-10:00" is not a day; use Mon, Tue'),
        ("Mon-Fru 09:00-10:00", '"Fru" in "Mon-Fru 09:00-10:00" is not a day'),
        ("Monday 09:00-10:00", '"Monday"'),
        ("09:00-17:00", '"09:00-17:00" names no day'),
        ("Mon-Fri", '"Mon-Fri" has no times'),
        ("Mon 9-17", '"9-17" in "Mon 9-17" is not an interval (HH:MM-HH:MM)'),
        ("Mon 09:00-12:00,", '"" in "Mon 09:00-12:00," is not an interval'),
        ("Mon 09:00-09:00", "opens and closes at once; the whole day is 00:00-24:00"),
        ("Mon 09:00-12:00, 11:00-13:00", "Mon 09:00-12:00 overlaps Mon 11:00-13:00"),
        ("Mon 09:00-12:00, 11:59-13:00", "Mon 09:00-12:00 overlaps Mon 11:59-13:00"),
        ("Mon-Fri 09:00-17:00; Wed 16:00-18:00", "Wed 09:00-17:00 overlaps Wed 16:00-18:00"),
        ("Fri 22:00-02:00; Sat 01:00-03:00", "Fri 22:00-02:00 overlaps Sat 01:00-03:00"),
        ("Sun 22:00-02:00; Mon 01:00-03:00", "Sun 22:00-02:00 overlaps Mon 01:00-03:00"),
    ],
)
def test_a_bad_schedule_names_the_bad_part(text, message):
    with pytest.raises(ValidationError, match="^Weekly hours: ") as error:
        hours.parse_weekly_hours(text)
    assert message in str(error.value)


def test_closures_are_sorted_and_merged():
    assert hours.parse_closures("2026-12-31..2027-01-01; 2026-12-24,\n2026-12-25 , 2026-12-30") == (
        (date(2026, 12, 24), date(2026, 12, 25)),
        (date(2026, 12, 30), date(2027, 1, 1)),
    )
    assert (
        hours.closures_text(hours.parse_closures("2026-12-24, 2026-12-31 .. 2027-01-01"))
        == "2026-12-24, 2026-12-31..2027-01-01"
    )
    assert hours.parse_closures(" ") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-02-30", 'Closures: "2026-02-30" is not a date (YYYY-MM-DD).'),
        ("2026-12-24, tomorrow", 'Closures: "tomorrow" is not a date'),
        ("20261224", 'Closures: "20261224" is not a date'),  # fromisoformat would take it
        ("2026-12-24..2026-12-3", 'Closures: "2026-12-3" in "2026-12-24..2026-12-3" is not a date'),
        ("2027-01-01..2026-12-31", 'Closures: "2027-01-01..2026-12-31" ends before it starts.'),
        ("2026-01-01..2026-01-02..2026-01-03", "is not a date or a range"),
        ("9999-12-31, 9999-12-31", 'Closures: "9999-12-31" is not a date'),  # no next day to merge with (review)
    ],
)
def test_bad_closures_name_the_bad_part(text, message):
    with pytest.raises(ValidationError) as error:
        hours.parse_closures(text)
    assert message in str(error.value)


def test_time_zones():
    assert hours.valid_time_zone(" Europe/Berlin ") == "Europe/Berlin"
    assert hours.valid_time_zone("america/new_york") == "America/New_York"
    for bad in ("Mars/Olympus", "", "../../etc/passwd", "Europe", "x" * 300):
        with pytest.raises(ValidationError, match="is not a known time zone; use an IANA name"):
            hours.valid_time_zone(bad)


def test_describe():
    assert hours.describe(schedule()) == "Open around the clock"
    assert (
        hours.describe(schedule("Mon-Fri 09:00-17:00; Sat 10:00-14:00", "Europe/Berlin", "2026-12-24"))
        == "Mon–Fri 09:00–17:00, Sat 10:00–14:00 (Europe/Berlin); closed 2026-12-24"
    )
    assert hours.describe(schedule("Mon 09:00-12:00, 13:00-24:00")) == "Mon 09:00–12:00 and 13:00–24:00 (UTC)"
    assert (
        hours.describe(schedule(closures="2026-12-31..2027-01-01"))
        == "Open around the clock (UTC); closed 2026-12-31–2027-01-01"
    )


# ---------------------------------------------------------------- open / next opening


def test_always_open_has_no_next_opening():
    always = schedule()
    assert always.always_open and hours.is_open(always, utc(2026, 5, 1))
    assert hours.next_opening(always, utc(2026, 5, 1)) is None
    assert not schedule("Mon 09:00-10:00").always_open and not schedule(closures="2026-01-01").always_open


def test_an_interval_across_midnight():
    late = schedule("Fri 22:00-02:00")  # 2026-05-01 is a Friday
    assert not hours.is_open(late, utc(2026, 5, 1, 21, 59))
    assert hours.is_open(late, utc(2026, 5, 1, 22))
    assert hours.is_open(late, utc(2026, 5, 2, 1, 59, 59))
    assert not hours.is_open(late, utc(2026, 5, 2, 2))
    assert hours.next_opening(late, utc(2026, 5, 2, 2)) == utc(2026, 5, 8, 22)
    assert hours.next_opening(late, utc(2026, 5, 2, 1)) is None  # open now
    sunday = schedule("Sun 22:00-02:00")  # runs past the week's end into Monday
    assert hours.is_open(sunday, utc(2026, 5, 4, 1, 30))
    assert hours.next_opening(sunday, utc(2026, 5, 4, 3)) == utc(2026, 5, 10, 22)


def test_the_whole_day_and_touching_intervals():
    weekdays = schedule("Mon-Fri 00:00-24:00")
    assert hours.is_open(weekdays, utc(2026, 5, 4, 0)) and hours.is_open(weekdays, utc(2026, 5, 8, 23, 59, 59))
    assert not hours.is_open(weekdays, utc(2026, 5, 9, 0))
    assert hours.next_opening(weekdays, utc(2026, 5, 9, 12)) == utc(2026, 5, 11)
    split = schedule("Mon 09:00-12:00, 12:00-17:00")
    assert hours.is_open(split, utc(2026, 5, 4, 12))


def test_several_intervals_a_day():
    lunch = schedule("Mon-Fri 09:00-12:00, 13:00-17:00")
    assert not hours.is_open(lunch, utc(2026, 5, 4, 12, 30))
    assert hours.next_opening(lunch, utc(2026, 5, 4, 12, 30)) == utc(2026, 5, 4, 13)
    assert hours.next_opening(lunch, utc(2026, 5, 4, 17)) == utc(2026, 5, 5, 9)
    assert hours.next_opening(lunch, utc(2026, 5, 4, 8)) == utc(2026, 5, 4, 9)


def test_local_times_in_the_queue_zone_across_berlins_spring_forward():
    office = schedule("Mon-Fri 09:00-17:00", "Europe/Berlin")
    friday_evening = local(BERLIN, 2026, 3, 27, 17)  # CET
    assert hours.is_open(office, local(BERLIN, 2026, 3, 27, 16, 59)) and not hours.is_open(office, friday_evening)
    assert hours.next_opening(office, friday_evening) == utc(2026, 3, 30, 7)  # 09:00 CEST
    night = schedule("Sat 23:00-04:00", "Europe/Berlin")  # 02:00-03:00 is skipped on 2026-03-29
    assert hours.is_open(night, utc(2026, 3, 28, 22)) and hours.is_open(night, utc(2026, 3, 29, 1, 59))
    assert not hours.is_open(night, utc(2026, 3, 29, 2))  # 04:00 CEST: four real hours, not five


def test_a_skipped_time_means_the_moment_the_clocks_jump():
    skipped = schedule("Sun 02:30-05:00", "Europe/Berlin")
    assert hours.next_opening(skipped, utc(2026, 3, 28)) == utc(2026, 3, 29, 1)  # 03:00 CEST
    assert not hours.is_open(skipped, utc(2026, 3, 29, 0, 59, 59))
    assert hours.next_opening(skipped, utc(2026, 3, 30)) == utc(2026, 4, 5, 0, 30)  # a normal Sunday, CEST
    gone = schedule("Sun 02:00-03:00", "America/New_York")  # does not exist on 2026-03-08
    assert hours.next_opening(gone, local(NEW_YORK, 2026, 3, 7, 12)) == local(NEW_YORK, 2026, 3, 15, 2)


def test_a_repeated_time_means_its_first_occurrence_in_fall_back():
    early = schedule("Sun 01:00-02:30", "Europe/Berlin")  # 02:00-03:00 happens twice on 2026-10-25
    assert hours.next_opening(early, utc(2026, 10, 24, 12)) == utc(2026, 10, 24, 23)  # 01:00 CEST
    assert hours.is_open(early, utc(2026, 10, 25, 0, 29))
    assert not hours.is_open(early, local(BERLIN, 2026, 10, 25, 2, 30))  # 00:30 UTC, first 02:30
    assert not hours.is_open(early, local(BERLIN, 2026, 10, 25, 2, 15, fold=1))  # the repeated hour stays closed
    late = schedule("Sun 02:30-04:00", "Europe/Berlin")
    assert hours.next_opening(late, utc(2026, 10, 24, 12)) == local(BERLIN, 2026, 10, 25, 2, 30)
    assert hours.is_open(late, local(BERLIN, 2026, 10, 25, 2, 15, fold=1))
    assert not hours.is_open(late, local(BERLIN, 2026, 10, 25, 4))  # 03:00 UTC


def test_new_york_office_hours_across_both_changes():
    office = schedule("Mon-Fri 09:00-17:00", "America/New_York")
    assert hours.next_opening(office, utc(2026, 3, 7, 12)) == utc(2026, 3, 9, 13)  # EDT
    assert hours.next_opening(office, utc(2026, 10, 31, 12)) == utc(2026, 11, 2, 14)  # EST
    assert hours.is_open(office, utc(2026, 11, 2, 21, 59)) and not hours.is_open(office, utc(2026, 11, 2, 22))


def test_closures_override_the_week_for_whole_local_days():
    late = schedule("Fri 22:00-02:00", closures="2026-05-09")  # the Saturday
    assert hours.is_open(late, utc(2026, 5, 8, 23, 59)) and not hours.is_open(late, utc(2026, 5, 9, 0, 30))
    friday_off = schedule("Fri 22:00-02:00", closures="2026-05-08")
    assert not hours.is_open(friday_off, utc(2026, 5, 8, 23))
    assert hours.next_opening(friday_off, utc(2026, 5, 8, 23)) == utc(2026, 5, 9)  # the part after midnight
    holidays = schedule(zone="Europe/Berlin", closures="2026-12-24..2026-12-26")
    assert hours.is_open(holidays, local(BERLIN, 2026, 12, 23, 23, 59))
    assert not hours.is_open(holidays, local(BERLIN, 2026, 12, 24, 0))
    assert hours.next_opening(holidays, local(BERLIN, 2026, 12, 25, 12)) == local(BERLIN, 2026, 12, 27)


def test_closed_for_400_days_never_opens():
    start = date(2026, 5, 1)
    closed = schedule("Mon-Fri 09:00-17:00", closures=f"{start}..{start + timedelta(days=400)}")
    assert hours.next_opening(closed, utc(2026, 5, 1, 12)) is None
    assert hours.status_text(closed, utc(2026, 5, 1, 12)) == "Closed"
    shorter = schedule("Mon-Fri 09:00-17:00", closures=f"{start}..{start + timedelta(days=390)}")
    opening = hours.next_opening(shorter, utc(2026, 5, 1, 12))
    assert opening == utc(2027, 5, 27, 9)  # the first weekday after the closure
    assert hours.status_text(shorter, utc(2026, 5, 1, 12)) == "Closed (opens Thu 2027-05-27 09:00 UTC)"
    until = f"{start}..{start + timedelta(days=399)}"  # the horizon is 400 days from the instant asked about
    assert hours.next_opening(schedule("Mon-Sun 11:00-14:00", closures=until), utc(2026, 5, 1, 12)) == utc(
        2027, 6, 5, 11
    )
    assert hours.next_opening(schedule("Mon-Sun 13:00-14:00", closures=until), utc(2026, 5, 1, 12)) is None


def test_status_text():
    office = schedule("Mon-Fri 09:00-17:00", "Europe/Berlin")
    assert hours.status_text(office, utc(2026, 5, 4, 8)) == "Open"
    assert hours.status_text(office, utc(2026, 5, 2, 8)) == "Closed (opens Mon 09:00 Europe/Berlin)"


def test_naive_instants_are_utc():
    office = schedule("Mon 09:00-17:00")
    assert hours.is_open(office, datetime(2026, 5, 4, 9)) and not hours.is_open(office, datetime(2026, 5, 4, 17))


def test_hours_of_parses_once_per_stored_texts(caplog):
    first = hours.hours_of(Queue(name="A", weekly_hours="Mon 09:00-10:00", time_zone="Europe/Berlin"))
    assert hours.hours_of(Queue(name="B", weekly_hours="Mon 09:00-10:00", time_zone="Europe/Berlin")) is first
    assert first == schedule("Mon 09:00-10:00", "Europe/Berlin")
    with caplog.at_level(logging.WARNING, logger="agent_workspace.services.hours"):
        broken = hours.hours_of(Queue(name="C", weekly_hours="Mon 09:00-99:00"))
    assert broken.always_open and "unreadable business hours" in caplog.text


# Schedules of at most one interval per weekday, 15-minute steps, in zones with and without DST.
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata")
interval = st.tuples(st.integers(0, 95), st.integers(1, 96)).map(lambda t: (t[0] * 15, t[1] * 15))
weeks = st.lists(st.one_of(st.none(), interval), min_size=7, max_size=7)
closure_days = st.lists(st.tuples(st.integers(0, 400), st.one_of(st.integers(0, 20), st.just(450))), max_size=3)
instants = st.integers(0, 366 * 24 * 60).map(lambda minutes: utc(2026, 1, 1) + timedelta(minutes=minutes))


def _text(week: list) -> str:
    def clock(minutes: int) -> str:
        return "24:00" if minutes == 1440 else f"{minutes % 1440 // 60:02d}:{minutes % 60:02d}"

    return "; ".join(
        f"{hours.DAY_NAMES[day]} {clock(start)}-{clock(start + length)}"
        for day, slot in enumerate(week)
        if slot
        for start, length in [slot]
    )


def _built(week, zone, closures) -> hours.BusinessHours:
    text = _text(week)
    try:
        weekly = hours.parse_weekly_hours(text)
    except ValidationError:
        assume(False)  # the generated intervals overlap across midnight
    first = date(2026, 1, 1)
    ranges = tuple(
        (first + timedelta(days=start), first + timedelta(days=start + length)) for start, length in closures
    )
    return hours.BusinessHours(weekly, zone, ranges)


PROPERTY = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.filter_too_much],
)


@PROPERTY
@given(week=weeks, zone=st.sampled_from(ZONES), closures=closure_days, at=instants)
def test_the_next_opening_is_open_and_nothing_before_it_is(week, zone, closures, at):
    business = _built(week, zone, closures)
    opening = hours.next_opening(business, at)
    if hours.is_open(business, at):
        assert opening is None
        return
    if opening is None:  # only closures keep a schedule shut that long
        assert business.closures
        assert not any(hours.is_open(business, at + timedelta(hours=6 * n)) for n in range(400 * 4))
        return
    assert opening > at and hours.is_open(business, opening)
    assert not hours.is_open(business, opening - timedelta(seconds=1))
    step = max(timedelta(minutes=1), (opening - at) / 500)
    sample = at
    while sample < opening:
        assert not hours.is_open(business, sample), sample
        sample += step


@PROPERTY
@given(week=weeks, zone=st.sampled_from(("UTC", "Asia/Kolkata")), closures=closure_days, at=instants)
def test_is_open_agrees_with_the_wall_clock_where_there_is_no_dst(week, zone, closures, at):
    business = _built(week, zone, closures)
    wall = at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    closed_day = any(first <= wall.date() <= last for first, last in business.closures)
    covered = any(
        start <= wall < start + timedelta(minutes=(c.hour * 60 + c.minute - o.hour * 60 - o.minute) % 1440 or 1440)
        for day in (wall.date() - timedelta(days=1), wall.date())
        for weekday, o, c in (business.weekly or tuple((d, time(0), time(0)) for d in range(7)))
        if weekday == day.weekday()
        for start in [datetime.combine(day, o)]
    )
    assert hours.is_open(business, at) == (covered and not closed_day)


# ---------------------------------------------------------------- set_hours


def _stored(session, queue_id: int) -> tuple:
    session.expire_all()
    queue = session.get(Queue, queue_id)
    audits = session.exec(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == "queue.hours_changed")
    ).one()
    return queue.weekly_hours, queue.time_zone, queue.closures, queue.closed_message, audits


GOOD = {
    "weekly_hours": "mon-fri 9:00-17:00",
    "time_zone": "europe/berlin",
    "closures": "2026-12-25, 2026-12-24",
    "closed_message": "  We are closed.  ",
}


def test_set_hours_normalises_audits_and_tells_the_queue(session, announced):
    queue = make_queue(session, name="Billing")
    boss = make_user(session, username="sam", roles="workspace_user,supervisor")
    announced.take()
    hours.set_hours(session, queue_id=queue.id, **GOOD, actor_id=boss.id)
    assert announced.take() == [QueueChanged(queue.id)]
    assert _stored(session, queue.id) == (
        "Mon-Fri 09:00-17:00",
        "Europe/Berlin",
        "2026-12-24..2026-12-25",
        "We are closed.",
        1,
    )
    entry = session.exec(select(AuditLog).where(AuditLog.action == "queue.hours_changed")).one()
    assert (entry.actor_kind, entry.actor_id, entry.target_kind, entry.target_id) == (
        "agent",
        boss.id,
        "queue",
        queue.id,
    )
    assert json.loads(entry.detail)["time_zone"] == "Europe/Berlin"
    assert hours.describe(hours.hours_of(session.get(Queue, queue.id))).startswith(
        "Mon–Fri 09:00–17:00 (Europe/Berlin)"
    )
    hours.set_hours(
        session, queue_id=queue.id, weekly_hours="", time_zone="UTC", closures="", closed_message="", actor_id=None
    )
    assert _stored(session, queue.id) == ("", "UTC", "", "", 2)
    assert hours.hours_of(session.get(Queue, queue.id)).always_open


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weekly_hours", "Mon 09:00-17:00; Tue 9 to 5", "Weekly hours:"),
        ("weekly_hours", "Mon 09:00-17:00;" * 40, "Weekly hours: at most 500 characters."),
        ("time_zone", "Europe/Berlinn", "Time zone:"),
        ("closures", "2026-12-24, 2026-13-01", "Closures:"),
        ("closures", "2026-12-24, " * 200, "Closures: at most 2,000 characters."),
        ("closed_message", "x" * 501, "Out-of-hours message: at most 500 characters."),
    ],
)
def test_bad_input_changes_nothing(session, field, value, message):
    queue = make_queue(session, name="Billing")
    hours.set_hours(session, queue_id=queue.id, **GOOD, actor_id=None)
    before = _stored(session, queue.id)
    with pytest.raises(ValidationError, match=message):
        hours.set_hours(
            session, queue_id=queue.id, **{**GOOD, "time_zone": "UTC", "closures": "", field: value}, actor_id=None
        )
    session.rollback()
    assert _stored(session, queue.id) == before


def test_the_dashboard_shows_each_queue_open_or_closed(session):
    make_queue(session, name="Always")
    closed_queue = make_queue(session, name="Holiday")
    hours.set_hours(
        session,
        queue_id=closed_queue.id,
        weekly_hours="Mon-Fri 09:00-17:00",
        time_zone="Europe/Berlin",
        closures="2026-05-01",
        closed_message="",
        actor_id=None,
    )
    friday = utc(2026, 5, 1, 10)  # a weekday, but closed
    stats = {
        s.name: s.hours_status for s in dashboard.queue_stats(session, since=dashboard.start_of_day(friday), now=friday)
    }
    assert stats == {"Always": "Open", "Holiday": "Closed (opens Mon 09:00 Europe/Berlin)"}


def test_an_unknown_queue(session):
    with pytest.raises(NotFound):
        hours.set_hours(session, queue_id=999, **GOOD, actor_id=None)
