"""Changes are published once their transaction commits, never before and never for a rollback."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session

from agent_workspace import db
from agent_workspace.services import events
from agent_workspace.services.events import AgentChanged, QueueChanged, announce
from tests.announced import hearing
from tests.factories import make_queue


def test_a_change_is_heard_at_commit_not_when_announced(session: Session, announced) -> None:
    announce(session, QueueChanged(1))
    assert announced == []
    session.commit()
    assert announced.take() == [QueueChanged(1)]
    session.commit()  # an empty transaction tells nobody again
    assert announced == []


def test_a_rolled_back_change_is_never_heard(session: Session, announced) -> None:
    announce(session, QueueChanged(1))
    session.rollback()
    session.commit()
    assert announced == []


def test_each_change_is_heard_once_in_the_order_announced(session: Session, announced) -> None:
    announce(session, AgentChanged(2), QueueChanged(1), AgentChanged(2))
    announce(session, QueueChanged(1), QueueChanged(3))
    session.commit()
    assert announced.take() == [AgentChanged(2), QueueChanged(1), QueueChanged(3)]


def test_a_unit_of_work_publishes_after_letting_go_of_the_write_turn(database_url: str) -> None:
    """Finding a change's audience reads the database: it must not hold the writers' turn."""
    free: list[bool] = []

    def publisher(changes: list) -> None:
        def try_the_turn() -> None:
            if db._sqlite_write_turn.acquire(blocking=False):
                db._sqlite_write_turn.release()
                free.append(True)
            else:
                free.append(False)

        other = threading.Thread(target=try_the_turn)
        other.start()
        other.join()

    previous = events._publisher
    events.set_publisher(publisher)
    try:
        with db.session_scope() as session:
            make_queue(session, name="Billing")  # commits inside the unit: held until it ends
            announce(session, QueueChanged(1))
            assert free == []
    finally:
        events.set_publisher(previous)
    assert free == [True]


def test_a_unit_that_fails_publishes_only_what_it_committed(database_url: str) -> None:
    with hearing() as heard, pytest.raises(RuntimeError):
        with db.session_scope() as session:
            announce(session, QueueChanged(1))
            session.commit()
            announce(session, QueueChanged(2))
            raise RuntimeError("the action failed after its first commit")
    assert heard == [QueueChanged(1)]
