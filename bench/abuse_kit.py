"""The disposable app, the legitimate pair and the measurements of ``bench/abuse.py``.

The app under test may be another checkout than this one (``--app-dir``, e.g. a
pristine copy of an older commit), so nothing here imports its code: it is
copied to a temporary directory, seeded through its own CLI, asked for its
handler names by a subprocess that imports it, and spoken to over the websocket
(``tests/scaleout/protocol.py``'s ``WsClient``) and HTTP like a browser would.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.scaleout import harness, protocol  # noqa: E402

AGENT_USERNAME = "abuse-agent"
AGENT_PASSWORD = "abuse-agent-password"
LEGIT_QUEUE = "Legit queue"
PUBLIC_QUEUE = "Public queue"  # where attackers start their chats, so the legit agent is not offered them
LEGIT_ADDRESS = "127.0.0.1"
CHATS_PER_ADDRESS = "20"  # the app's default budget: attackers must meet it, not a lifted one
WAIT_S = 10.0  # longest wait for one step of the legitimate pair
SKIPPED_DIRS = {".git", ".venv", ".tools", ".web", "node_modules", "__pycache__", "data", ".pytest_cache"}

# Printed by a subprocess inside the app copy: the names its states and handlers have there.
NAMES_SCRIPT = """
import json, sys
sys.path.insert(0, ".")
import agent_workspace.agent_workspace  # noqa: F401 - registers every state
from reflex import constants
from reflex.state import State
from reflex.utils.format import format_event_handler
from agent_workspace.state.auth import AuthState, LoginState
from agent_workspace.state.customer import CustomerChatState
from agent_workspace.state.chat_slots import SLOT_STATES
from agent_workspace.state.workspace import LiveState, WorkspaceState
names = {"hydrate": f"{State.get_full_name()}.{constants.CompileVars.HYDRATE}"}
for key, cls in {"customer": CustomerChatState, "workspace": WorkspaceState, "live": LiveState,
                 "slot0": SLOT_STATES[0], "login": LoginState, "auth": AuthState}.items():
    names[key] = cls.get_full_name()
    for method, handler in cls.event_handlers.items():
        names[f"{key}.{method}"] = format_event_handler(handler)
print("NAMES " + json.dumps(names))
"""


# ---------------------------------------------------------------- the app


def _app_files(app_dir: Path) -> list[Path]:
    """The files of a checkout: git's list where it is a repository (read-only query), else its tree."""
    if (app_dir / ".git").exists():
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=app_dir,
            capture_output=True,
            check=True,
        ).stdout.decode()
        return [app_dir / f for f in out.split("\0") if f and (app_dir / f).is_file()]
    return [
        p for p in app_dir.rglob("*") if p.is_file() and not SKIPPED_DIRS.intersection(p.relative_to(app_dir).parts)
    ]


