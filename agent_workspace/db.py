"""The database engine and sessions, shared by the app, the CLI and the tests."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from functools import cache, partial
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, create_engine

from agent_workspace.config import database_url
from agent_workspace.services import events

DB_THREADS = 16
# The delivery worker's SMTP conversations: a slow mail server ties up these, never the database threads.
MAIL_THREADS = 4


def make_engine(url: str, *, writer: bool = True) -> Engine:
    """An engine tuned for the embedded SQLite default or for PostgreSQL.

    SQLite runs in WAL mode with a long busy timeout. A writer engine starts
    every transaction with ``BEGIN IMMEDIATE`` so that a read-then-write
    (capacity check, claim) holds the write lock from its first statement; a
    reader engine uses a deferred ``BEGIN`` so reads never wait for writers.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=DB_THREADS + 4,  # one connection per database thread, none opened and dropped
            max_overflow=20,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

        def _sqlite_begin(dbapi_connection) -> None:
            """The dialect's own start of a transaction (a failure is wrapped as any
            statement's). Not an engine ``begin`` listener: that ran the statement
            through the whole execution path, and any engine listener makes every
            later statement dispatch events; this is every transaction's first step."""
            dbapi_connection.execute(begin)

        engine.dialect.do_begin = _sqlite_begin  # type: ignore[method-assign]
        return engine
    # A connection for every database thread (reads and writes share this pool on
    # PostgreSQL), kept open: a connection beyond ``pool_size`` is closed when
    # returned, and opening one again forks a PostgreSQL server process.
    return create_engine(url, pool_size=2 * DB_THREADS + 4, max_overflow=10, pool_pre_ping=True)


@cache
def engine_for(url: str, writer: bool = True) -> Engine:
    if not url.startswith("sqlite") and not writer:
        # One pool is enough for PostgreSQL. A read sees one snapshot from its first
        # statement, as on SQLite, so its change version and its rows agree (audit.change_version).
        return engine_for(url, True).execution_options(isolation_level="REPEATABLE READ")
    return make_engine(url, writer=writer)


def get_engine(*, writer: bool = True) -> Engine:
    return engine_for(database_url(), writer)


# SQLite lets one transaction write at a time. Writers of this process take
# turns here first: a thread waiting in SQLite's busy handler polls with sleeps
# of up to 100 ms, so the write lock sits idle between holders; a Python lock
# hands over at once. Other processes (the CLI) still meet at SQLite's own lock.
_sqlite_write_turn = threading.RLock()


@contextmanager
def session_scope(*, writer: bool = True) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error.

    ``writer=False`` for read-only work: on SQLite it does not take the write lock.
    A writer holds this process's SQLite write turn for the whole unit, so do
    nothing slow (hashing, SMTP, file I/O) inside it: do that before or after.
    """
    url = database_url()
    turn = _sqlite_write_turn if writer and url.startswith("sqlite") else nullcontext()
    session = Session(engine_for(url, writer), expire_on_commit=False)
    events.hold(session)
    try:
        with turn, session:
            try:
                yield session
                if session.in_transaction():  # (a service that committed itself left none)
                    session.commit()
            except BaseException:
                session.rollback()
                raise
    finally:
        events.release(session)  # what committed is announced, outside the write turn


@contextmanager
def read_connection() -> Iterator[Connection]:
    """A read on a bare connection of the reader engine, for the lookups that run for
    every event and message (the session check, a change's audience): an ORM session
    and its unit of work cost more than the one indexed statement they run. Nothing
    is written (closing rolls the read transaction back), so nothing is announced."""
    with engine_for(database_url(), False).connect() as connection:
        yield connection


T = TypeVar("T")


@cache
def _executor(purpose: str) -> ThreadPoolExecutor:
    """The threads that run database work: one pool for work that writes, one
    for reads, so reads (the session check before every event, pushes) never
    queue behind writers waiting for their turn; and a small one for the
    delivery worker's SMTP conversations, so they never hold the others' threads."""
    return ThreadPoolExecutor(MAIL_THREADS if purpose == "mail" else DB_THREADS, thread_name_prefix=f"aw-db-{purpose}")


async def _in_pool(purpose: str, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
    """Run ``fn`` on one of the pools with the caller's context variables, as
    ``asyncio.to_thread`` does: what commits there is announced as the event
    that asked for it (the realtime layer reads which tab that was)."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(
        _executor(purpose), partial(context.run, fn, *args, **kwargs)
    )


async def run_blocking(fn: Callable[..., T], /, *args, **kwargs) -> T:
    """Run blocking database work off the event loop, on a pool sized to the
    engines' connection pools (no connection is opened and dropped per call)."""
    return await _in_pool("write", fn, args, kwargs)


async def run_mailing(fn: Callable[..., T], /, *args, **kwargs) -> T:
    """Run an SMTP conversation (no session: it must not hold the database) on the mail threads."""
    return await _in_pool("mail", fn, args, kwargs)


async def run_reading(fn: Callable[..., T], /, *args, **kwargs) -> T:
    """``run_blocking`` for work that only reads."""
    return await _in_pool("read", fn, args, kwargs)
