"""The two apps of ``bench/latency_bench.py``: temporary copies, their environment and their servers
(``reflex run --env prod --single-port`` on a free port, in its own process group)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MINIMAL_SRC = ROOT / "bench" / "minimal_app"
VENV_BIN = Path(sys.executable).parent


class BenchError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _copy_tree(files: list[str], src: Path, dst: Path) -> None:
    for rel in files:
        source = src / rel
        if not source.is_file():
            continue  # deleted in the working tree
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def copy_app(dst: Path) -> None:
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout
    files = [f for f in listed.decode().split("\0") if f and not f.startswith(("bench/minimal_app/", "data/", ".web/"))]
    _copy_tree(files, ROOT, dst)
    for link in (".venv", ".tools"):
        (dst / link).symlink_to(ROOT / link)


def copy_minimal(dst: Path) -> None:
    files = [
        str(p.relative_to(MINIMAL_SRC))
        for p in MINIMAL_SRC.rglob("*")
        if p.is_file() and not {".web", "__pycache__", ".states"} & set(p.relative_to(MINIMAL_SRC).parts)
    ]
    _copy_tree(files, MINIMAL_SRC, dst)


def base_env() -> dict[str, str]:
    env = {
        **os.environ,
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{VENV_BIN}:{os.environ['PATH']}",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for name in ("REFLEX_DB_URL", "REFLEX_REDIS_URL", "AW_DATABASE_URL", "AW_DATA_DIR", "PORT"):
        env.pop(name, None)
    return env


@dataclass
class Server:
    name: str
    cwd: Path
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [
                    str(VENV_BIN / "reflex"),
                    "run",
                    "--env",
                    "prod",
                    "--single-port",
                    "--frontend-port",
                    str(self.port),
                    "--backend-host",
                    "127.0.0.1",
                ],
                cwd=self.cwd,
                env={**self.env, "AW_PUBLIC_URL": self.base_url},  # the pages' origin, allowed to open the websocket
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def wait_ready(self, path: str, deadline: float) -> None:
        url = self.base_url + path
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited with code {self.process.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(url, timeout=3) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise BenchError(f"{self.name} did not answer {url} in time:\n{self.tail()}")

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass


def run_cli(cwd: Path, env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agent_workspace.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise BenchError(f"agent-workspace {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