class AppTemplate:
    """One copy of the app's code and one seeded SQLite file; every attack gets a fresh copy of the database."""

    def __init__(self, app_dir: Path, base: Path):
        self.app_dir = app_dir.resolve()
        self.dir = base / "app"
        for path in _app_files(self.app_dir):
            target = self.dir / path.relative_to(self.app_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        for link in (".venv", ".tools"):  # the app's own toolchain, else this checkout's
            source = self.app_dir / link if (self.app_dir / link).exists() else ROOT / link
            if source.exists():
                (self.dir / link).symlink_to(source)
        self.seed_dir = base / "seed"
        self.seed_dir.mkdir()
        self.db_file = self.seed_dir / "app.db"
        self.queue_ids: dict[str, int] = {}
        self.names: dict[str, str] = {}

    def env(self, db_file: Path, data_dir: Path) -> dict[str, str]:
        return harness.app_env(
            database_url=f"sqlite:///{db_file}", data_dir=data_dir, extra={"AW_CHATS_PER_ADDRESS": CHATS_PER_ADDRESS}
        )

    def cli(self, env: dict[str, str], *args: str) -> str:
        return harness.run_cli(self, env, *args).stdout

    def prepare(self) -> None:
        """Migrate and seed the template database through the app's CLI; read the handler names."""
        env = self.env(self.db_file, self.seed_dir / "data")
        self.cli(env, "db", "upgrade")
        for name in (LEGIT_QUEUE, PUBLIC_QUEUE):
            out = self.cli(env, "queue", "create", "--name", name)
            self.queue_ids[name] = int(re.search(r"\(id (\d+)\)", out).group(1))
        self.cli(
            env,
            "user",
            "create",
            "--username",
            AGENT_USERNAME,
            "--password",
            AGENT_PASSWORD,
            "--display-name",
            "Abuse Agent",
            "--role",
            "workspace_user",
            "--capacity",
            "4",
            "--queue",
            LEGIT_QUEUE,
        )
        out = subprocess.run(
            [sys.executable, "-c", NAMES_SCRIPT], cwd=self.dir, env=env, capture_output=True, text=True, check=False
        )
        line = next((x for x in out.stdout.splitlines() if x.startswith("NAMES ")), None)
        if line is None:
            raise RuntimeError(f"could not read the app's handler names:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
        self.names = json.loads(line.removeprefix("NAMES "))

    def commit(self) -> str:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=self.app_dir, capture_output=True, text=True)
        return out.stdout.strip() or "no git (a copy)"


class Backend:
    """A fresh ``reflex run --env prod --backend-only`` on its own port, database copy and data dir."""

    def __init__(self, template: AppTemplate, base: Path):
        self.base = base
        base.mkdir(parents=True)
        self.db_file = base / "app.db"
        shutil.copy2(template.db_file, self.db_file)
        self.data_dir = base / "data"
        self.process = harness.AppProcess(
            template, template.env(self.db_file, self.data_dir), log_path=base / "server.log"
        )

    def start(self) -> Backend:
        self.process.start().wait_healthy(timeout=300)
        return self

    @property
    def port(self) -> int:
        return self.process.port

    def rss_mb(self) -> float:
        """Resident memory of the backend's whole process group (the CLI and its worker)."""
        stats = [harness.proc_stat(pid) for pid in self.process.pids()]
        return sum(s[1] for s in stats if s) / 2**20

    def files(self) -> tuple[int, int]:
        """(files under the data dir's attachments, orphans: of them those without an
        attachment row that a message carries)."""
        folder = self.data_dir / "attachments"
        names = {p.name for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()
        with sqlite3.connect(f"file:{self.db_file}?mode=ro", uri=True, timeout=30) as db:
            rows = db.execute("SELECT a.storage_name FROM attachment a JOIN message m ON m.attachment_id = a.id")
            carried = {row[0] for row in rows}
        return len(names), len(names - carried)

    def stop(self) -> None:
        self.process.stop()

    def tracebacks(self) -> int:
        return self.process.log_tail(50_000_000).count("Traceback")


# ---------------------------------------------------------------- tabs


class Tab:
    """One browser tab over the websocket, keeping the vars of the states it shows."""

    def __init__(self, names: dict[str, str], states: tuple[str, ...], path: str):
        self.names = names
        self.states = states
        self.path = path
        self.vars: dict = {}
        self.last: dict = {}
        self.events: list[dict] = []
        self.changed = asyncio.Event()
        self.updates = 0
        self.client = protocol.WsClient(on_update=self._on_update)

    def _on_update(self, update: dict, _at: float) -> None:
        self.updates += 1
        self.events.extend(update.get("events") or [])
        delta = update.get("delta") or {}
        self.last = {}  # this update's vars of the shown states
        for state in self.states:
            values = delta.get(self.names[state]) or {}
            self.last.update({k.removesuffix("_rx_state_"): v for k, v in values.items()})
        self.vars.update(self.last)
        self.changed.set()

    async def connect(self, port: int, *, cookie: str | None = None, bind: str | None = None) -> Tab:
        await self.client.connect(port, cookie=cookie, path=self.path, bind=bind)
        return self

    @property
    def closed(self) -> bool:
        return self.client.closed.is_set()

    async def send(self, handler: str, payload: dict | None = None) -> None:
        """``handler`` is ``state.method``, e.g. ``customer.start_chat``."""
        await self.client.send(self.names[handler], payload or {})

    async def wait_until(self, predicate: Callable[[dict], bool], timeout: float = WAIT_S) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate(self.vars):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed:
                return False
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.5))
            except TimeoutError:
                pass
        return True

    async def close(self) -> None:
        await self.client.close()


def customer_tab(names: dict[str, str]) -> Tab:
    return Tab(names, ("customer",), "/chat")


def chat_form(name: str, queue_id: int, question: str = "A question for the abuse harness") -> dict:
    return {
        "form": {"name": name, "email": "visitor@abuse.example.com", "queue_id": str(queue_id), "question": question}
    }


SESSION_PATH = re.compile(r"/api/session/([A-Za-z0-9_\-.~%]+)")


