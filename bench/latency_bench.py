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

Modules: the apps and their servers in ``bench/latency_servers.py``, the ``--profile`` probes in
``bench/latency_probe.py``, the tables in ``bench/latency_report.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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

sys.path.insert(0, str(ROOT))

from bench.latency_probe import PROBE, REFLEX_PROBE  # noqa: E402
from bench.latency_report import profile_table, summary, table, timeline_table, waterfall_table  # noqa: E402
from bench.latency_servers import BenchError, Server, base_env, copy_app, copy_minimal, run_cli  # noqa: E402

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # reported when the browsers are started
    PlaywrightTimeout = TimeoutError


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
