"""Load generator: customers and agents over the app's real websocket protocol, next to a minimal push app.

    .venv/bin/python bench/load.py --baseline --chats 50 --duration 40           # minimal app, then sqlite: one table
    .venv/bin/python bench/load.py --baseline sqlite,scaleout --chats 200        # ... and the scaled mode too
    .venv/bin/python bench/load.py --mode sqlite --chats 50 [--duration 60]      # one mode: sqlite, scaleout, minimal
    .venv/bin/python bench/load.py --mode scaleout --chats 200
    .venv/bin/python bench/load.py --matrix --write-docs      # the matrix table into docs/performance.md

``--baseline [MODES]`` runs the minimal push app (``bench/minimal_app``: one SQLite insert and one
``app.modify_state`` push per message) and then each mode of the app, one after the other, with the
same chats, message rate and churn, and prints one table: per row chats, messages delivered per
second, delivery p50/p95/p99 (both directions), server CPU in % of a core and in ms per delivered
message, its ratio to the minimal app, server RSS, Redis commands per delivered message (scaled mode)
and the 10-million-step Python loop time measured right before the row (compare rows only with a
similar loop time; other work on the machine shows there first). Every row must also pass the
exactly-once check below.

Each run starts its own servers from a temporary copy (``tests/scaleout/harness.py``): ``--mode
sqlite`` is one app process, one worker, embedded SQLite in a temporary directory; ``--mode
scaleout`` is a private PostgreSQL database, a private redis-server (its own port, so INFO
commandstats counts this run's commands alone; Redis keeps no per-database counts) and two app
processes (one worker each) with customers on process A and agents on process B, so every message
crosses processes; ``--mode minimal`` is the minimal app, one process. Only 127.0.0.1 is contacted.

Clients send exactly what the pages send. Customers: ``on_load``,
``start_chat(form)`` (the first spread over ``--ramp`` seconds),
``send(form)`` every ``--interval`` seconds for 5-15 messages (``--chat-messages`` 10),
``end_chat``, then ``new_chat`` and a new ``start_chat``; ``tick`` every 15 s.
Agents: ``on_load``, ``set_presence("Available")``, ``accept(queue_id)`` up to
their capacity, ``send_message(form)`` every ``--interval`` seconds per open
chat, ``close_chat(interaction_id)`` once the customer ended; ``tick`` every
5 s. In the minimal app each chat is a pair of tabs (``join(side, pair)``, ``send(form)``) with the
same rhythm and a new pair per chat (``bench/load_minimal.py``). Every message body carries an id
and its send time; delivery is the first delta the receiving tab gets that shows it. After the run,
every message the server stored must have reached the other side exactly once: the script exits
1 if anything is lost, duplicated or shown in the wrong chat.

Modules: the app's clients and the ledger in ``bench/load_clients.py``, the minimal app's in
``bench/load_minimal.py``, the servers in ``bench/load_servers.py``, the tables in ``bench/load_report.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_clients import LoadAgent, LoadCustomer, Run  # noqa: E402
from bench.load_minimal import MinimalPair  # noqa: E402
from bench.load_report import (  # noqa: E402
    TIMELINE_SECONDS,
    baseline_table,
    machine_speed,
    ok,
    pct,
    report,
    timeline,
    write_docs,
)
from bench.load_servers import MinimalServer, Servers, seed  # noqa: E402
from tests.scaleout.tabs import CustomerTab  # noqa: E402

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


async def app_clients(args, servers: Servers) -> tuple[Run, list, dict]:
    """The app's agents (enough capacity for every chat and 15 % more) and customers, connected."""
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
    return run, [*agents, *customers], {"agents": agents_n, **idle}


async def minimal_clients(args, servers: MinimalServer) -> tuple[Run, list, dict]:
    """The minimal app's pairs of tabs, connected: one pair per chat."""
    run = Run(args, servers.ports)
    pairs = [MinimalPair(run, i) for i in range(args.chats)]
    for chunk in range(0, args.chats, 25):
        await asyncio.gather(*(p.connect(servers.ports[0]) for p in pairs[chunk : chunk + 25]))
    args.capacity, args.queues = 1, 0
    return run, pairs, {"agents": args.chats}


