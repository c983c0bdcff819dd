"""The servers under load, from temporary copies: the app (``sqlite``: one process; ``scaleout``: a private
PostgreSQL database, a private redis-server and two processes) and the minimal push app
(``bench/minimal_app``, one process). Each gives its CPU and memory, its Redis command count and the
server's side of the message ledger: every load message it stored, with the chat it stored it in."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

from tests.scaleout import harness, protocol

ROOT = Path(__file__).resolve().parent.parent
MINIMAL_SRC = ROOT / "bench" / "minimal_app"
PASSWORD = "load-test-password"
MARK_LIKE = "L|%"  # load_clients.MARK: every load message's body starts so


def cpu_snapshot(apps: list[harness.AppProcess]) -> dict[int, tuple[float, int, str]]:
    """pid -> (CPU seconds, RSS bytes, command line) of every server process of these apps."""
    found = {}
    for app in apps:
        for pid in app.pids():
            stat = harness.proc_stat(pid)
            if stat and ("reflex" in stat[2] or "granian" in stat[2] or "python" in stat[2]):
                found[pid] = stat
    return found


class PrivateRedis:
    """A redis-server of this run alone (free port, no disk). Redis counts commands per server only
    (INFO commandstats; 7.0 keeps no per-client or per-database totals), so a private server is
    what makes "Redis commands per delivered message" exact when other runs share the machine's."""

    def __init__(self, base: Path):
        self.port = harness.free_port()
        self.dir = base / "redis"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port)

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("scaleout mode starts its own redis-server: install redis-server")
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "redis.log", "w") as log:
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                cwd=self.dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 20
        while True:
            try:
                self.client().ping()
                return
            except Exception:  # noqa: BLE001 - not listening yet
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit(
                        f"redis-server did not start: {(self.dir / 'redis.log').read_text()[-2000:]}"
                    ) from None
                time.sleep(0.1)

    def commands(self) -> int:
        """Commands the server ran so far, without our own INFO calls."""
        stats = self.client().info("commandstats")
        return sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")

    def memory(self) -> int:
        return int(self.client().info("memory")["used_memory"])

    def stop(self) -> None:
        harness.stop_process_group(self.process)


class Servers:
    """The app: ``sqlite`` or ``scaleout``."""

    def __init__(self, args, base: Path):
        self.args = args
        self.base = base
        self.apps: list[harness.AppProcess] = []
        self.copies: list[harness.AppCopy] = []
        self.db_name = ""
        self.redis: PrivateRedis | None = None

    def start(self) -> None:
        extra = {"AW_DELAYED_CLAIM_SECONDS": "1.5"}
        if self.args.mode == "sqlite":
            self.database_url = f"sqlite:///{self.base / 'load.db'}"
            copy = harness.AppCopy(self.base, name="load")
            self.copies.append(copy)
            env = harness.app_env(database_url=self.database_url, data_dir=self.base / "data", workers=1, extra=extra)
            harness.run_cli(copy, env, "db", "upgrade")
            self.apps.append(harness.AppProcess(copy, env, log_path=self.base / "server.log").start())
        else:
            problem = harness.pg_problem()
            if problem:
                raise SystemExit(problem)
            self.db_name, self.database_url = harness.create_pg_database("aw_load")
            self.redis = PrivateRedis(self.base)
            self.redis.start()
            for name in ("a", "b")[: self.args.processes]:
                copy = harness.AppCopy(self.base, name=f"load-{name}")
                self.copies.append(copy)
                env = harness.app_env(
                    database_url=self.database_url,
                    data_dir=self.base / f"data-{name}",
                    redis_url=self.redis.url,
                    workers=self.args.workers,
                    extra=extra,
                )
                if name == "a":
                    harness.run_cli(copy, env, "db", "upgrade")
                self.apps.append(harness.AppProcess(copy, env, log_path=self.base / f"server-{name}.log").start())
        for app in self.apps:
            app.wait_healthy(timeout=300)

    @property
    def ports(self) -> tuple[int, int]:
        return self.apps[0].port, self.apps[-1].port

    def snapshot(self) -> dict[int, tuple[float, int, str]]:
        return cpu_snapshot(self.apps)

    def redis_memory(self) -> int:
        return self.redis.memory() if self.redis else 0

    def redis_commands(self) -> int | None:
        return self.redis.commands() if self.redis else None

    def stored(self) -> list[tuple[str, str]]:
        """(body, customer name of its chat) of every load message the server stored, one per row."""
        from sqlalchemy import text
        from sqlmodel import Session

        from agent_workspace.db import make_engine

        engine = make_engine(self.database_url, writer=False)
        with Session(engine) as session:
            rows = session.exec(
                text(
                    "SELECT m.body, c.name FROM message m JOIN interaction i ON i.id = m.interaction_id "
                    "JOIN customer c ON c.id = i.customer_id WHERE m.body LIKE :mark"
                ),
                params={"mark": MARK_LIKE},
            ).all()
        engine.dispose()
        return [(body, name) for body, name in rows]

    def stop(self) -> None:
        for app in self.apps:
            app.stop()
        if self.redis is not None:
            self.redis.stop()
        if self.db_name:
            harness.drop_pg_database(self.db_name)
        for copy in self.copies:
            copy.remove()


