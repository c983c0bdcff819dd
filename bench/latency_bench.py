#!/usr/bin/env python
"""Message delivery latency in real browsers: Agent Workspace next to a minimal Reflex chat.

Usage: .venv/bin/python bench/latency_bench.py [--messages 50] [--profile]

What it does, all on 127.0.0.1 and bounded by --timeout:

1. Copies the working tree (``git ls-files --cached --others --exclude-standard``, with .venv and .tools symlinked)
   and ``bench/minimal_app`` into a temporary directory, so it never touches
   the shared ``.web`` build directory, and starts both apps there in
   production mode (``reflex run --env prod --single-port``) on free ports,
   each with its own database. Both frontends are built by this run.
2. Opens four browser contexts in Debian's Chromium (Playwright): a customer
   who starts a chat and an agent who accepts it in our app; sides ``/a`` and
   ``/b`` of the minimal app.
3. Sends ``--messages`` messages each way in each app, alternating directions,
   one at a time (each side at most one message per ``--pace`` seconds: our
   app refuses a customer's 10th message within 10 s), in interleaved blocks (ours, minimal, minimal, ours, ...)
   so that drifting machine load hits both apps alike. Before the first block
   each app gets a few warm-up messages that are not counted.
   Timestamps are taken IN THE PAGES with ``performance.timeOrigin +
   performance.now()``: the sender page reads the clock and clicks Send in
   the same script; a MutationObserver installed in the receiving page
   records when the message text first appears in its DOM. Both pages run on
   this machine, so their clocks agree.
4. Prints a markdown table (p50 / p95 / max per app and direction, and
   ours / minimal), stops everything and deletes the temporary directory.

``--profile`` additionally times the server-side steps of our app's delivery
path (post_message, the token lookup, each push and the read models it runs)
by wrapping them in the benchmark's temporary copy only (an import added to
the copy's rxconfig.py; the repository is untouched), and prints them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MINIMAL_SRC = ROOT / "bench" / "minimal_app"
VENV_BIN = Path(sys.executable).parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Four pages of one browser are all "in the foreground" for the benchmark:
    # no timer throttling for the idle ones (same for both apps).
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
AGENT_PASSWORD = "bench-agent-password"
WARMUP = 3  # messages each way per app, not counted
BLOCK = 10  # messages each way per block

# Installed in every receiving page: records when each expected marker first
# shows up in the DOM (added nodes or changed text), on the page's clock.
OBSERVER_JS = """
() => {
  if (window.__latency) return performance.timeOrigin + performance.now() - Date.now();
  const L = window.__latency = {want: new Set(), seen: {}};
  const check = (text, t) => {
    if (!text) return;
    for (const m of L.want) {
      if (text.includes(m)) { L.seen[m] = t; L.want.delete(m); }
    }
  };
  new MutationObserver((records) => {
    const t = performance.timeOrigin + performance.now();
    if (!L.want.size) return;
    for (const r of records) {
      if (r.type === "characterData") check(r.target.data, t);
      else for (const n of r.addedNodes) check(n.textContent, t);
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
  return performance.timeOrigin + performance.now() - Date.now();
}
"""
EXPECT_JS = "(m) => { window.__latency.want.add(m); }"
SEEN_JS = "(m) => window.__latency.seen[m] ?? null"
# Read the clock and click Send in one script: nothing runs in between.
CLICK_JS = "(button) => { const t = performance.timeOrigin + performance.now(); button.click(); return t; }"

# --profile: timing wrappers written into the benchmark's temporary copies only.
# REFLEX_PROBE goes into both apps: when each event reaches the server and when
# each delta leaves it, per client token (wall clock, comparable with the pages).
REFLEX_PROBE = '''
"""Timing wrappers for the latency benchmark's copy of the app (never the repository)."""
import asyncio, functools, json, os, threading, time

_path = os.environ["LATENCY_PROBE_LOG"]
_buffer = []  # list.append never releases the GIL: recording costs microseconds
_flusher_pid = None


def _write(record):
    global _flusher_pid
    if _flusher_pid != os.getpid():  # the server may fork its workers after importing this
        _flusher_pid = os.getpid()
        threading.Thread(target=_flusher, daemon=True).start()
    _buffer.append(record)


def _flusher():
    # Written out only when the benchmark asks (a file appears), after measuring.
    while not os.path.exists(_path + ".flush"):
        time.sleep(0.2)
    with open(_path, "a") as f:
        for record in _buffer:
            f.write(json.dumps(record, default=str) + "\\n")
    _buffer.clear()
    open(_path + ".done", "w").close()



def _log(name, started):
    _write(["step", name, (time.perf_counter() - started) * 1000])


from reflex.app import EventNamespace

_on_event = EventNamespace.on_event
_emit_update = EventNamespace.emit_update


async def on_event(self, sid, data):
    _write(["in", self.sid_to_token.get(sid), time.time()])
    return await _on_event(self, sid, data)


async def emit_update(self, update, token):
    started = time.time()
    try:
        return await _emit_update(self, update, token)
    finally:
        # Size taken after the emit (the delta holds live objects that change later).
        _write(["out", token, started, len(json.dumps(update.delta, default=str)) if update.delta else 0])


EventNamespace.on_event = on_event
EventNamespace.emit_update = emit_update
'''

PROBE = (
    REFLEX_PROBE
    + """


def _wrap(module, attr, name, mark=None):
    fn = getattr(module, attr)
    if asyncio.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def wrapper(*a, **kw):
            started = time.perf_counter()
            if mark:
                _write(["mark", mark + " starts", time.time()])
            try:
                return await fn(*a, **kw)
            finally:
                _log(name, started)
                if mark:
                    _write(["mark", mark + " ends", time.time()])
    else:
        @functools.wraps(fn)
        def wrapper(*a, **kw):
            started = time.perf_counter()
            if mark:
                _write(["mark", mark + " starts", time.time()])
            try:
                return fn(*a, **kw)
            finally:
                _log(name, started)
                if mark:
                    _write(["mark", mark + " ends", time.time()])
    setattr(module, attr, wrapper)


from agent_workspace import realtime, security
from agent_workspace.services import conversations, notices, views
from agent_workspace.services import customer_views
from agent_workspace.state import common
from agent_workspace.state import views as state_views

_wrap(security.DenyByDefault, "preprocess", "security.DenyByDefault.preprocess", "authorization middleware")
_wrap(state_views, "run_blocking", "state.views.run_blocking: store, from the loop", "store (loop)")
_wrap(state_views, "_post", "state.views._post (in thread)", "store (thread)")
_wrap(conversations, "post_message", "conversations.post_message (in thread)", "post_message (thread)")
_wrap(realtime, "publish", "realtime.publish: token lookup + all pushes", "publish")
_wrap(realtime, "tokens_for", "realtime.tokens_for (in thread)", "tokens_for (thread)")
_wrap(realtime, "push_to_tab", "realtime.push_to_tab: one push, lock + refresh + delta", "push_to_tab")
_wrap(views, "agent_snapshot", "views.agent_snapshot (in thread)", "agent_snapshot (thread)")
_wrap(customer_views, "customer_snapshot", "customer_views.customer_snapshot (in thread)", "customer_snapshot (thread)")
_wrap(notices, "unseen_notices", "notices.unseen_notices (in thread)", "unseen_notices (thread)")
_wrap(common, "_run", "state.common._run: one service call, session + commit")
"""
)


class BenchError(RuntimeError):
    pass


try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # reported when the browsers are started
    PlaywrightTimeout = TimeoutError


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


# --------------------------------------------------------------------------- browsers


@dataclass
class Side:
    """One chat participant's page: where to type and what to click."""

    page: object
    skew_ms: float = 0.0
    token: str = ""

    def install(self) -> None:
        self.skew_ms = self.page.evaluate(OBSERVER_JS)
        self.token = self.page.evaluate("() => window.sessionStorage.getItem('token')") or ""

    def send(self, text: str) -> float:
        self.page.get_by_label("Message", exact=True).fill(text)
        return self.page.get_by_role("button", name="Send", exact=True).evaluate(CLICK_JS)


@dataclass
class Pair:
    app: str
    customer: Side  # the "a" side of the minimal app
    agent: Side  # the "b" side
    results: dict[str, list[float]] = field(default_factory=lambda: {"customer → agent": [], "agent → customer": []})
    # (direction, sent at, seen at, sender token, receiver token), page clocks in ms
    trace: list[tuple[str, float, float, str, str]] = field(default_factory=list)
    lost: dict[str, int] = field(default_factory=lambda: {"customer → agent": 0, "agent → customer": 0})
    last_sent: dict[str, float] = field(default_factory=dict)

    def one(self, direction: str, index: int, *, record: bool, timeout_ms: int, gap: float, pace: float) -> None:
        # Our app refuses a customer's 10th message within 10 s ("Slow down"): each
        # side sends at most one message per ``pace`` seconds, in both apps alike.
        wait = self.last_sent.get(direction, 0.0) + pace - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.last_sent[direction] = time.monotonic()
        self._one(direction, index, record=record, timeout_ms=timeout_ms, gap=gap)

    def _one(self, direction: str, index: int, *, record: bool, timeout_ms: int, gap: float) -> None:
        sender, receiver = (
            (self.customer, self.agent) if direction == "customer → agent" else (self.agent, self.customer)
        )
        marker = f"lat{uuid.uuid4().hex[:10]}"
        receiver.page.evaluate(EXPECT_JS, marker)
        sent_at = sender.send(f"{marker} message {index} of the latency benchmark")
        try:
            receiver.page.wait_for_function(
                f"() => window.__latency.seen[{json.dumps(marker)}] !== undefined", timeout=timeout_ms
            )
        except PlaywrightTimeout:
            self.lost[direction] += 1
            echoed = sender.page.evaluate("(m) => document.body.innerText.includes(m)", marker)
            late = receiver.page.evaluate("(m) => document.body.innerText.includes(m)", marker)
            print(
                f"  {self.app}, {direction}: message {index} ({marker}) not shown within {timeout_ms / 1000:.0f} s"
                f" (sender page shows it: {echoed}; receiver page shows it now: {late})",
                flush=True,
            )
            if sum(self.lost.values()) > 5:
                raise BenchError(f"{self.app}: more than 5 messages not delivered") from None
            return
        seen_at = receiver.page.evaluate(SEEN_JS, marker)
        if record:
            self.results[direction].append(seen_at - sent_at)
            self.trace.append((direction, sent_at, seen_at, sender.token, receiver.token))
        time.sleep(gap)


def open_ours(browser, server: Server, queue: str, agent_user: str, expect) -> Pair:
    base = server.base_url
    customer = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    customer_name = f"Bench Customer {uuid.uuid4().hex[:6]}"
    customer.goto(f"{base}/chat")
    customer.get_by_label("Your name").fill(customer_name)
    customer.get_by_label("Email").fill("bench@example.com")
    customer.get_by_label("What do you need help with?").select_option(label=queue)
    customer.get_by_label("Your question").fill("Latency benchmark")
    customer.get_by_role("button", name="Start chat").click()
    expect(customer.get_by_role("log", name="Conversation")).to_be_visible()

    agent = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    agent.goto(f"{base}/login")
    agent.get_by_label("Username").fill(agent_user)
    agent.get_by_label("Password").fill(AGENT_PASSWORD)
    agent.get_by_role("button", name="Sign in").click()
    expect(agent.get_by_role("heading", name="Inbox")).to_be_visible()
    agent.get_by_label("Presence").click()
    agent.get_by_role("option", name="Available").click()
    expect(agent.get_by_label("Presence")).to_contain_text("Available")
    agent.get_by_test_id("inbox-card").filter(has_text=customer_name).get_by_role("button", name="Accept").click()
    expect(agent.get_by_role("tab", name=customer_name)).to_be_visible()
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text("Your request to")
    expect(customer.get_by_role("heading", name="Chatting with")).to_be_visible()
    pair = Pair("Agent Workspace", Side(customer), Side(agent))
    pair.customer.install()
    pair.agent.install()
    return pair


def open_minimal(browser, server: Server, expect) -> Pair:
    pages = []
    for side in ("a", "b"):
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.goto(f"{server.base_url}/{side}")
        expect(page.locator("#side")).to_have_text(side)
        pages.append(page)
    pair = Pair("minimal Reflex chat", Side(pages[0]), Side(pages[1]))
    pair.customer.install()
    pair.agent.install()
    return pair


# --------------------------------------------------------------------------- reporting


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": statistics.median(values), "p95": pct(values, 0.95), "max": max(values)}


def table(ours: Pair, minimal: Pair) -> str:
    lines = [
        "| app | direction | delivered | p50 (ms) | p95 (ms) | max (ms) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for pair in (ours, minimal):
        for direction, values in pair.results.items():
            s = summary(values)
            n = f"{s['n']}" + (f" ({pair.lost[direction]} not shown in 10 s)" if pair.lost[direction] else "")
            lines.append(f"| {pair.app} | {direction} | {n} | {s['p50']:.1f} | {s['p95']:.1f} | {s['max']:.1f} |")
    for direction in ours.results:
        a, b = summary(ours.results[direction]), summary(minimal.results[direction])
        lines.append(
            f"| **ours / minimal** | {direction} | | **{a['p50'] / b['p50']:.2f}x** | {a['p95'] / b['p95']:.2f}x | {a['max'] / b['max']:.2f}x |"
        )
    return "\n".join(lines)


def _records(log_path: Path) -> list[list]:
    if not log_path.exists():
        return []
    return [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]


def timeline_table(pairs: list[Pair], logs: list[Path]) -> str:
    """Split each delivery at the server's edges: event in, delta out to the receiver."""
    lines = [
        "| app | direction | page → server event (ms) | server: event in → delta out (ms) | delta out → in receiver's DOM (ms) | delta size, median / last (bytes) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for pair, log_path in zip(pairs, logs):
        records = _records(log_path)
        ins = [(r[1], r[2] * 1000) for r in records if r[0] == "in"]
        outs = [(r[1], r[2] * 1000, r[3]) for r in records if r[0] == "out"]
        for direction in pair.results:
            parts: list[tuple[float, float, float, int]] = []
            for d, sent, seen, sender, receiver in pair.trace:
                if d != direction:
                    continue
                arrived = next((t for tok, t in ins if tok == sender and t >= sent - 2), None)
                if arrived is None:
                    continue
                out = [(t, size) for tok, t, size in outs if tok == receiver and arrived <= t <= seen]
                if not out:
                    continue
                left, size = out[-1]  # the last delta before the text appeared carried it
                parts.append((arrived - sent, left - arrived, seen - left, size))
            if parts:
                med = [statistics.median(p[i] for p in parts) for i in range(4)]
                lines.append(
                    f"| {pair.app} | {direction} | {med[0]:.1f} | {med[1]:.1f} | {med[2]:.1f} | {med[3]:,.0f} / {parts[-1][3]:,} |"
                )
    return "\n".join(lines) + "\n\n(medians over the measured messages; wall clock, server and pages on one machine)"


def waterfall_table(pair: Pair, log_path: Path) -> str:
    """Median time of each server-side step after the sender's event reached the server."""
    records = _records(log_path)
    marks = [(r[1], r[2] * 1000) for r in records if r[0] == "mark"]
    ins = [(r[1], r[2] * 1000) for r in records if r[0] == "in"]
    outs = [(r[1], r[2] * 1000) for r in records if r[0] == "out"]
    columns = list(pair.results)
    offsets: dict[str, dict[str, list[float]]] = {}
    for direction, sent, seen, sender, receiver in pair.trace:
        arrived = next((t for tok, t in ins if tok == sender and t >= sent - 2), None)
        if arrived is None:
            continue
        window = [(name, t) for name, t in marks if arrived <= t <= seen]
        window += [("delta out to the sender", t) for tok, t in outs if tok == sender and arrived <= t <= seen]
        window += [("delta out to the receiver", t) for tok, t in outs if tok == receiver and arrived <= t <= seen]
        window.append(("text in the receiver's DOM", seen))
        first: dict[str, float] = {}
        for name, t in sorted(window, key=lambda x: x[1]):
            first.setdefault(name, t - arrived)
        for name, offset in first.items():
            offsets.setdefault(name, {d: [] for d in columns})[direction].append(offset)
    tables = []
    for direction in columns:
        steps = {name: statistics.median(v[direction]) for name, v in offsets.items() if v[direction]}
        lines = [f"| {pair.app}, {direction}: step | ms after the event reached the server (median) |", "|---|---:|"]
        lines += [f"| {name} | {ms:.1f} |" for name, ms in sorted(steps.items(), key=lambda x: x[1])]
        tables.append("\n".join(lines))
    return "\n\n".join(tables)


def profile_table(log_path: Path) -> str:
    samples: dict[str, list[float]] = {}
    for record in _records(log_path):
        if record[0] == "step":
            samples.setdefault(record[1], []).append(record[2])
    if not samples:
        return "(no profile samples)"
    lines = ["| server-side step (our app) | calls | p50 (ms) | p95 (ms) | mean (ms) |", "|---|---:|---:|---:|---:|"]
    for name, values in sorted(samples.items()):
        lines.append(
            f"| {name} | {len(values)} | {statistics.median(values):.1f} | {pct(values, 0.95):.1f} | {statistics.fmean(values):.1f} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=50, help="measured messages per direction per app (default 50)")
    parser.add_argument(
        "--gap", type=float, default=0.25, help="pause after each delivered message, seconds (default 0.25)"
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=1.2,
        help="at least this many seconds between two messages of one side (default 1.2: our app"
        " allows a customer 10 messages per 10 s)",
    )
    parser.add_argument("--timeout", type=int, default=900, help="hard limit for the whole run, seconds (default 900)")
    parser.add_argument("--profile", action="store_true", help="also time our app's server-side delivery steps")
    parser.add_argument("--json", type=Path, help="write the raw latencies here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    args = parser.parse_args()
    if args.messages < 1:
        parser.error("--messages must be at least 1")

    def on_signal(signum, _frame):
        raise BenchError(f"stopped by signal {signum} (time limit {args.timeout} s or interrupted)")

    signal.signal(signal.SIGALRM, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.alarm(args.timeout)

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="latency-bench-"))
    servers: list[Server] = []
    try:
        # -- both apps, each in its own copy and data directory
        app_dir, minimal_dir, data_dir = tmp / "app", tmp / "minimal", tmp / "data"
        data_dir.mkdir()
        copy_app(app_dir)
        copy_minimal(minimal_dir)
        probe_log, minimal_probe_log = data_dir / "probe.jsonl", data_dir / "minimal-probe.jsonl"
        if args.profile:
            for directory, source in ((app_dir, PROBE), (minimal_dir, REFLEX_PROBE)):
                (directory / "_latency_probe.py").write_text(source)
                with open(directory / "rxconfig.py", "a") as f:
                    f.write(
                        "\nimport _latency_probe  # added by bench/latency_bench.py --profile, temporary copy only\n"
                    )

        ours_env = {
            **base_env(),
            "AW_DATA_DIR": str(data_dir),
            "AW_DATABASE_URL": f"sqlite:///{data_dir / 'agent_workspace.db'}",
        }
        if args.profile:
            ours_env["LATENCY_PROBE_LOG"] = str(probe_log)
        queue = f"Latency {uuid.uuid4().hex[:6]}"
        agent_user = f"bench{uuid.uuid4().hex[:8]}"
        run_cli(app_dir, ours_env, "db", "upgrade")
        run_cli(app_dir, ours_env, "seed")
        run_cli(app_dir, ours_env, "queue", "create", "--name", queue)
        run_cli(
            app_dir,
            ours_env,
            "user",
            "create",
            "--username",
            agent_user,
            "--password",
            AGENT_PASSWORD,
            "--display-name",
            "Bench Agent",
            "--role",
            "workspace_user",
            "--queue",
            queue,
            "--capacity",
            "4",
        )

        ours = Server("Agent Workspace", app_dir, ours_env, tmp / "ours.log")
        minimal_env = {**base_env(), "MINIMAL_CHAT_DB": str(data_dir / "minimal.db")}
        if args.profile:
            minimal_env["LATENCY_PROBE_LOG"] = str(minimal_probe_log)
        minimal = Server("minimal app", minimal_dir, minimal_env, tmp / "minimal.log")
        servers += [ours, minimal]
        print(f"building and starting both apps in {tmp} (ports {ours.port}, {minimal.port}) ...", flush=True)
        for server in servers:
            server.start()
        build_deadline = time.monotonic() + min(600, args.timeout - 120)
        ours.wait_ready("/api/health", build_deadline)
        ours.wait_ready("/login", build_deadline)
        minimal.wait_ready("/ping", build_deadline)
        minimal.wait_ready("/a", build_deadline)
        print(f"both apps up after {time.monotonic() - started:.0f} s", flush=True)

        from playwright.sync_api import expect, sync_playwright

        expect.set_options(timeout=20_000)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                pairs = [open_ours(browser, ours, queue, agent_user, expect), open_minimal(browser, minimal, expect)]
                skews = [side.skew_ms for pair in pairs for side in (pair.customer, pair.agent)]
                if max(skews) - min(skews) > 2:
                    print(
                        f"warning: page clocks differ by {max(skews) - min(skews):.1f} ms against Date.now()",
                        flush=True,
                    )
                for pair in pairs:
                    for i in range(WARMUP):
                        for direction in pair.results:
                            pair.one(direction, i, record=False, timeout_ms=20_000, gap=args.gap, pace=args.pace)
                for log in (probe_log, minimal_probe_log):
                    log.unlink(missing_ok=True)  # profile only the measured messages
                sent, block = 0, 0
                while sent < args.messages:
                    count = min(BLOCK, args.messages - sent)
                    for pair in pairs if block % 2 == 0 else pairs[::-1]:
                        for i in range(sent, sent + count):
                            for direction in pair.results:
                                pair.one(direction, i, record=True, timeout_ms=10_000, gap=args.gap, pace=args.pace)
                        time.sleep(2)  # let debounced typing signals and ticks settle
                    sent += count
                    block += 1
                    print(f"  {sent}/{args.messages} messages each way in each app", flush=True)
            finally:
                browser.close()

        ours_pair, minimal_pair = pairs
        if args.profile:
            for log in (probe_log, minimal_probe_log):
                Path(str(log) + ".flush").touch()
            deadline = time.monotonic() + 60
            while not all(Path(str(log) + ".done").exists() for log in (probe_log, minimal_probe_log)):
                if time.monotonic() > deadline:
                    raise BenchError("the apps did not write their probe logs within 60 s")
                time.sleep(0.2)
        print()
        print(
            f"Message delivery latency, {args.messages} messages each way per app, {os.cpu_count()} CPU cores,"
            f" {time.strftime('%Y-%m-%d')}, run took {time.monotonic() - started:.0f} s"
        )
        print()
        print(table(ours_pair, minimal_pair))
        print()
        target = max(
            summary(ours_pair.results[d])["p50"] / summary(minimal_pair.results[d])["p50"] for d in ours_pair.results
        )
        print(
            f"target: our p50 within 1.5x of the minimal app's -> worst direction {target:.2f}x: "
            + ("met" if target <= 1.5 else "NOT met")
        )
        if args.profile:
            print()
            print(timeline_table(pairs, [probe_log, minimal_probe_log]))
            print()
            print(waterfall_table(pairs[0], probe_log))
            print()
            print(profile_table(probe_log))
        if args.json:
            args.json.write_text(json.dumps({p.app: p.results for p in pairs}, indent=1, ensure_ascii=False))
        return 0
    except BenchError as error:
        print(f"latency bench failed: {error}", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        for server in servers:
            server.stop()
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