async def run_load(args, servers: Servers | MinimalServer) -> dict:
    if args.mode == "minimal":
        run, clients, extra = await minimal_clients(args, servers)
    else:
        run, clients, extra = await app_clients(args, servers)

    cpu_before, wall_before = servers.snapshot(), time.monotonic()
    redis_before = servers.redis_commands()
    gen_before = os.times()
    steady_from = time.time() + args.warmup
    tasks = [asyncio.create_task(c.life()) for c in clients]
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
    redis_after = servers.redis_commands()
    gen_after = os.times()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    rows = servers.stored()
    stored_in = {body.split("|")[1]: chat for body, chat in rows}
    stored, stored_distinct = len(rows), len({body for body, _ in rows})

    s = run.stats
    processes = []
    for pid, (cpu, rss, cmd) in sorted(cpu_after.items()):
        start = cpu_before.get(pid, (0.0, 0, ""))[0]
        processes.append(
            {
                "pid": pid,
                "cpu_s": cpu - start,
                "cpu_pct": 100 * (cpu - start) / wall,
                "rss_mb": rss / 2**20,
                "cmd": cmd[:80],
            }
        )
    sent_ok = [m for m in s.sent if m not in s.failed]
    # Lost: the server stored it (or told the sender "Sent") and the other side never saw it.
    lost = [m for m in sent_ok if m not in s.delivered and (m in stored_in or m in s.acked)]
    # Unprocessed: sent, yet neither stored nor refused when the drain ended (the server is behind).
    unprocessed = [m for m in sent_ok if m not in s.delivered and m not in stored_in and m not in s.acked]
    delivered = len([m for m in sent_ok if m in s.delivered])
    both = [s.delivered[m] * 1000 for m in s.delivered]
    to_agent = [s.delivered[m] * 1000 for m in s.delivered if s.sent[m][0] == "to_agent"]
    to_customer = [s.delivered[m] * 1000 for m in s.delivered if s.sent[m][0] == "to_customer"]
    acks = [v * 1000 for v in s.acked.values()]
    steady = {m for m in s.delivered if s.sent[m][1] >= steady_from}  # sent once the first wave of chats was placed
    to_agent_steady = [s.delivered[m] * 1000 for m in steady if s.sent[m][0] == "to_agent"]
    to_customer_steady = [s.delivered[m] * 1000 for m in steady if s.sent[m][0] == "to_customer"]
    server_cpu_s = sum(p["cpu_s"] for p in processes)
    redis_commands = redis_after - redis_before if redis_after is not None and redis_before is not None else None
    return {
        "timeline": timeline(s, start=steady_from - args.warmup, seconds=TIMELINE_SECONDS),
        "mode": args.mode,
        "processes": len(servers.apps),
        "workers": args.workers if args.mode == "scaleout" else 1,
        "chats": args.chats,
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
        "delivered": delivered,
        "delivered_per_s": delivered / args.duration,
        "lost": len(lost),
        "unprocessed": len(unprocessed),
        "drain_s": drained_s,
        "duplicated": len(s.duplicated),
        "misdelivered": len(s.misdelivered),
        "delivery_ms": [pct(both, p) for p in (50, 95, 99)],
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
        "server_cpu_ms_per_msg": 1000 * server_cpu_s / delivered if delivered else float("nan"),
        "redis_commands": redis_commands,
        "redis_per_msg": redis_commands / delivered if redis_commands is not None and delivered else None,
        "generator_cpu_pct": 100 * ((gen_after.user - gen_before.user) + (gen_after.system - gen_before.system)) / wall,
        "python_loop_s": args.python_loop_s,
        "errors": dict(s.errors),
        "lost_sample": lost[:5],
        "misdelivered_sample": [
            f"{detail}; stored in {stored_in.get(mid, 'nothing')!r}"
            for mid, detail in list(s.misdelivered.items())[:10]
        ],
        **extra,
    }


async def one(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="aw-load-") as tmp:
        servers = MinimalServer(args, Path(tmp)) if args.mode == "minimal" else Servers(args, Path(tmp))
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


# ---------------------------------------------------------------- main

MODES = ["sqlite", "scaleout", "minimal"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=MODES, default="sqlite")
    p.add_argument(
        "--baseline",
        nargs="?",
        const="sqlite",
        default="",
        metavar="MODES",
        help="the minimal push app, then these modes of the app (default sqlite; e.g. sqlite,scaleout), one table",
    )
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
    if args.baseline and not set(args.baseline.split(",")) <= {"sqlite", "scaleout"}:
        p.error("--baseline takes sqlite, scaleout or sqlite,scaleout")
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
    elif args.baseline:
        configs += [(mode, args.chats) for mode in ("minimal", *args.baseline.split(","))]
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
    if args.baseline:
        print("\n" + baseline_table(results), flush=True)
    if args.write_docs:
        write_docs([r for r in results if r["mode"] != "minimal"])
    return 0 if all(ok(r) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
