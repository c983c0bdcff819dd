"""Two app processes on one PostgreSQL database and one Redis, per test session.

- A private PostgreSQL database ``aw_scale_<random>`` (migrated with
  ``agent-workspace db upgrade``, dropped at the end) and a private Redis
  database number (one that was empty; flushed at the end).
- Two temporary copies of the repository, each running
  ``reflex run --env prod`` on its own free port: process A with one worker,
  process B with ``AW_SCALE_B_WORKERS`` (default 2) Granian workers, so the
  tests cross both a process boundary and a worker boundary.
- Both run ``--backend-only``: the tests speak the websocket protocol the
  pages speak (``protocol.WsClient``), so no frontend build is needed and the
  whole suite takes well under two minutes. ``AW_SCALE_SINGLE_PORT=1`` runs A
  as ``--single-port`` with the production frontend build instead.

Skipped, with the reason, when PostgreSQL or Redis is unreachable.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.scaleout import harness, protocol

OFFER_TIMEOUT_SECONDS = 6
PRESENCE_GRACE_SECONDS = 60
SOCKET_PING_SECONDS = 2  # ping interval and timeout: a socket that answers no ping is dropped within 4 s
RESYNC_QUIET_SECONDS = 2
PASSWORD = "correct-horse-battery"


@dataclass
class Cluster:
    a: harness.AppProcess
    b: harness.AppProcess
    database_url: str
    redis_url: str
    engine: Engine

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def queue(self, prefix: str = "Scale") -> tuple[int, str]:
        from agent_workspace.services import routing

        name = f"{prefix} {uuid.uuid4().hex[:6]}"
        with self.session() as session:
            queue = routing.create_queue(session, name=name)
            return queue.id, name

    def agent(self, *, queues: list[str], capacity: int = 4) -> tuple[int, str]:
        """A new agent in ``queues``; returns (user id, aw_session cookie header)."""
        from agent_workspace.services import auth

        username = f"agent{uuid.uuid4().hex[:8]}"
        with self.session() as session:
            user = auth.create_user(
                session,
                username=username,
                password=PASSWORD,
                display_name=username.title(),
                roles=["workspace_user"],
                capacity=capacity,
                queues=queues,
            )
            user_id = user.id
        return user_id, protocol.session_cookie(self.engine, username, PASSWORD)

    def sign_off(self, *user_ids: int) -> None:
        """Agents of a finished test go Offline now, so no later presence
        expiry (and the queue drain that follows it) lands in another test."""
        from sqlalchemy import update
        from sqlmodel import col

        from agent_workspace.models import User

        with self.session() as session:
            session.execute(update(User).where(col(User.id).in_(user_ids)).values(presence="offline"))
            session.commit()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    for problem in (harness.pg_problem(), harness.redis_problem()):
        if problem:
            pytest.skip(f"scale-out tests need PostgreSQL and Redis: {problem}")
    base = tmp_path_factory.mktemp("scaleout")
    db_name, database_url = harness.create_pg_database("aw_scale")
    redis_db = harness.pick_redis_db()
    redis_url = harness.redis_url(redis_db)
    copies: list[harness.AppCopy] = []
    apps: list[harness.AppProcess] = []
    engine = None
    try:
        extra = {
            "AW_OFFER_TIMEOUT_SECONDS": str(OFFER_TIMEOUT_SECONDS),
            "AW_PRESENCE_GRACE_SECONDS": str(PRESENCE_GRACE_SECONDS),
            "AW_DELAYED_CLAIM_SECONDS": "5",
            "AW_RESYNC_QUIET_SECONDS": str(RESYNC_QUIET_SECONDS),
            "REFLEX_SOCKET_INTERVAL": str(SOCKET_PING_SECONDS),
            "REFLEX_SOCKET_TIMEOUT": str(SOCKET_PING_SECONDS),
        }
        b_workers = int(os.environ.get("AW_SCALE_B_WORKERS", "2"))
        for name, workers in (("a", 1), ("b", b_workers)):
            copy = harness.AppCopy(base, name=name)
            copies.append(copy)
            env = harness.app_env(
                database_url=database_url,
                data_dir=base / f"data-{name}",
                redis_url=redis_url,
                workers=workers,
                extra=extra,
            )
            if name == "a":
                harness.run_cli(copy, env, "db", "upgrade")
            single_port = name == "a" and os.environ.get("AW_SCALE_SINGLE_PORT") == "1"
            apps.append(
                harness.AppProcess(copy, env, single_port=single_port, log_path=base / f"server-{name}.log").start()
            )
        for app in apps:
            app.wait_healthy(timeout=420)
        from agent_workspace.db import make_engine

        engine = make_engine(database_url)
        yield Cluster(apps[0], apps[1], database_url, redis_url, engine)
    finally:
        for app in apps:
            app.stop()
        if engine is not None:
            engine.dispose()
        for app in apps:
            log = app.log_tail(20000)
            if "Traceback" in log:
                print(f"--- server log {app.log_path} (tracebacks found) ---\n{log[-6000:]}")
        harness.release_redis_db(redis_db)
        harness.drop_pg_database(db_name)
        for copy in copies:
            copy.remove()


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.scaleout)
