"""``kb import|export|search`` against a fresh database, through a parser like the CLI's."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from agent_workspace.kb_cli import TextProgressBar, add_kb_commands
from agent_workspace.services.knowledge import SEED_ARTICLES_FILE as SEED_FILE


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="agent-workspace")
    add_kb_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["kb", *argv])
    return args.func(args)


@pytest.fixture
def seeded_db(database_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert run("import", str(SEED_FILE)) == 0
    capsys.readouterr()
    return database_url


def test_import_prints_a_summary_and_progress(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("import", str(SEED_FILE), "--batch-size", "10") == 0
    out, err = capsys.readouterr()
    assert out.strip() == "49 created, 0 updated, 0 skipped"
    assert "100% (49/49 lines)" in err


def test_import_lists_bad_lines_and_keeps_good_ones(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"title": "Fine", "body": "Body"}\nnot json\n{"title": "No body"}\n', encoding="utf-8")
    assert run("import", str(path)) == 0
    out, err = capsys.readouterr()
    assert "1 created, 0 updated, 2 skipped" in out
    assert "line 2: invalid JSON" in err and "line 3: An article needs a body." in err


def test_import_fails_when_nothing_is_valid_or_the_file_is_missing(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("nope\n", encoding="utf-8")
    assert run("import", str(path)) == 1
    assert run("import", str(tmp_path / "missing.jsonl")) == 1
    assert "no such file" in capsys.readouterr().err


def test_export_writes_the_import_format(seeded_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.jsonl"
    assert run("export", str(target)) == 0
    assert "49 articles written" in capsys.readouterr().out
    assert target.read_bytes() == SEED_FILE.read_bytes()


def test_search_prints_ranked_articles(seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("search", "vnp not conecting", "--limit", "2") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("KB0010007") and "VPN not connecting" in lines[0]
    assert len([line for line in lines if line.startswith("KB")]) == 2


def test_search_json(seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("search", "pasword reest", "--json", "--limit", "1") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["query"] == "pasword reest"
    assert [r["number"] for r in result["results"]] == ["KB0010001"]
    assert 0 < result["results"][0]["score"] <= 100


def test_search_stdin_prints_one_json_object_per_line(
    seeded_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("outlok wont sync\n\nrefnud my order\n"))
    assert run("search", "--stdin", "--limit", "3") == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["query"] for r in results] == ["outlok wont sync", "", "refnud my order"]
    assert results[0]["results"][0]["title"] == "Outlook not syncing or showing disconnected"
    assert results[1]["results"] == []
    assert "Request a refund" in [r["title"] for r in results[2]["results"]]


def test_search_needs_exactly_one_of_query_or_stdin(seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("search") == 2
    assert run("search", "vpn", "--stdin") == 2
    assert "either a QUERY or --stdin" in capsys.readouterr().err


def test_progress_bar_redraws_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    bar = TextProgressBar(stream, "Importing")
    bar(5, 10)
    bar(10, 10)
    assert stream.getvalue().startswith("\r[" + "#" * 15 + "-" * 15 + "]")
    assert stream.getvalue().endswith("100% (10/10 lines)\n")
