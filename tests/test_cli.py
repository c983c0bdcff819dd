"""The admin command line, run as a subprocess the way an administrator runs it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlmodel import select

from agent_workspace.db import session_scope
from agent_workspace.models import Queue, QueueMember, User


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agent_workspace.cli", *args], capture_output=True, text=True, check=False)


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
    created = run_cli("user", "create", "--username", "zoe", "--password", "long-enough-pw", "--role", "workspace_user", "--role", "supervisor", "--capacity", "3", "--queue", "Returns")
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
        (("user", "create", "--username", "x2", "--password", "long-enough-pw", "--role", "wizard"), "Unknown role 'wizard'"),
        (("user", "create", "--username", "x3", "--password", "short"), "at least 8 characters"),
        (("user", "create", "--username", "x4", "--password", "long-enough-pw", "--queue", "Nope"), "No queue named 'Nope'"),
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
