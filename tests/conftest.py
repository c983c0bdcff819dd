"""Shared fixtures: every test gets its own freshly migrated database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from agent_workspace import db
from agent_workspace.migrations import upgrade
from tests.announced import Announced, hearing


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new SQLite database, migrated to head, configured as the app's database."""
    url = f"sqlite:///{tmp_path / 'test.db'}"
    upgrade(url)
    monkeypatch.setenv("AW_DATABASE_URL", url)
    monkeypatch.setenv("AW_DATA_DIR", str(tmp_path / "data"))
    yield url
    for writer in (True, False):
        db.engine_for(url, writer).dispose()
    db.engine_for.cache_clear()


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """A session on the test database (writer engine); commit as the service would."""
    with Session(db.get_engine(), expire_on_commit=False) as s:
        yield s


@pytest.fixture
def announced() -> Iterator[Announced]:
    """What services announce, as the realtime layer would hear it once their transaction commits."""
    with hearing() as heard:
        yield heard
