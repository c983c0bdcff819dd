"""Abuse harness: the attacks of issue 17 against a disposable app, while a real pair chats.

    .venv/bin/python bench/abuse.py                          # every attack, 20 s each, this checkout
    .venv/bin/python bench/abuse.py --app-dir /tmp/aw-base   # another checkout (e.g. a pristine older commit)
    .venv/bin/python bench/abuse.py --attacks typing-flood,login-lockout --seconds 10

For each attack, one at a time: a fresh ``reflex run --env prod --backend-only``
(own port, own temporary data dir, a copy of a SQLite database seeded through
the app's CLI), a legitimate agent signed in through the login page's events
and a legitimate customer on 127.0.0.1. The pair chats once to warm up, then
three times unattacked; then the attacker process (``bench/abuse_attacks.py``,
from 127.0.0.2 and other loopback addresses) attacks for ``--seconds`` while
the pair keeps chatting (a chat at most every 1.5 s, each from a new customer
tab, so it stays inside the app's budgets for one visitor). Measured: server RSS (the backend's
process group) before, at the end and 5 s after the attackers disconnected;
attachment files on disk and those without a row (orphans); the pair's start
(start_chat → the agent sees the offer) and delivery (the slower of customer→agent
and agent→customer) unattacked and during the attack; for login-lockout, whether
the attacked agent then signs in from 127.0.0.1. Prints a markdown table and
the targets of docs/security.md ("Abuse harness"). Only 127.0.0.x is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.abuse_attacks import ATTACKS, Plan, Tally, run_attacker  # noqa: E402
from bench.abuse_kit import LEGIT_QUEUE, AppTemplate, Backend, LegitPair, Round, new_base, sign_in  # noqa: E402

RSS_GROWTH_MB = 100  # targets (docs/security.md, "Abuse harness")
SLOWDOWN = 5
LATENCY_S = 2.0
ROUND_SPACING_S = 1.5
SETTLE_S = 5.0  # RSS is measured again this long after the attackers disconnected


@dataclass
class Result:
    attack: str
    tally: dict = field(default_factory=dict)
    rss_before: float = 0.0
    rss_peak: float = 0.0
    rss_end: float = 0.0
    rss_after: float = 0.0
    files_before: int = 0
    files_after: int = 0
    orphans: int = 0
    unattacked: list[Round] = field(default_factory=list)
    attacked: list[Round] = field(default_factory=list)
    agent_signs_in: bool | None = None  # login-lockout only
    server_tracebacks: int = 0
    error: str = ""

    def latencies(self, rounds: list[Round], what: str) -> list[float | None]:
        return [getattr(r, what) for r in rounds]

    def targets(self) -> list[str]:
        """Which targets this attack missed (empty: all met)."""
        missed = []
        if max(self.rss_end, self.rss_after) - self.rss_before > RSS_GROWTH_MB:
            missed.append(f"RSS +{max(self.rss_end, self.rss_after) - self.rss_before:.0f} MB")
        for what, label in (("start_s", "start"), ("delivery_s", "delivery")):
            before, during = self.latencies(self.unattacked, what), self.latencies(self.attacked, what)
            if not during or None in during or None in before:
                missed.append(f"{label} not measured or timed out")
                continue
            base, typical = statistics.median(before), statistics.median(during)
            if typical > SLOWDOWN * base or max(during) > LATENCY_S:
                missed.append(f"{label} {typical / base:.1f}x, max {max(during):.2f} s")
        if self.orphans:
            missed.append(f"{self.orphans} orphan files")
        if self.agent_signs_in is False:
            missed.append("agent locked out")
        return missed


def machine_speed() -> float:
    """Seconds for the 10-million-step loop of bench/load.py (tables are comparable
    only between machines of similar speed)."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


async def rounds_until(pair: LegitPair, until: float) -> list[Round]:
    """The legitimate pair chats until ``until``, a chat at most every ROUND_SPACING_S."""
    done = []
    while time.monotonic() < until:
        began = time.monotonic()
        done.append(await pair.chat_once())
        await asyncio.sleep(max(0.0, min(until, began + ROUND_SPACING_S) - time.monotonic()))
    return done


async def sample_peak(backend: Backend, result: Result, until: float) -> None:
    while time.monotonic() < until:
        result.rss_peak = max(result.rss_peak, backend.rss_mb())
        await asyncio.sleep(0.5)


