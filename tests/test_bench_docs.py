"""The benchmarks that write docs/performance.md replace their own section of it and nothing else."""

import shutil
from pathlib import Path

import pytest

from bench import kb_bench, load_report

PERFORMANCE = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


def sections(text: str) -> dict[str, str]:
    """Heading -> body of each ``## `` section."""
    parts = ("\n" + text).split("\n## ")[1:]
    return {"## " + part.split("\n", 1)[0]: part.split("\n", 1)[1] for part in parts}


def load_row() -> dict:
    return {
        "mode": "sqlite",
        "processes": 1,
        "chats": 2,
        "agents": 1,
        "capacity": 4,
        "queues": 4,
        "interval": 4.0,
        "duration": 60.0,
        "msgs_per_s": 1.0,
        "sent": 3,
        "failed": 0,
        "lost": 0,
        "duplicated": 0,
        "unprocessed": 0,
        "drain_s": 1.0,
        **{key: [1.0, 2.0, 3.0] for key in ("to_agent_ms", "to_customer_ms", "accept_ms")},
        **{key: [1.0, 2.0, 3.0] for key in ("to_agent_steady_ms", "to_customer_steady_ms")},
        "chats_started": 1,
        "chats_accepted": 1,
        "chats_closed": 1,
        "server_cpu_pct": 5.0,
        "server_rss_mb": 100.0,
        "generator_cpu_pct": 1.0,
        "python_loop_s": 0.3,
    }


WRITERS = {
    "kb_bench": (kb_bench, lambda: kb_bench.write_docs("| new table |", "python bench/kb_bench.py", 20, "ok", 0.3)),
    "load_report": (load_report, lambda: load_report.write_docs([load_row()])),
}


@pytest.mark.parametrize("name", WRITERS)
def test_a_writer_replaces_only_its_section_of_performance_md(name, tmp_path, monkeypatch):
    module, write = WRITERS[name]
    assert module.DOCS_FILE == PERFORMANCE
    before = sections(PERFORMANCE.read_text(encoding="utf-8"))
    assert module.SECTION_HEADING in before  # the writer targets a section that exists

    copy = tmp_path / "performance.md"
    shutil.copy(PERFORMANCE, copy)
    monkeypatch.setattr(module, "DOCS_FILE", copy)
    write()
    after = sections(copy.read_text(encoding="utf-8"))

    assert list(after) == list(before)  # same sections, same order
    assert after[module.SECTION_HEADING] != before[module.SECTION_HEADING]
    assert {h: b for h, b in after.items() if h != module.SECTION_HEADING} == {
        h: b for h, b in before.items() if h != module.SECTION_HEADING
    }
