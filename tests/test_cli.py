"""The admin command line, run as a subprocess the way an administrator runs it."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from agent_workspace.db import session_scope
from agent_workspace.models import Queue, QueueMember, User
from agent_workspace.services import hours, routing


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "agent_workspace.cli", *args], capture_output=True, text=True, check=False
    )


@pytest.fixture
def cli_database(database_url):
    """The test database, shared with the subprocess through AW_DATABASE_URL."""
    return database_url


def test_db_upgrade_and_seed_print_the_demo_logins(cli_database):
    assert run_cli("db", "upgrade").returncode == 0
    seeded = run_cli("seed")
    assert seeded.returncode == 0, seeded.stderr
    assert "alice" in seeded.stdout and "alice-demo-pass" in seeded.stdout
    again = run_cli("seed")
    assert "already has data" in again.stdout


def counts() -> tuple[int, int]:
    """Users and queues, read in a short transaction that holds no lock."""
    with session_scope(writer=False) as session:
        return len(session.exec(select(User)).all()), len(session.exec(select(Queue)).all())


def test_user_and_queue_create(cli_database):
    assert run_cli("queue", "create", "--name", "Returns", "--description", "Send things back").returncode == 0
    created = run_cli(
        "user",
        "create",
        "--username",
        "zoe",
        "--password",
        "long-enough-pw",
        "--role",
        "workspace_user",
        "--role",
        "supervisor",
        "--capacity",
        "3",
        "--queue",
        "Returns",
    )
    assert created.returncode == 0, created.stderr
    with session_scope(writer=False) as session:
        user = session.exec(select(User).where(User.username == "zoe")).one()
        assert user.roles == "supervisor,workspace_user" and user.capacity == 3
        queue = session.exec(select(Queue).where(Queue.name == "Returns")).one()
        assert session.get(QueueMember, (queue.id, user.id)) is not None
    assert run_cli("user", "set-password", "--username", "zoe", "--password", "another-long-pw").returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("user", "create", "--username", "dup", "--password", "long-enough-pw"), "is taken"),
        (
            ("user", "create", "--username", "x2", "--password", "long-enough-pw", "--role", "wizard"),
            "Unknown role 'wizard'",
        ),
        (("user", "create", "--username", "x3", "--password", "short"), "at least 8 characters"),
        (
            ("user", "create", "--username", "x4", "--password", "long-enough-pw", "--queue", "Nope"),
            "No queue named 'Nope'",
        ),
        (("queue", "create", "--name", "Dup"), "exists already"),
        (("user", "set-password", "--username", "ghost", "--password", "long-enough-pw"), "No user named"),
    ],
)
def test_bad_input_gets_a_clear_error_and_changes_nothing(cli_database, args, message):
    assert run_cli("user", "create", "--username", "dup", "--password", "long-enough-pw").returncode == 0
    assert run_cli("queue", "create", "--name", "Dup").returncode == 0
    before = counts()
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert counts() == before


def stored_hours(name: str) -> tuple[str, str, str, str]:
    with session_scope(writer=False) as session:
        queue = session.exec(select(Queue).where(Queue.name == name)).one()
        return queue.weekly_hours, queue.time_zone, queue.closures, queue.closed_message


def test_queue_hours_sets_only_the_options_given_and_prints_them(cli_database):
    assert run_cli("queue", "create", "--name", "Billing").returncode == 0
    shown = run_cli("queue", "hours", "--name", "Billing")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == ["Open around the clock", "Open now."]

    saved = run_cli(
        "queue",
        "hours",
        "--name",
        "Billing",
        "--weekly",
        "mon-fri 9:00-17:00",
        "--time-zone",
        "Europe/Berlin",
        "--message",
        "Back soon",
    )
    assert saved.returncode == 0, saved.stderr
    assert "Mon–Fri 09:00–17:00 (Europe/Berlin)" in saved.stdout
    assert stored_hours("Billing") == ("Mon-Fri 09:00-17:00", "Europe/Berlin", "", "Back soon")

    closed = run_cli("queue", "hours", "--name", "Billing", "--closures", "2000-01-01..2999-12-31")
    assert closed.returncode == 0, closed.stderr
    assert stored_hours("Billing") == ("Mon-Fri 09:00-17:00", "Europe/Berlin", "2000-01-01..2999-12-31", "Back soon")
    assert "Closed now; it does not open within 400 days." in closed.stdout
    assert "Out-of-hours message: Back soon" in closed.stdout

    reopened = run_cli("queue", "hours", "--name", "Billing", "--closures", "", "--weekly", "Mon-Sun 00:00-24:00")
    assert reopened.returncode == 0 and "Open now." in reopened.stdout


def test_queue_hours_tells_when_a_closed_queue_opens(cli_database):
    assert run_cli("queue", "create", "--name", "Nights").returncode == 0
    opens = (datetime.now(UTC) + timedelta(days=3)).date()  # a weekday it is not today (nor tomorrow)
    day = hours.DAY_NAMES[opens.weekday()]
    saved = run_cli("queue", "hours", "--name", "Nights", "--weekly", f"{day} 03:00-04:00")
    assert saved.returncode == 0, saved.stderr
    assert f"Closed now; opens {day} 03:00 UTC ({opens} 03:00 UTC)." in saved.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--weekly", "Mon 09:00-25:00"), 'Weekly hours: "25:00" in "Mon 09:00-25:00" is not a time'),
        (
            ("--weekly", "Mon-Fri 09:00-17:00", "--time-zone", "Mars/Olympus"),
            'Time zone: "Mars/Olympus" is not a known time zone',
        ),
        (("--closures", "2026-12-24..2026-12-01"), 'Closures: "2026-12-24..2026-12-01" ends before it starts.'),
        (("--message", "x" * 501), "Out-of-hours message: at most 500 characters."),
    ],
)
def test_queue_hours_bad_input_changes_nothing(cli_database, args, message):
    with session_scope() as session:
        queue = routing.create_queue(session, name="Billing")
        hours.set_hours(
            session,
            queue_id=queue.id,
            weekly_hours="Sat 10:00-14:00",
            time_zone="UTC",
            closures="2026-12-24",
            closed_message="",
            actor_id=None,
        )
    before = stored_hours("Billing")
    result = run_cli("queue", "hours", "--name", "Billing", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert stored_hours("Billing") == before


def test_queue_hours_of_an_unknown_queue(cli_database):
    result = run_cli("queue", "hours", "--name", "Nope", "--weekly", "")
    assert result.returncode == 2 and "No queue named 'Nope'." in result.stderr