async def accept_attacker_chat(pair: LegitPair, template: AppTemplate) -> None:
    """typing-flood: the agent accepts the attacker's chat, so its typing reaches a live chat."""
    queue_id = template.queue_ids[LEGIT_QUEUE]
    await pair.agent.wait_until(lambda v: any(c.get("queue_id") == queue_id for c in v.get("inbox", [])))
    await pair.agent.send("workspace.accept", {"queue_id": queue_id})
    await pair.agent.wait_until(lambda v: any(t.get("customer_name") == "Typing flooder" for t in v.get("tabs", [])))


async def receive(pipe, timeout: float):
    if not await asyncio.to_thread(pipe.poll, timeout):
        raise TimeoutError("the attacker process did not answer")
    return pipe.recv()


async def run_one(args, template: AppTemplate, base: Path) -> Result:
    """One attack on a fresh backend: warm up, measure unattacked, attack, measure after."""
    result = Result(attack=args.attack)
    backend = Backend(template, base / args.attack).start()
    pair = attacker = None
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    try:
        cookie = await sign_in(template.names, backend.port)
        if cookie is None:
            raise RuntimeError("the legitimate agent could not sign in before the attack")
        pair = await LegitPair(template.names, backend.port, template.queue_ids[LEGIT_QUEUE], cookie).open()
        plan = Plan(
            args.attack,
            backend.port,
            template.names,
            template.queue_ids,
            args.seconds,
            tabs=args.tabs,
            upload_files=args.upload_files,
        )
        attacker = multiprocessing.get_context("spawn").Process(target=run_attacker, args=(plan, theirs), daemon=True)
        attacker.start()
        ready = await receive(ours, 60)
        if ready != "ready":
            raise RuntimeError(str(ready))
        if args.attack == "typing-flood":
            await accept_attacker_chat(pair, template)
        await pair.chat_once()  # warm-up, not counted
        result.unattacked = [await pair.chat_once() for _ in range(3)]
        result.files_before, _ = backend.files()
        result.rss_before = result.rss_peak = backend.rss_mb()
        ours.send("go")
        until = time.monotonic() + args.seconds
        peak = asyncio.create_task(sample_peak(backend, result, until))
        result.attacked = await rounds_until(pair, until)
        await peak
        result.rss_end = backend.rss_mb()
        if args.attack == "login-lockout":
            result.agent_signs_in = await sign_in(template.names, backend.port) is not None
        tally = await receive(ours, 120)
        if not isinstance(tally, Tally):
            raise RuntimeError(str(tally))
        result.tally = asdict(tally)
        await asyncio.sleep(SETTLE_S)
        result.rss_after = backend.rss_mb()
        result.files_after, result.orphans = backend.files()
    except Exception as error:  # noqa: BLE001 - one attack failing must not hide the others' rows
        result.error = f"{type(error).__name__}: {error}"
    finally:
        if pair is not None:
            await pair.close()
        if attacker is not None:
            attacker.join(timeout=10)
            if attacker.is_alive():
                attacker.kill()
        backend.stop()
        result.server_tracebacks = backend.tracebacks()
        if args.keep_logs:
            shutil.copy2(backend.process.log_path, args.keep_logs / f"{args.attack}.log")
    return result


# ---------------------------------------------------------------- the table


def ms(values: list[float | None]) -> str:
    if not values:
        return "–"
    if None in values:
        done = [v for v in values if v is not None]
        return f"{len(values) - len(done)}/{len(values)} timed out" + (f", max {max(done) * 1000:.0f}" if done else "")
    return f"{statistics.median(values) * 1000:.0f} ({max(values) * 1000:.0f})"


HEADER = (
    "| attack | events sent | refused / disconnects | RSS MB before → end → +5 s | files before → after (orphans) "
    "| start ms unattacked → attacked | delivery ms unattacked → attacked | agent signs in | targets missed |\n"
    "|---|---:|---|---|---|---|---|---|---|"
)


