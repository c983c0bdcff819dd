"""Running the app as several real processes.

Shared by the scale-out tests (``tests/scaleout``) and the load generator
(``bench/load.py``); talking to the apps like a browser is ``protocol``'s:

- ``AppCopy`` / ``AppProcess``: a temporary copy of the repository (the
  working tree is never used to run an app) and ``reflex run --env prod``
  started from it on a free port, in its own process group, stopped by that
  group only.
- ``create_pg_database`` / ``pick_redis_db``: a private PostgreSQL database
  and a private Redis database number (an index that was empty), so several
  runs and other engineers' apps never see each other's data.
- ``proc_stat``: a process's CPU time and memory, from /proc.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_DSN = os.environ.get("AW_SCALE_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_URL_TEMPLATE = os.environ.get("AW_SCALE_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/{db}")
REDIS_HOST = os.environ.get("AW_SCALE_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("AW_SCALE_REDIS_PORT", "6379"))


# ---------------------------------------------------------------- infrastructure


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any failure means "skip"
        return f"PostgreSQL unreachable at {PG_ADMIN_DSN}: {error}"
    return None


def redis_problem() -> str | None:
    try:
        import redis

        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_connect_timeout=3).ping()
    except Exception as error:  # noqa: BLE001
        return f"Redis unreachable at {REDIS_HOST}:{REDIS_PORT}: {error}"
    return None


def create_pg_database(prefix: str = "aw_scale") -> tuple[str, str]:
    """A new empty database; returns (name, SQLAlchemy URL)."""
    import psycopg

    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, PG_URL_TEMPLATE.format(db=name)


def drop_pg_database(name: str) -> None:
    import psycopg

    if not name.startswith("aw_scale_") and not name.startswith("aw_load_"):
        raise ValueError(f"refusing to drop {name!r}: not one of ours")
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pick_redis_db() -> int:
    """An empty Redis database number (1-15), marked as taken by a key of ours."""
    import redis

    candidates = list(range(1, 16))
    random.shuffle(candidates)
    for index in candidates:
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=index)
        # SETNX on an empty db: another run picking the same index sees dbsize > 0.
        if client.dbsize() == 0 and client.set("aw_scale_owner", f"{os.getpid()}-{uuid.uuid4().hex}", nx=True):
            if client.dbsize() == 1:
                return index
            client.delete("aw_scale_owner")
    raise RuntimeError("no empty Redis database number (1-15) is free")


def release_redis_db(index: int) -> None:
    """Empty the database we picked (it was empty when we took it)."""
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=index)
    if client.exists("aw_scale_owner"):
        client.flushdb()


def redis_url(index: int) -> str:
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{index}"


# ---------------------------------------------------------------- app processes


def _repo_files() -> list[str]:
    """Tracked files plus untracked, not ignored ones (read-only git query)."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [f for f in out.split("\0") if f and (ROOT / f).is_file()]


class AppCopy:
    """A snapshot of the repository in a temporary directory, with .venv and .tools linked."""

    def __init__(self, base: Path | None = None, *, name: str = "app"):
        self.dir = Path(tempfile.mkdtemp(prefix=f"aw-{name}-", dir=base))
        for rel in _repo_files():
            target = self.dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, target)
        for link in (".venv", ".tools"):
            if (ROOT / link).exists():
                (self.dir / link).symlink_to(ROOT / link)

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def app_env(
    *,
    database_url: str,
    data_dir: Path,
    redis_url: str | None = None,
    workers: int = 1,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    env = {
        **os.environ,
        "AW_DATABASE_URL": database_url,
        "AW_DATA_DIR": str(data_dir),
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "GRANIAN_WORKERS": str(workers),
        # Every simulated customer comes from 127.0.0.1: lift the per-address chat limit.
        "AW_CHATS_PER_ADDRESS": "1000000",
        "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    for key in ("REFLEX_DB_URL", "REFLEX_REDIS_URL", "PYTEST_CURRENT_TEST"):
        env.pop(key, None)
    if redis_url:
        env["REFLEX_REDIS_URL"] = redis_url
    env.update(extra or {})
    return env


def run_cli(copy: AppCopy, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "agent_workspace.cli", *args],
        cwd=copy.dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"agent-workspace {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


class AppProcess:
    """``reflex run --env prod`` from a copy, in its own process group."""

    def __init__(
        self,
        copy: AppCopy,
        env: dict[str, str],
        *,
        port: int | None = None,
        single_port: bool = False,
        log_path: Path | None = None,
    ):
        self.copy = copy
        self.env = env
        self.port = port or free_port()
        self.single_port = single_port
        self.log_path = log_path or copy.dir / f"server-{self.port}.log"
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AppProcess:
        if self.single_port:
            mode = ["--single-port", "--frontend-port", str(self.port)]
        else:
            mode = ["--backend-only", "--backend-port", str(self.port)]
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                ["reflex", "run", "--env", "prod", *mode, "--backend-host", "127.0.0.1"],
                cwd=self.copy.dir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_healthy(self, timeout: float = 300, path: str = "/api/health") -> None:
        """Until ``path`` answers 200 (the app's health route; Reflex's own ``/ping`` for other apps)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        url = f"{self.base_url}{path}"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the app on port {self.port} exited ({self.process.returncode}):\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"the app on port {self.port} did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def pids(self) -> list[int]:
        """Every live process of this app's process group."""
        if self.process is None:
            return []
        pgid = self.process.pid
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.getpgid(int(entry)) == pgid:
                    found.append(int(entry))
            except (ProcessLookupError, PermissionError):
                continue
        return found

    def stop(self) -> None:
        stop_process_group(self.process)


def stop_process_group(process: subprocess.Popen | None, *, grace: float = 15) -> None:
    """Stop a server started in its own process group: TERM, then KILL after ``grace`` seconds."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------- /proc metrics

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def proc_stat(pid: int) -> tuple[float, int, str] | None:
    """(cpu seconds user+system, rss bytes, command line) of one process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    rss = int(fields[21]) * PAGE_SIZE
    return cpu, rss, cmd
