"""bench/load.py --baseline: its clients address the minimal app's real state, and its one table
puts each mode next to the minimal app."""

import subprocess
import sys
from pathlib import Path

from bench.load_minimal import STATE
from bench.load_report import baseline_table

MINIMAL_APP = Path(__file__).resolve().parents[1] / "bench" / "minimal_app"


def test_the_minimal_clients_name_the_minimal_apps_state():
    # Imported in its own process, as the minimal app's server imports it (its own rxconfig, its own app).
    name = subprocess.run(
        [sys.executable, "-c", "from minimal_chat.minimal_chat import ChatState; print(ChatState.get_full_name())"],
        cwd=MINIMAL_APP,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    assert name == STATE


def row(mode: str, cpu_ms: float, redis: float | None = None) -> dict:
    return {
        "mode": mode,
        "processes": 2 if mode == "scaleout" else 1,
        "chats": 50,
        "interval": 4.0,
        "duration": 40.0,
        "chat_messages": 10,
        "delivered_per_s": 24.5,
        "delivery_ms": [5.0, 20.0, 40.0],
        "server_cpu_pct": 30.0,
        "server_cpu_ms_per_msg": cpu_ms,
        "server_rss_mb": 170.0,
        "redis_per_msg": redis,
        "lost": 0,
        "duplicated": 0,
        "misdelivered": 0,
        "python_loop_s": 0.25,
        "commit": "abc1234",
    }


def test_the_baseline_table_has_a_row_per_mode_with_its_ratio_to_the_minimal_app():
    table = baseline_table([row("minimal", 2.0), row("sqlite", 5.0), row("scaleout", 7.5, redis=12.3)])
    lines = table.splitlines()
    minimal = next(line for line in lines if line.startswith("| minimal push app"))
    sqlite = next(line for line in lines if line.startswith("| app, SQLite"))
    scaleout = next(line for line in lines if line.startswith("| app, PostgreSQL + Redis, 2 processes"))
    assert "| 2.00 | 1.00 |" in minimal and "| – |" in minimal  # no Redis in the minimal app
    assert "| 5.00 | 2.50 |" in sqlite
    assert "| 7.50 | 3.75 |" in scaleout and "| 12.3 |" in scaleout
    assert all(line.endswith("| 0.25 |") for line in (minimal, sqlite, scaleout))  # the loop time on every row
    assert "Scaled mode / embedded mode, server CPU per message: 1.50x." in table