def row(r: Result) -> str:
    if r.error:
        return f"| {r.attack} | – | – | – | – | – | – | – | ERROR: {r.error} |"
    t = r.tally
    sent = f"{t['sent']:,}" + (f" files, {t['requests']} requests" if t["requests"] else "")
    refused = f"{t['refused']:,} / {t['disconnects']}" + (
        f" ({t['send_failures']} failed sends)" if t["send_failures"] else ""
    )
    signs = {None: "–", True: "yes", False: "**no**"}[r.agent_signs_in]
    missed = r.targets()
    note = f" {t['note']}" if t.get("note") else ""
    refusals = {x.refused for x in r.unattacked + r.attacked if x.refused}
    if refusals:
        note += f" legitimate chat refused: {'; '.join(sorted(refusals))}"
    if r.attack == "many-tabs" and t["sent"]:
        note += f", {(r.rss_end - r.rss_before) * 1024 / max(1, t['sent'] // 3):.0f} KB of RSS per tab"
    return (
        f"| {r.attack} | {sent} | {refused} | {r.rss_before:.0f} → {r.rss_end:.0f} → {r.rss_after:.0f} (peak {r.rss_peak:.0f}) "
        f"| {r.files_before} → {r.files_after} ({r.orphans}) "
        f"| {ms(r.latencies(r.unattacked, 'start_s'))} → {ms(r.latencies(r.attacked, 'start_s'))} "
        f"| {ms(r.latencies(r.unattacked, 'delivery_s'))} → {ms(r.latencies(r.attacked, 'delivery_s'))} "
        f"| {signs} | {'; '.join(missed) or 'none'}{';' if note and missed else ''}{note} |"
    )


def report(results: list[Result], args, loop_s: float, commit: str) -> str:
    lines = [
        f"Abuse harness, {date.today().isoformat()}: app {args.app_dir} (commit {commit}), {args.seconds:g} s per attack, "
        f"{platform.machine()} with {os.cpu_count()} cores, a 10-million-step Python loop took {loop_s:.2f} s; "
        f"load average before the run {args.load_before}.",
        "",
        HEADER,
        *(row(r) for r in results),
        "",
        "Latencies: median (max) over the chats of the phase. Targets: RSS growth ≤ "
        f"{RSS_GROWTH_MB} MB; start and delivery ≤ {SLOWDOWN}× unattacked (median) and ≤ {LATENCY_S:g} s (max); "
        "0 orphan files; the attacked agent signs in.",
    ]
    tracebacks = [f"{r.attack}: {r.server_tracebacks}" for r in results if r.server_tracebacks]
    if tracebacks:
        lines.append(
            "Server log tracebacks: "
            + ", ".join(tracebacks)
            + (" (logs kept with --keep-logs)" if not args.keep_logs else "")
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout to run (default: this one)")
    p.add_argument("--attacks", default=",".join(ATTACKS), help=f"comma-separated, of: {', '.join(ATTACKS)}")
    p.add_argument("--seconds", type=float, default=20.0, help="length of each attack (1-120)")
    p.add_argument("--tabs", type=int, default=200, help="many-tabs: anonymous tabs opened, 10 a second (≤ 1000)")
    p.add_argument("--upload-files", type=int, default=50, help="upload-flood: files per request (≤ 1000)")
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--keep-logs", type=Path, help="copy each backend's log into this directory")
    args = p.parse_args(argv)
    args.attacks = [a.strip() for a in args.attacks.split(",") if a.strip()]
    unknown = [a for a in args.attacks if a not in ATTACKS]
    if unknown:
        p.error(f"unknown attacks: {', '.join(unknown)}")
    if not 1 <= args.seconds <= 120 or not 1 <= args.tabs <= 1000 or not 1 <= args.upload_files <= 1000:
        p.error("bounded: 1-120 s, 1-1000 tabs, 1-1000 files per request")
    if args.keep_logs:
        args.keep_logs.mkdir(parents=True, exist_ok=True)
    return args


async def run_all(args) -> tuple[list[Result], str]:
    base = new_base()
    try:
        template = AppTemplate(args.app_dir, base)
        template.prepare()
        results = []
        for attack in args.attacks:
            print(f"{attack}: {args.seconds:g} s ...", flush=True)
            results.append(await run_one(argparse.Namespace(**{**vars(args), "attack": attack}), template, base))
            print(HEADER.splitlines()[0] + "\n" + row(results[-1]), flush=True)
        return results, template.commit()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    args.load_before = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    loop_s = machine_speed()
    started = time.monotonic()
    results, commit = asyncio.run(run_all(args))
    print()
    print(report(results, args, loop_s, commit))
    print(f"\nTotal {time.monotonic() - started:.0f} s.")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"loop_s": loop_s, "commit": commit, "results": [asdict(r) for r in results]}, indent=1, default=str
            )
        )
    return 0 if all(not r.error and not r.targets() for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
