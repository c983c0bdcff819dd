"""Load generator: customers and agents over the app's real websocket protocol.

    .venv/bin/python bench/load.py --mode sqlite --chats 50 [--duration 60]
    .venv/bin/python bench/load.py --mode scaleout --chats 200
    .venv/bin/python bench/load.py --matrix --write-docs      # the table in docs/benchmarks.md

Each run starts its own app from a temporary copy of the repository
(``tests/scaleout/harness.py``): ``--mode sqlite`` is one process, one worker,
embedded SQLite in a temporary directory; ``--mode scaleout`` is a private
PostgreSQL database, a private Redis database number and two app processes
(one worker each) with customers on process A and agents on process B, so
every message crosses processes. Only 127.0.0.1 is ever contacted.

Clients send exactly what the pages send. Customers: ``on_load``,
``start_chat(form)`` (the first spread over ``--ramp`` seconds),
``send(form)`` every ``--interval`` seconds for 5-15 messages (``--chat-messages`` 10),
``end_chat``, then ``new_chat`` and a new ``start_chat``; ``tick`` every 15 s.
Agents: ``on_load``, ``set_presence("Available")``, ``accept(queue_id)`` up to
their capacity, ``send_message(form)`` every ``--interval`` seconds per open
chat, ``close_chat(interaction_id)`` once the customer ended; ``tick`` every
5 s. Every message body carries an id and its send time; delivery is the first
delta the receiving tab gets that shows it. After the run, every message the
server stored must have reached the other side exactly once: the script exits
1 if anything is lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.scaleout import harness, protocol  # noqa: E402
from tests.scaleout.tabs import AgentTab, CustomerTab  # noqa: E402

DOCS_FILE = ROOT / "docs" / "benchmarks.md"
SECTION_HEADING = "## Load: delivery and routing under load"
RESULTS_FILE = ROOT / "bench" / "load_results.json"
PASSWORD = "load-test-password"
MARK = "L"


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class Chat:
    name: str
    queue_id: int
    started_at: float
    interaction_id: int = 0
    number: str = ""
    accepted_at: float = 0.0
    stop: bool = False  # both sides stop writing before the customer leaves
    sent_to_agent: set[str] = field(default_factory=set)
    sent_to_customer: set[str] = field(default_factory=set)


@dataclass
class Stats:
    sent: dict[str, tuple[str, float, str]] = field(default_factory=dict)  # id -> (direction, t, chat name)
    delivered: dict[str, float] = field(default_factory=dict)  # id -> latency s
    duplicated: set[str] = field(default_factory=set)
    misdelivered: dict[str, str] = field(default_factory=dict)  # id -> where it was sent and where it was shown
    failed: set[str] = field(default_factory=set)
    acked: dict[str, float] = field(default_factory=dict)
    chats_started: int = 0
    chats_accepted: int = 0
    chats_closed: int = 0
    accept_latency: list[float] = field(default_factory=list)
    queue_wait: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)

    def fail(self, mid: str, reason: str) -> None:
        if mid not in self.failed:
            self.failed.add(mid)
            self.errors[f"message failed: {reason[:80]}"] += 1

    def message_id(self, direction: str, chat: Chat) -> tuple[str, str]:
        mid = uuid.uuid4().hex[:12]
        now = time.time()
        self.sent[mid] = (direction, now, chat.name)
        return mid, f"{MARK}|{mid}|{now:.6f}|{direction}"

    def seen(self, body: str, chat_name: str, now: float) -> None:
        parts = body.split("|")
        if len(parts) != 4 or parts[0] != MARK:
            return
        mid = parts[1]
        record = self.sent.get(mid)
        if record is None:
            self.errors["unknown message seen"] += 1
            return
        if record[2] != chat_name:
            self.misdelivered.setdefault(mid, f"{record[0]} sent in {record[2]!r}, shown in {chat_name!r}")
        if mid not in self.delivered:
            self.delivered[mid] = now - float(parts[2])

    def check_list(self, bodies: list[str], chat_name: str, now: float) -> None:
        counts = Counter(b.split("|")[1] for b in bodies if b.startswith(f"{MARK}|"))
        for mid, n in counts.items():
            if n > 1:
                self.duplicated.add(mid)
        for body in bodies:
            self.seen(body, chat_name, now)


class LoadCustomer(CustomerTab):
    record_history = False

    def __init__(self, run: Run, index: int):
        super().__init__()
        self.run = run
        self.index = index
        self.chat: Chat | None = None
        self.round = 0

    def _on_update(self, update: dict, at: float) -> None:
        super()._on_update(update, at)
        msgs = self.last.get("messages")
        if self.chat is not None and self.vars.get("number") and self.vars.get("phase") in ("waiting", "chatting"):
            self.chat.number = self.chat.number or self.vars["number"]
            self.run.by_number.setdefault(self.vars["number"], self.chat)
        # Attribute what the page shows to the chat the page says it shows (its number), not to
        # the chat this tab is busy starting: a late delta of the previous chat is not a misdelivery.
        chat = self.run.by_number.get(self.vars.get("number", ""))
        if chat is not None and msgs is not None:
            self.run.stats.check_list([m["body"] for m in msgs if m["sender_kind"] == "agent"], chat.name, at)
            for m in msgs:
                if m["sender_kind"] == "customer" and m["body"].startswith(f"{MARK}|"):
                    mid = m["body"].split("|")[1]
                    if m["status"] == "failed":
                        self.run.stats.fail(mid, m.get("error", ""))
                    elif m["status"] == "sent" and mid not in self.run.stats.acked:
                        self.run.stats.acked[mid] = at - float(m["body"].split("|")[2])

    async def life(self) -> None:
        run = self.run
        await self.load()
        await asyncio.sleep(random.uniform(0, max(run.args.ramp, run.args.interval)))
        while not run.stopping:
            self.round += 1
            queue_id = run.queue_ids[self.index % len(run.queue_ids)]
            chat = Chat(
                name=f"Load c{self.index} r{self.round} {uuid.uuid4().hex[:4]}",
                queue_id=queue_id,
                started_at=time.time(),
            )
            run.chats[chat.name] = chat
            self.chat = chat
            await self.send(
                "start_chat",
                {
                    "form": {
                        "name": chat.name,
                        "email": f"c{self.index}@load.example.com",
                        "queue_id": str(queue_id),
                        "question": "A load-test question",
                    }
                },
            )
            run.stats.chats_started += 1
            try:
                await self.wait_until(
                    lambda v: v.get("phase") in ("waiting", "chatting") or v.get("form_error"),
                    timeout=60,
                    what="the chat to start",
                )
                if self.vars.get("form_error"):
                    run.stats.errors[f"start_chat refused: {self.vars['form_error']}"] += 1
                    return
                await self.wait_until(
                    lambda v: v.get("phase") == "chatting" or run.stopping,
                    timeout=run.args.duration + 120,
                    what="an agent",
                )
            except AssertionError:
                run.stats.errors["customer never got an agent"] += 1
                return
            if run.stopping and self.vars.get("phase") != "chatting":
                return
            run.stats.queue_wait.append(time.time() - chat.started_at)
            for _ in range(chat_length(run.args.chat_messages)):
                if run.stopping:
                    break
                mid, body = run.stats.message_id("to_agent", chat)
                chat.sent_to_agent.add(mid)
                await self.send("send", {"form": {"body": body}})
                await asyncio.sleep(run.args.interval)
            chat.stop = True
            await run.settle(chat)
            await self.send("end_chat")
            try:
                await self.wait_until(lambda v: v.get("phase") == "ended", timeout=30, what="ended")
            except AssertionError:
                run.stats.errors["end_chat not confirmed"] += 1
            if run.stopping:
                return
            await self.send("new_chat")
            await asyncio.sleep(random.uniform(0.2, 1.0))


def chat_length(mean: int) -> int:
    """Customer messages in one chat: spread around ``mean`` so that chats started
    together do not all end together (real chats differ in length)."""
    return random.randint(max(1, mean // 2), max(1, mean + mean // 2))


class LoadAgent(AgentTab):
    record_history = False

    def __init__(self, run: Run, capacity: int):
        super().__init__()
        self.run = run
        self.capacity = capacity
        self.claim_started = 0.0
        self.known_tabs: set[int] = set()
        self.writers: dict[int, asyncio.Task] = {}
        self.closing: set[int] = set()

    def _on_update(self, update: dict, at: float) -> None:
        super()._on_update(update, at)
        last = self.last
        if "tabs" not in last and "slots" not in last:
            if self.claim_started and last.get("claiming_queue_id") == 0:
                self.claim_started = 0.0
            return
        for tab in self.vars.get("tabs", []):
            chat = self.run.chat_of(tab["customer_name"])
            if chat is None:
                continue
            messages = self.messages_of(tab)
            self.run.stats.check_list([m["body"] for m in messages if m["sender_kind"] == "customer"], chat.name, at)
            for m in messages:
                if m["sender_kind"] == "agent" and m["body"].startswith(f"{MARK}|"):
                    mid = m["body"].split("|")[1]
                    if m["status"] == "failed":
                        self.run.stats.fail(mid, m.get("error", ""))
            if tab["interaction_id"] not in self.known_tabs:
                self.known_tabs.add(tab["interaction_id"])
                chat.interaction_id = tab["interaction_id"]
                chat.accepted_at = at
                self.run.stats.chats_accepted += 1
                if self.claim_started:
                    self.run.stats.accept_latency.append(at - self.claim_started)
                    self.claim_started = 0.0
                self.writers[tab["interaction_id"]] = asyncio.get_running_loop().create_task(self.write(chat))
            if tab["customer_ended"] and tab["interaction_id"] not in self.closing:
                self.closing.add(tab["interaction_id"])
                asyncio.get_running_loop().create_task(self.close_when_settled(chat))
        if self.claim_started and last.get("claiming_queue_id") == 0:
            self.claim_started = 0.0  # the claim ended without a new tab: lost the race; look again

    async def write(self, chat: Chat) -> None:
        await asyncio.sleep(random.uniform(0, self.run.args.interval))
        while not chat.stop and not self.run.stopping:
            mid, body = self.run.stats.message_id("to_customer", chat)
            chat.sent_to_customer.add(mid)
            await self.send("send_message", {"form": {"interaction_id": str(chat.interaction_id), "body": body}})
            await asyncio.sleep(self.run.args.interval)

    async def close_when_settled(self, chat: Chat) -> None:
        await self.send("close_chat", {"interaction_id": chat.interaction_id})
        try:
            await self.wait_until(
                lambda v: chat.interaction_id not in {t["interaction_id"] for t in v.get("tabs", [])},
                timeout=30,
                what="closed",
            )
            self.run.stats.chats_closed += 1
        except AssertionError:
            self.run.stats.errors["close_chat not confirmed"] += 1

    async def life(self) -> None:
        await self.load()
        await self.go_available()
        while not self.run.stopping:
            v = self.vars
            open_tabs = len(v.get("tabs", []))
            if not v.get("claiming_queue_id") and not self.claim_started and open_tabs < self.capacity:
                cards = [c for c in v.get("inbox", []) if c["can_accept"]]
                cards.sort(key=lambda c: (not c["offered_to_me"], c["requested_at"]))
                if cards:
                    self.claim_started = time.time()
                    await self.send("accept", {"queue_id": cards[0]["queue_id"]})
            elif self.claim_started and time.time() - self.claim_started > 60:
                self.claim_started = 0.0
                self.run.stats.errors["claim without an answer for 60 s"] += 1
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), 0.5)
            except TimeoutError:
                pass


class Run:
    def __init__(self, args, ports: tuple[int, int]):
        self.args = args
        self.customer_port, self.agent_port = ports
        self.stats = Stats()
        self.chats: dict[str, Chat] = {}
        self.queue_ids: list[int] = []
        self.by_number: dict[str, Chat] = {}
        self.stopping = False

    def chat_of(self, name: str) -> Chat | None:
        return self.chats.get(name)

    async def settle(self, chat: Chat, timeout: float = 180) -> None:
        """Wait until everything sent in this chat arrived (or the timeout), before ending it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending = [
                m
                for m in chat.sent_to_agent | chat.sent_to_customer
                if m not in self.stats.delivered and m not in self.stats.failed
            ]
            if not pending:
                return
            await asyncio.sleep(0.1)