async def sign_in(
    names: dict[str, str], port: int, *, bind: str | None = None, password: str = AGENT_PASSWORD
) -> str | None:
    """Sign in the way the login page does (LoginState.login over the websocket, then the
    page follows ``/api/session/<ticket>``); returns the session cookie, or None if refused."""
    tab = Tab(names, ("login",), "/login")
    await tab.connect(port, bind=bind)
    try:
        await tab.send("login.load")
        await tab.send("login.login", {"form": {"username": AGENT_USERNAME, "password": password}})
        found: list[str] = []

        def answered(v: dict) -> bool:
            found.extend(m.group(1) for e in tab.events for m in [SESSION_PATH.search(json.dumps(e))] if m)
            return bool(found) or (bool(v.get("error")) and v.get("busy") is False)

        await tab.wait_until(answered)
    finally:
        await tab.close()
    return await asyncio.to_thread(_redeem, port, found[0]) if found else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _redeem(port: int, ticket: str) -> str | None:
    """Follow the login page's ``/api/session/<ticket>``: its 303 carries the session cookie."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/session/{ticket}", headers={"User-Agent": protocol.USER_AGENT}
    )
    try:
        headers = urllib.request.build_opener(_NoRedirect).open(request, timeout=WAIT_S).headers
    except urllib.error.HTTPError as error:  # the unfollowed 303
        headers = error.headers
    return next((c.split(";", 1)[0] for c in headers.get_all("Set-Cookie") or [] if c.startswith("aw_session=")), None)


# ---------------------------------------------------------------- the legitimate pair


@dataclass
class Round:
    """One legitimate chat: seconds from start_chat to the agent seeing the offer,
    and from sending to the other side seeing each message (None: not within WAIT_S)."""

    start_s: float | None = None
    to_agent_s: float | None = None
    to_customer_s: float | None = None
    refused: str = ""  # what the customer's page said when its chat did not start

    @property
    def delivery_s(self) -> float | None:
        both = [self.to_agent_s, self.to_customer_s]
        return None if None in both else max(both)


@dataclass
class LegitPair:
    """One signed-in, available agent and customers from 127.0.0.1 chatting in the legit queue:
    each chat from a new tab, as a new visitor would (a tab may start only a few chats)."""

    names: dict[str, str]
    port: int
    queue_id: int
    cookie: str
    customer: Tab | None = None
    agent: Tab = field(init=False)
    rounds: int = 0

    async def open(self) -> LegitPair:
        self.agent = await Tab(self.names, ("workspace", "live", "slot0"), "/workspace").connect(
            self.port, cookie=self.cookie
        )
        await self.agent.send("workspace.on_load")
        await self.agent.send("workspace.set_presence", {"label": "Available"})
        if not await self.agent.wait_until(lambda v: v.get("presence") == "available", timeout=60):
            raise RuntimeError("the legitimate agent never became Available")
        self._ticker = asyncio.create_task(self._tick())
        return self

    async def _new_customer(self) -> Tab:
        """A new visitor's tab with the chat page loaded (the previous one closed)."""
        if self.customer is not None:
            await self.customer.close()
        self.customer = await customer_tab(self.names).connect(self.port, bind=LEGIT_ADDRESS)
        await self.customer.send("customer.on_load")
        if not await self.customer.wait_until(lambda v: v.get("loaded") or v.get("queue_options")):
            raise RuntimeError("the legitimate customer's page never loaded")
        return self.customer

    async def _tick(self) -> None:
        """The workspace page's heartbeat (``tick`` every 5 s)."""
        while not self.agent.closed:
            await asyncio.sleep(5)
            await self.agent.send("workspace.tick", {"_value": ""})

    def _offered(self, v: dict) -> bool:
        return any(
            c.get("queue_id") == self.queue_id and (c.get("offered_to_me") or c.get("can_accept"))
            for c in v.get("inbox", [])
        )

    async def chat_once(self) -> Round:
        """Start a chat, have it accepted, one message each way, end and close it."""
        self.rounds += 1
        result, c, a = Round(), await self._new_customer(), self.agent
        mine = f"Legit customer {self.rounds}"
        began = time.monotonic()
        await c.send("customer.start_chat", chat_form(mine, self.queue_id))
        if await a.wait_until(self._offered):
            result.start_s = time.monotonic() - began
        else:
            result.refused = str(c.vars.get("form_error") or f"phase {c.vars.get('phase')!r}")[:120]
        await a.send("workspace.accept", {"queue_id": self.queue_id})
        tab = lambda v: next((t for t in v.get("tabs", []) if t.get("customer_name") == mine), None)  # noqa: E731
        if not (
            await a.wait_until(lambda v: tab(v) is not None)
            and await c.wait_until(lambda v: v.get("phase") == "chatting")
        ):
            await self._reset(tab(a.vars))
            return result
        chat_id = tab(a.vars)["interaction_id"]
        body = f"legit to agent {self.rounds} {time.time():.6f}"
        sent = time.monotonic()
        await c.send("customer.send", {"form": {"body": body}})
        if await a.wait_until(
            lambda v: any(m.get("body") == body for m in v.get("messages", []))  # its one chat: slot 0
        ):
            result.to_agent_s = time.monotonic() - sent
        body = f"legit to customer {self.rounds} {time.time():.6f}"
        sent = time.monotonic()
        await a.send("workspace.send_message", {"form": {"interaction_id": str(chat_id), "body": body}})
        if await c.wait_until(lambda v: any(m.get("body") == body for m in v.get("messages", []))):
            result.to_customer_s = time.monotonic() - sent
        await self._reset(tab(a.vars))
        return result

    async def _reset(self, tab: dict | None) -> None:
        """End the chat on both sides, so the agent's seat is free for the next round."""
        await self.customer.send("customer.end_chat")
        await self.customer.wait_until(lambda v: v.get("phase") != "chatting" and v.get("phase") != "waiting")
        if tab is not None:
            await self.agent.send("workspace.close_chat", {"interaction_id": tab["interaction_id"]})
            gone = tab["interaction_id"]
            await self.agent.wait_until(lambda v: all(t.get("interaction_id") != gone for t in v.get("tabs", [])))

    async def close(self) -> None:
        self._ticker.cancel()
        await asyncio.gather(
            self.agent.close(), *([self.customer.close()] if self.customer else []), return_exceptions=True
        )


def new_base() -> Path:
    return Path(tempfile.mkdtemp(prefix="aw-abuse-"))
