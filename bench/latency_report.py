"""The tables of ``bench/latency_bench.py``: latency per app and direction, and with ``--profile``
the split at the server's edges, the waterfall of our server-side steps and their timings."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.latency_bench import Pair


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
