"""``agent-workspace kb ...``: import, export and search the knowledge base from a shell."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from agent_workspace.db import session_scope
from agent_workspace.services import knowledge
from agent_workspace.services.errors import ServiceError

IMPORT_EPILOG = """\
Each line of PATH is one JSON object: "title" and "body" (markdown) are
required; "number" (KB + 7 digits), "category", "tags" (a list of strings) and
"published" (true/false) are optional. A line whose number exists updates that
article; any other line creates one.

Bad lines (invalid JSON, missing or invalid fields) are listed on stderr as
"line N: reason" and skipped; the good lines are still imported.
Exit status: 0 when the import ran (even if some lines were skipped),
1 when the file could not be read or no line at all was valid.
"""


class TextProgressBar:
    """A one-line progress bar redrawn in place; a line per 10% when not a terminal."""

    WIDTH = 30

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.interactive = stream.isatty()
        self._last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        text = f"{self.label} {fraction:4.0%} ({done}/{total} lines)"
        if self.interactive:
            filled = round(self.WIDTH * fraction)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self.stream.write(f"\r[{bar}] {text}")
            if done >= total:
                self.stream.write("\n")
        elif int(fraction * 10) > self._last_tenth:
            self._last_tenth = int(fraction * 10)
            self.stream.write(text + "\n")
        self.stream.flush()


def add_kb_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``kb import|export|search`` on the CLI's subparsers."""
    kb = subparsers.add_parser("kb", help="knowledge base: import, export, search")
    commands = kb.add_subparsers(dest="kb_command", metavar="COMMAND", required=True)

    importer = commands.add_parser(
        "import",
        help="create or update articles from a JSON Lines file",
        description="Create or update knowledge articles from a JSON Lines file.",
        epilog=IMPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importer.add_argument("path", type=Path, metavar="PATH")
    importer.add_argument(
        "--batch-size",
        type=_positive_int,
        default=1000,
        metavar="N",
        help="lines written and committed together (default: 1000)",
    )
    importer.set_defaults(func=run_import)

    exporter = commands.add_parser(
        "export",
        help="write every article to a JSON Lines file",
        description="Write every article, by number, in the format 'kb import' reads.",
    )
    exporter.add_argument("path", type=Path, metavar="PATH")
    exporter.set_defaults(func=run_export)

    searcher = commands.add_parser(
        "search",
        help="search published articles (typo tolerant)",
        description=(
            "Search published articles as the Agent Assist panel does. With --stdin, "
            "read one query per line and print one JSON object per line: "
            '{"query": ..., "results": [{"number", "title", "score"}, ...]}.'
        ),
    )
    searcher.add_argument("query", nargs="?", metavar="QUERY")
    searcher.add_argument("--stdin", action="store_true", help="read one query per line from stdin")
    searcher.add_argument("--limit", type=_positive_int, default=5, metavar="K", help="results per query (default: 5)")
    searcher.add_argument("--json", action="store_true", help="print the result as one JSON object")
    searcher.set_defaults(func=run_search)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def run_import(args: argparse.Namespace) -> int:
    if not args.path.is_file():
        print(f"error: no such file: {args.path}", file=sys.stderr)
        return 1
    progress = TextProgressBar(sys.stderr, f"Importing {args.path.name}")
    try:
        with session_scope() as session:
            report = knowledge.import_jsonl(session, args.path, batch_size=args.batch_size, progress=progress)
    except (OSError, ServiceError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for problem in report.errors:
        print(problem, file=sys.stderr)
    print(f"{report.created} created, {report.updated} updated, {report.skipped} skipped")
    nothing_valid = report.errors and not (report.created or report.updated)
    return 1 if nothing_valid else 0


def run_export(args: argparse.Namespace) -> int:
    try:
        with session_scope(writer=False) as session:
            count = knowledge.export_jsonl(session, args.path)
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{count} articles written to {args.path}")
    return 0


def run_search(args: argparse.Namespace) -> int:
    if args.stdin == (args.query is not None):
        print("error: give either a QUERY or --stdin", file=sys.stderr)
        return 2
    index = knowledge.get_index()  # loaded once; every query below reuses it
    with session_scope(writer=False) as session:
        knowledge.refresh_if_changed(session, index)
    if args.stdin:
        for line in sys.stdin:
            query = line.rstrip("\n")
            hits = index.search(query, limit=args.limit)
            print(json.dumps(_result_json(query, hits), ensure_ascii=False), flush=True)
        return 0
    hits = index.search(args.query, limit=args.limit)
    if args.json:
        print(json.dumps(_result_json(args.query, hits), ensure_ascii=False))
        return 0
    if not hits:
        print("No matching articles.")
    for hit in hits:
        snippet = "".join(f"[{text}]" if highlighted else text for text, highlighted in hit.snippet_parts)
        print(f"{hit.number}  {hit.score:5.1f}  {hit.title}  ({hit.category})")
        print(f"    {snippet}")
    return 0


def _result_json(query: str, hits: list[knowledge.SearchHit]) -> dict:
    return {
        "query": query,
        "results": [{"number": h.number, "title": h.title, "score": h.score} for h in hits],
    }
