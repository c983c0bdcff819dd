"""The engine's own start of a transaction on SQLite (``db.make_engine``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from agent_workspace import db


def test_a_writer_starts_with_begin_immediate_and_a_reader_defers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'begin.db'}"
    writer, reader = db.make_engine(url), db.make_engine(url, writer=False)
    with writer.connect() as conn:
        conn.execute(text("SELECT 1"))
        other = sqlite3.connect(tmp_path / "begin.db", timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")  # the writer holds the write lock from its first statement
        other.close()
    with reader.connect() as conn:
        conn.execute(text("SELECT 1"))
        other = sqlite3.connect(tmp_path / "begin.db", timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # a read takes no write lock
        other.execute("ROLLBACK")
        other.close()
    writer.dispose()
    reader.dispose()


def test_a_begin_that_cannot_get_the_lock_fails_as_any_statement_does(tmp_path: Path) -> None:
    """Callers catch SQLAlchemy's errors (``state.views.deliver`` keeps the message for Retry)."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    engine = db.make_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA busy_timeout=50")  # (the connection is set to WAL now)
        conn.commit()
        holder = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(OperationalError, match="locked"):
                conn.execute(text("SELECT 1"))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    engine.dispose()
