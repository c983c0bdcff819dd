"""Fixtures of the sync contract tests: a migrated template database, a frozen
clock and a statement counter."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from agent_workspace import models
from agent_workspace.migrations import upgrade
from tests.services.helpers import OFFER_SECONDS


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database per module, copied for every example."""
    path = tmp_path_factory.mktemp("sync") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def offer_timeout(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("AW_OFFER_TIMEOUT_SECONDS", str(OFFER_SECONDS))
    return OFFER_SECONDS


class Clock:
    """``models.utcnow`` stopped: a view read now and a fresh read later must agree,
    and figures that follow the clock (typing, estimated waits) change without any
    notice, which the pages' ticks handle, not pushes."""

    def __init__(self) -> None:
        self.now = models.utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Every module that imported ``utcnow`` gets the stopped clock."""
    stopped, real = Clock(), models.utcnow
    for name, module in list(sys.modules.items()):
        if (name.startswith("agent_workspace") or name.startswith("tests")) and getattr(module, "utcnow", None) is real:
            monkeypatch.setattr(module, "utcnow", stopped)
    return stopped


class Statements(list):
    """The SQL statements an engine ran while counting."""


@pytest.fixture
def count_statements() -> Callable[[Engine], contextmanager]:
    """``with count_statements(engine) as ran: ...``: ``ran`` lists the statements run inside
    (SQLAlchemy's ``before_cursor_execute`` on the engine)."""

    @contextmanager
    def counting(engine: Engine) -> Iterator[Statements]:
        ran = Statements()

        def heard(_conn, _cursor, statement, _params, _context, _many) -> None:
            if not statement.startswith("BEGIN"):  # SQLite's transaction start (db.make_engine), not a read
                ran.append(statement)

        event.listen(engine, "before_cursor_execute", heard)
        try:
            yield ran
        finally:
            event.remove(engine, "before_cursor_execute", heard)

    return counting