# ---------------------------------------------------------------- servers


class Servers:
    def __init__(self, args, base: Path):
        self.args = args
        self.base = base
        self.apps: list[harness.AppProcess] = []
        self.copies: list[harness.AppCopy] = []
        self.db_name = ""
        self.redis_db: int | None = None

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
            for problem in (harness.pg_problem(), harness.redis_problem()):
                if problem:
                    raise SystemExit(problem)
            self.db_name, self.database_url = harness.create_pg_database("aw_load")
            self.redis_db = harness.pick_redis_db()
            for name in ("a", "b")[: self.args.processes]:
                copy = harness.AppCopy(self.base, name=f"load-{name}")
                self.copies.append(copy)
                env = harness.app_env(
                    database_url=self.database_url,
                    data_dir=self.base / f"data-{name}",
                    redis_url=harness.redis_url(self.redis_db),
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
        found = {}
        for app in self.apps:
            for pid in app.pids():
                stat = harness.proc_stat(pid)
                if stat and ("reflex" in stat[2] or "granian" in stat[2] or "python" in stat[2]):
                    found[pid] = stat
        return found

    def redis_memory(self) -> int:
        if self.redis_db is None:
            return 0
        import redis

        return int(redis.Redis(host=harness.REDIS_HOST, port=harness.REDIS_PORT).info("memory")["used_memory"])

    def stop(self) -> None:
        for app in self.apps:
            app.stop()
        if self.redis_db is not None:
            harness.release_redis_db(self.redis_db)
        if self.db_name:
            harness.drop_pg_database(self.db_name)
        for copy in self.copies:
            copy.remove()


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


def stored_ids(database_url: str) -> list[str]:
    """Ids of the load messages the server stored (one entry per row): the server's side of the ledger."""
    from sqlalchemy import text
    from sqlmodel import Session

    from agent_workspace.db import make_engine

    engine = make_engine(database_url, writer=False)
    with Session(engine) as session:
        bodies = session.exec(text("SELECT body FROM message WHERE body LIKE 'L|%'")).all()
    engine.dispose()
    return [b[0].split("|")[1] for b in bodies]


def stored_chat_names(database_url: str, ids: list[str]) -> dict[str, str]:
    """For the given load message ids, the customer name of the chat the database stored each one in."""
    from sqlalchemy import text
    from sqlmodel import Session

    from agent_workspace.db import make_engine

    if not ids:
        return {}
    engine = make_engine(database_url, writer=False)
    with Session(engine) as session:
        rows = session.exec(
            text(
                "SELECT m.body, c.name FROM message m JOIN interaction i ON i.id = m.interaction_id "
                "JOIN customer c ON c.id = i.customer_id WHERE m.body LIKE 'L|%'"
            )
        ).all()
    engine.dispose()
    wanted = set(ids)
    return {body.split("|")[1]: name for body, name in rows if body.split("|")[1] in wanted}


def count_stored(database_url: str) -> tuple[int, int]:
    """(load messages stored, distinct bodies)."""
    from sqlalchemy import text
    from sqlmodel import Session

    from agent_workspace.db import make_engine

    engine = make_engine(database_url)
    with Session(engine) as session:
        total, distinct = session.exec(
            text("SELECT count(*), count(DISTINCT body) FROM message WHERE body LIKE 'L|%'")
        ).one()
    engine.dispose()
    return int(total), int(distinct)


# ---------------------------------------------------------------- one run


async def measure_idle(servers: Servers, port: int, clients: int) -> dict:
    """RSS (and Redis memory) growth per connected, loaded, idle customer tab."""
    before = sum(s[1] for s in servers.snapshot().values())
    redis_before = servers.redis_memory()
    tabs = [CustomerTab() for _ in range(clients)]
    for chunk in range(0, clients, 50):
        await asyncio.gather(*(t.connect(port, tick=False) for t in tabs[chunk : chunk + 50]))
        await asyncio.gather(*(t.send("on_load") for t in tabs[chunk : chunk + 50]))
    await asyncio.gather(*(t.wait_until(lambda v: v.get("loaded"), timeout=60) for t in tabs))
    await asyncio.sleep(2)
    after = sum(s[1] for s in servers.snapshot().values())
    redis_after = servers.redis_memory()
    await asyncio.gather(*(t.close() for t in tabs))
    return {
        "idle_clients": clients,
        "rss_per_idle_kb": (after - before) / clients / 1024,
        "redis_per_idle_kb": (redis_after - redis_before) / clients / 1024,
    }


async def run_load(args, servers: Servers) -> dict:
    queues = max(1, min(args.queues, args.chats))
    per_queue = math.ceil(args.chats / queues)  # customers pick queue index % queues
    agents_n = args.agents or queues * math.ceil(per_queue * 1.15 / args.capacity)
    args.queues = queues
    queue_ids, cookies = seed(servers.database_url, queues=args.queues, agents=agents_n, capacity=args.capacity)
    customer_port, agent_port = servers.ports
    idle = await measure_idle(servers, customer_port, args.idle_clients) if args.idle_clients else {}

    run = Run(args, (customer_port, agent_port))
    run.queue_ids = queue_ids
    agents = [LoadAgent(run, args.capacity) for _ in range(agents_n)]
    for chunk in range(0, agents_n, 25):
        await asyncio.gather(
            *(a.connect(agent_port, c) for a, c in zip(agents[chunk : chunk + 25], cookies[chunk : chunk + 25]))
        )
    customers = [LoadCustomer(run, i) for i in range(args.chats)]
    for chunk in range(0, args.chats, 50):
        await asyncio.gather(*(c.connect(customer_port) for c in customers[chunk : chunk + 50]))

    cpu_before, wall_before = servers.snapshot(), time.monotonic()
    gen_before = os.times()
    steady_from = time.time() + args.warmup
    tasks = [asyncio.create_task(a.life()) for a in agents] + [asyncio.create_task(c.life()) for c in customers]
    await asyncio.sleep(args.duration)
    run.stopping = True
    # Nothing new is sent now; give what is in flight time to arrive.
    # Wait until the server has processed every event (stored or refused
    # every message) and every stored message reached the other side.
    deadline = time.monotonic() + args.drain
    drain_started = time.monotonic()
    while time.monotonic() < deadline:
        if all(m in run.stats.delivered or m in run.stats.failed for m in run.stats.sent):
            break
        await asyncio.sleep(1.0)
    drained_s = time.monotonic() - drain_started
    wall = time.monotonic() - wall_before
    cpu_after = servers.snapshot()
    gen_after = os.times()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.gather(*(t.close() for t in agents + customers), return_exceptions=True)
    stored, stored_distinct = count_stored(servers.database_url)
    stored_set = set(stored_ids(servers.database_url))

    s = run.stats
    stored_in = stored_chat_names(servers.database_url, list(s.misdelivered)[:10])
    processes = []
    for pid, (cpu, rss, cmd) in sorted(cpu_after.items()):
        start = cpu_before.get(pid, (0.0, 0, ""))[0]
        processes.append({"pid": pid, "cpu_pct": 100 * (cpu - start) / wall, "rss_mb": rss / 2**20, "cmd": cmd[:80]})
    sent_ok = [m for m in s.sent if m not in s.failed]
    # Lost: the server stored it (or told the sender "Sent") and the other side never saw it.
    lost = [m for m in sent_ok if m not in s.delivered and (m in stored_set or m in s.acked)]
    # Unprocessed: sent, yet neither stored nor refused when the drain ended (the server is behind).
    unprocessed = [m for m in sent_ok if m not in s.delivered and m not in stored_set and m not in s.acked]
    to_agent = [s.delivered[m] * 1000 for m in s.delivered if s.sent[m][0] == "to_agent"]
    to_customer = [s.delivered[m] * 1000 for m in s.delivered if s.sent[m][0] == "to_customer"]
    acks = [v * 1000 for v in s.acked.values()]
    steady = {m for m in s.delivered if s.sent[m][1] >= steady_from}  # sent once the first wave of chats was placed
    to_agent_steady = [s.delivered[m] * 1000 for m in steady if s.sent[m][0] == "to_agent"]
    to_customer_steady = [s.delivered[m] * 1000 for m in steady if s.sent[m][0] == "to_customer"]
    return {
        "timeline": timeline(s, start=steady_from - args.warmup, seconds=TIMELINE_SECONDS),
        "mode": args.mode,
        "processes": len(servers.apps),
        "workers": args.workers if args.mode == "scaleout" else 1,
        "chats": args.chats,
        "agents": agents_n,
        "capacity": args.capacity,
        "queues": args.queues,
        "interval": args.interval,
        "duration": args.duration,
        "chats_started": s.chats_started,
        "chats_accepted": s.chats_accepted,
        "chats_closed": s.chats_closed,
        "sent": len(s.sent),
        "failed": len(s.failed),
        "stored": stored,
        "stored_distinct": stored_distinct,
        "delivered": len([m for m in sent_ok if m in s.delivered]),
        "lost": len(lost),
        "unprocessed": len(unprocessed),
        "drain_s": drained_s,
        "duplicated": len(s.duplicated),
        "misdelivered": len(s.misdelivered),
        "to_agent_ms": [pct(to_agent, p) for p in (50, 95, 99)],
        "to_customer_ms": [pct(to_customer, p) for p in (50, 95, 99)],
        "warmup": args.warmup,
        "to_agent_steady_ms": [pct(to_agent_steady, p) for p in (50, 95, 99)],
        "to_customer_steady_ms": [pct(to_customer_steady, p) for p in (50, 95, 99)],
        "ack_ms": [pct(acks, p) for p in (50, 95, 99)],
        "accept_ms": [pct([x * 1000 for x in s.accept_latency], p) for p in (50, 95, 99)],
        "queue_wait_s": [pct(s.queue_wait, p) for p in (50, 95)],
        "msgs_per_s": len(s.sent) / args.duration,
        "server": processes,
        "server_cpu_pct": sum(p["cpu_pct"] for p in processes),
        "server_rss_mb": sum(p["rss_mb"] for p in processes),
        "generator_cpu_pct": 100 * ((gen_after.user - gen_before.user) + (gen_after.system - gen_before.system)) / wall,
        "python_loop_s": args.python_loop_s,
        "errors": dict(s.errors),
        "lost_sample": lost[:5],
        "misdelivered_sample": [
            f"{detail}; stored in {stored_in.get(mid, 'nothing')!r}"
            for mid, detail in list(s.misdelivered.items())[:10]
        ],
        **idle,
    }


TIMELINE_SECONDS = 10


def timeline(s: Stats, *, start: float, seconds: float) -> list[dict]:
    """Delivery latency by when the message was sent, in slices of ``seconds``:
    shows whether slow deliveries are the first wave's backlog or spread out."""
    slices: dict[int, list[float]] = {}
    for mid, latency in s.delivered.items():
        slices.setdefault(int((s.sent[mid][1] - start) // seconds), []).append(latency * 1000)
    return [
        {"from_s": i * seconds, "messages": len(v), "p50_ms": pct(v, 50), "p95_ms": pct(v, 95), "max_ms": max(v)}
        for i, v in sorted(slices.items())
    ]


def report(r: dict) -> str:
    f = lambda xs: " / ".join(f"{x:.0f}" for x in xs)  # noqa: E731
    lines = [
        f"mode={r['mode']} processes={r['processes']} chats={r['chats']} agents={r['agents']}x{r['capacity']} interval={r['interval']}s duration={r['duration']}s",
        f"chats started/accepted/closed: {r['chats_started']}/{r['chats_accepted']}/{r['chats_closed']}",
        f"messages sent {r['sent']} ({r['msgs_per_s']:.0f}/s), stored {r['stored']}, delivered {r['delivered']}, failed {r['failed']}, LOST {r['lost']}, DUPLICATED {r['duplicated']}, misdelivered {r['misdelivered']}, unprocessed after {r['drain_s']:.0f} s drain {r['unprocessed']}",
        f"delivery ms p50/p95/p99: customer->agent {f(r['to_agent_ms'])}; agent->customer {f(r['to_customer_ms'])}; sender ack {f(r['ack_ms'])}",
        f"steady state (sent after {r['warmup']:.0f} s) ms p50/p95/p99: customer->agent {f(r['to_agent_steady_ms'])}; agent->customer {f(r['to_customer_steady_ms'])}",
        f"accept ms p50/p95/p99: {f(r['accept_ms'])}; queue wait s p50/p95: {r['queue_wait_s'][0]:.1f} / {r['queue_wait_s'][1]:.1f}",
        f"server CPU {r['server_cpu_pct']:.0f}% RSS {r['server_rss_mb']:.0f} MB; generator CPU {r['generator_cpu_pct']:.0f}%; machine: 10M-step Python loop {r['python_loop_s']:.2f} s",
    ]
    lines.append(
        "by send time (s from start: messages, p50 / p95 / max ms): "
        + "; ".join(
            f"{t['from_s']:.0f}: {t['messages']}, {t['p50_ms']:.0f} / {t['p95_ms']:.0f} / {t['max_ms']:.0f}"
            for t in r.get("timeline", [])
        )
    )
    for p in r["server"]:
        lines.append(f"   pid {p['pid']}: CPU {p['cpu_pct']:.0f}% RSS {p['rss_mb']:.0f} MB  {p['cmd']}")
    if "rss_per_idle_kb" in r:
        lines.append(
            f"idle connected client: {r['rss_per_idle_kb']:.0f} KB server RSS, {r['redis_per_idle_kb']:.0f} KB Redis ({r['idle_clients']} clients)"
        )
    if r["errors"]:
        lines.append(f"errors: {r['errors']}")
    for line in r.get("misdelivered_sample", []):
        lines.append(f"misdelivered: {line}")
    return "\n".join(lines)


def ok(r: dict) -> bool:
    return (
        r["lost"] == 0
        and r["unprocessed"] == 0
        and r["duplicated"] == 0
        and r["misdelivered"] == 0
        and r["stored"] == r["stored_distinct"]
    )


def machine_speed() -> float:
    """Seconds one core takes for a fixed pure-Python loop (10 million additions),
    measured before the run: the machines these runs land on differ by 2-3x, so
    a table is only comparable with one of similar speed."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


async def one(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="aw-load-") as tmp:
        servers = Servers(args, Path(tmp))
        try:
            servers.start()
            result = await run_load(args, servers)
        finally:
            logs = Path(tempfile.gettempdir()) / "aw-load-logs"
            logs.mkdir(exist_ok=True)
            for app in servers.apps:
                log = app.log_tail(2_000_000)
                (logs / f"{args.mode}-{args.chats}-{app.log_path.name}").write_text(log)
                if args.show_log:
                    print(f"--- {app.log_path.name} (last 6000 chars)\n{log[-6000:]}")
                tracebacks = log.count("Traceback")
                if tracebacks:
                    print(
                        f"server log {app.log_path.name}: {tracebacks} tracebacks (kept in {logs}); last:\n{log[log.rfind('Traceback') :][-3000:]}"
                    )
            servers.stop()
    return result


# ---------------------------------------------------------------- docs


def render_section(results: list[dict]) -> str:
    cpu = os.cpu_count()
    f = lambda xs: " / ".join(f"{x:.0f}" for x in xs)  # noqa: E731
    rows = [
        "| setup | chats | agents | msg/s | sent | failed | lost | dup | unprocessed (drain s) | customer→agent p50/p95/p99 ms | agent→customer p50/p95/p99 ms | steady state c→a / a→c p50/p95 ms | accept p50/p95 ms | chats started/accepted/closed | server CPU % | server RSS MB | generator CPU % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|---|---|---:|---:|---:|",
    ]
    for r in results:
        setup = "SQLite, 1 process" if r["mode"] == "sqlite" else f"PostgreSQL + Redis, {r['processes']} processes"
        rows.append(
            f"| {setup} | {r['chats']} | {r['agents']} | {r['msgs_per_s']:.0f} | {r['sent']} | {r['failed']} | {r['lost']} | {r['duplicated']} | {r['unprocessed']} ({r['drain_s']:.0f}) | {f(r['to_agent_ms'])} | {f(r['to_customer_ms'])} | {f(r['to_agent_steady_ms'][:2])} / {f(r['to_customer_steady_ms'][:2])} | {f(r['accept_ms'][:2])} | {r['chats_started']}/{r['chats_accepted']}/{r['chats_closed']} | {r['server_cpu_pct']:.0f} | {r['server_rss_mb']:.0f} | {r['generator_cpu_pct']:.0f} |"
        )
    idle = [r for r in results if "rss_per_idle_kb" in r]
    idle_lines = [
        f"- {('SQLite' if r['mode'] == 'sqlite' else 'PostgreSQL + Redis')}: {r['rss_per_idle_kb']:.0f} KB of server RSS"
        + (f" and {r['redis_per_idle_kb']:.0f} KB of Redis" if r["mode"] != "sqlite" else "")
        + f" per connected, loaded, idle customer tab ({r['idle_clients']} tabs)."
        for r in idle
    ]
    return "\n".join(
        [
            SECTION_HEADING,
            "",
            f"Run on {date.today().isoformat()}, {platform.machine()} machine with {cpu} CPU cores (a 10-million-step Python loop took {results[0].get('python_loop_s', float('nan')):.2f} s before the run), Python {platform.python_version()}, app at commit {results[0].get('commit', '?')}; the load generator runs on the same cores (its CPU is in the table).",
            "",
            f"Command: `.venv/bin/python bench/load.py --matrix --interval {results[0]['interval']:g} --duration {results[0]['duration']:g} --write-docs` (one run: `bench/load.py --mode sqlite|scaleout --chats N`).",
            "",
            "Each chat is one customer tab and a share of an agent tab (agents of capacity "
            f"{results[0]['capacity']}, {results[0]['queues']} queues, each agent in one); both sides write one message every "
            f"{results[0]['interval']:.0f} s; customers start their first chat spread over the first {results[0].get('ramp', 4):.0f} s; a chat lasts {max(1, results[0].get('chat_messages', 10) // 2)}-{results[0].get('chat_messages', 10) * 3 // 2} customer messages ({results[0].get('chat_messages', 10)} on average), then the customer ends it, the agent closes it and the customer starts a new one. "
            f"{results[0]['duration']:.0f} s of load per row, then the generator waits for what is in flight. Latency is from the sender's send to the first delta that shows the message to the other side; the steady-state column counts only messages sent after the first {results[0].get('warmup', 0):.0f} s, once the first wave of chats has been placed. "
            "`scaleout` runs two app processes (one Granian worker each) on one PostgreSQL database and one Redis: customers on process A, agents on B, so every message and every claim crosses processes.",
            "",
            *rows,
            "",
            "Memory per idle client:",
            *idle_lines,
            "",
        ]
    )


def write_docs(results: list[dict], analysis: str = "") -> None:
    section = render_section(results) + ("\n" + analysis.strip() + "\n" if analysis.strip() else "")
    text = DOCS_FILE.read_text() if DOCS_FILE.exists() else "# Benchmarks\n"
    start = text.find(SECTION_HEADING)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(SECTION_HEADING))
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    DOCS_FILE.write_text(text)


# ---------------------------------------------------------------- main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["sqlite", "scaleout"], default="sqlite")
    p.add_argument("--chats", type=int, default=50, help="concurrent chats = customer tabs (max 500)")
    p.add_argument("--agents", type=int, default=0, help="default: enough capacity for all chats + 15%%")
    p.add_argument("--capacity", type=int, default=4)
    p.add_argument("--queues", type=int, default=4)
    p.add_argument(
        "--interval",
        type=float,
        default=4.0,
        help="seconds between messages of one side of one chat (4: one message per chat every 2 s)",
    )
    p.add_argument(
        "--chat-messages",
        type=int,
        default=10,
        help="customer messages per chat before it ends, on average (from half to one and a half times this)",
    )
    p.add_argument(
        "--ramp", type=float, default=20.0, help="customers start their first chat spread over this many seconds"
    )
    p.add_argument("--duration", type=float, default=60.0, help="seconds of load (max 900)")
    p.add_argument(
        "--warmup", type=float, default=30.0, help="steady-state latency counts messages sent after this many seconds"
    )
    p.add_argument("--drain", type=float, default=120.0, help="at most this long, wait for in-flight messages")
    p.add_argument("--processes", type=int, default=2, help="app processes in scaleout mode")
    p.add_argument("--workers", type=int, default=1, help="Granian workers per process in scaleout mode")
    p.add_argument("--idle-clients", type=int, default=0, help="first measure memory per idle connected tab")
    p.add_argument("--matrix", action="store_true", help="sqlite and scaleout at 50, 100, 200 chats")
    p.add_argument("--levels", default="50,100,200")
    p.add_argument("--write-docs", action="store_true")
    p.add_argument("--show-log", action="store_true", help="print the end of the server logs")
    p.add_argument("--json", type=Path, default=None, help="append results to this file")
    args = p.parse_args(argv)
    if not 1 <= args.chats <= 500 or not 1 <= args.duration <= 900:
        p.error("bounded: 1-500 chats, 1-900 s")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    results = []
    configs = []
    if args.matrix:
        for mode in ("sqlite", "scaleout"):
            for level in (int(x) for x in args.levels.split(",")):
                configs.append((mode, level))
    else:
        configs.append((args.mode, args.chats))
    for mode, chats in configs:
        run_args = argparse.Namespace(**{**vars(args), "mode": mode, "chats": chats, "python_loop_s": machine_speed()})
        if args.matrix:
            run_args.idle_clients = 200 if chats == min(int(x) for x in args.levels.split(",")) else 0
        result = asyncio.run(one(run_args))
        result["chat_messages"] = args.chat_messages
        result["ramp"] = args.ramp
        result["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        results.append(result)
        print(report(result), flush=True)
        print("PASS" if ok(result) else "FAIL: lost, duplicated or misdelivered messages", flush=True)
        if args.json:
            existing = json.loads(args.json.read_text()) if args.json.exists() else []
            args.json.write_text(json.dumps(existing + [result], indent=1))
    if args.write_docs:
        write_docs(results)
    return 0 if all(ok(r) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
