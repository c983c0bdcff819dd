"""The load generator's numbers: percentiles, the per-run report, the pass/fail check, the machine's
speed, and the docs/performance.md section."""

from __future__ import annotations

import math
import os
import platform
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS_FILE = ROOT / "docs" / "performance.md"
SECTION_HEADING = "## Load: delivery under load, next to the minimal push app"


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


TIMELINE_SECONDS = 10


def timeline(s, *, start: float, seconds: float) -> list[dict]:
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
        f"server CPU {r['server_cpu_pct']:.0f}% of a core, {r['server_cpu_ms_per_msg']:.2f} ms per delivered message ({r['delivered_per_s']:.1f} delivered/s)"
        + (
            f", {r['redis_per_msg']:.1f} Redis commands per delivered message"
            if r.get("redis_per_msg") is not None
            else ""
        ),
        f"server RSS {r['server_rss_mb']:.0f} MB; generator CPU {r['generator_cpu_pct']:.0f}%; machine: 10M-step Python loop {r['python_loop_s']:.2f} s",
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


SETUPS = {"minimal": "minimal push app, 1 process", "sqlite": "app, SQLite, 1 process"}


def baseline_table(results: list[dict]) -> str:
    """One table: each mode of the app next to the minimal push app, driven alike in the same run."""
    first = results[0]
    minimal = next((r for r in results if r["mode"] == "minimal"), None)
    base = minimal["server_cpu_ms_per_msg"] if minimal else float("nan")
    f = lambda xs: " / ".join(f"{x:.0f}" for x in xs)  # noqa: E731
    lines = [
        f"Load next to the minimal push app (bench/minimal_app), {first['chats']} chats, one message per side"
        f" every {first['interval']:g} s, {first.get('chat_messages', 10)} customer messages per chat on average,"
        f" {first['duration']:g} s of load per row; {os.cpu_count()} CPU cores, {date.today().isoformat()},"
        f" commit {first.get('commit', '?')}.",
        "",
        "| setup | chats | msg/s delivered | delivery p50 / p95 / p99 ms | server CPU % of a core"
        " | server CPU ms per message | × minimal | server RSS MB | Redis commands per message"
        " | lost / dup / misdelivered | 10M-step loop s |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in results:
        setup = SETUPS.get(r["mode"], f"app, PostgreSQL + Redis, {r['processes']} processes")
        redis = f"{r['redis_per_msg']:.1f}" if r.get("redis_per_msg") is not None else "–"
        lines.append(
            f"| {setup} | {r['chats']} | {r['delivered_per_s']:.1f} | {f(r['delivery_ms'])}"
            f" | {r['server_cpu_pct']:.0f} | {r['server_cpu_ms_per_msg']:.2f} | {r['server_cpu_ms_per_msg'] / base:.2f}"
            f" | {r['server_rss_mb']:.0f} | {redis} | {r['lost']} / {r['duplicated']} / {r['misdelivered']}"
            f" | {r['python_loop_s']:.2f} |"
        )
    lines += [
        "",
        "Delivered: shown to the other side (both directions), each exactly once. Server CPU: user + system"
        " time of the server processes (from /proc) over the load and its drain; per message: divided by the"
        " messages delivered. Redis: INFO commandstats of the run's own redis-server (started for the row,"
        " so no other run's commands count), without the INFO calls. The loop is measured before each row,"
        " before its servers start; the load generator shares the machine's cores.",
    ]
    by_mode = {r["mode"]: r for r in results}
    if "sqlite" in by_mode and "scaleout" in by_mode:
        ratio = by_mode["scaleout"]["server_cpu_ms_per_msg"] / by_mode["sqlite"]["server_cpu_ms_per_msg"]
        lines.append(f"Scaled mode / embedded mode, server CPU per message: {ratio:.2f}x.")
    return "\n".join(lines)


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
    text = DOCS_FILE.read_text() if DOCS_FILE.exists() else "# Performance\n"
    start = text.find(SECTION_HEADING)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(SECTION_HEADING))
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    DOCS_FILE.write_text(text)