class MinimalServer:
    """``bench/minimal_app``: one process, one worker, in-memory state manager, its SQLite file here."""

    def __init__(self, args, base: Path):
        self.args = args
        self.base = base
        self.db_path = base / "minimal.db"
        self.apps: list[harness.AppProcess] = []

    def start(self) -> None:
        copy = self.base / "minimal_app"
        shutil.copytree(MINIMAL_SRC, copy, ignore=shutil.ignore_patterns(".web", "__pycache__", ".states"))
        env = harness.app_env(database_url="", data_dir=self.base, extra={"MINIMAL_CHAT_DB": str(self.db_path)})
        for key in ("AW_DATABASE_URL", "AW_DATA_DIR", "AW_CHATS_PER_ADDRESS"):  # the app's settings, not this one's
            env.pop(key)
        # AppProcess runs ``reflex run --env prod --backend-only`` in ``copy.dir``: any directory will do.
        app = harness.AppProcess(SimpleNamespace(dir=copy), env, log_path=self.base / "server-minimal.log")
        self.apps.append(app.start())
        app.wait_healthy(timeout=300, path="/ping")

    @property
    def ports(self) -> tuple[int, int]:
        return self.apps[0].port, self.apps[0].port

    def snapshot(self) -> dict[int, tuple[float, int, str]]:
        return cpu_snapshot(self.apps)

    def redis_memory(self) -> int:
        return 0

    def redis_commands(self) -> int | None:
        return None

    def stored(self) -> list[tuple[str, str]]:
        """(body, pair) of every load message the minimal app stored."""
        if not self.db_path.exists():
            return []
        with sqlite3.connect(self.db_path) as db:
            return db.execute("SELECT body, pair FROM message WHERE body LIKE ?", (MARK_LIKE,)).fetchall()

    def stop(self) -> None:
        for app in self.apps:
            app.stop()


def seed(database_url: str, *, queues: int, agents: int, capacity: int) -> tuple[list[int], list[str]]:
    from sqlmodel import Session

    from agent_workspace.db import make_engine
    from agent_workspace.services import auth, routing

    engine = make_engine(database_url)
    queue_ids, names = [], []
    with Session(engine, expire_on_commit=False) as session:
        for n in range(queues):
            queue = routing.create_queue(session, name=f"Load queue {n}")
            queue_ids.append(queue.id)
            names.append(queue.name)
        users = []
        for n in range(agents):
            username = f"loadagent{n:03d}"
            auth.create_user(
                session,
                username=username,
                password=PASSWORD,
                display_name=f"Agent {n:03d}",
                roles=["workspace_user"],
                capacity=capacity,
                queues=[names[n % queues]],
            )
            users.append(username)
    cookies = [protocol.session_cookie(engine, u, PASSWORD) for u in users]
    engine.dispose()
    return queue_ids, cookies
