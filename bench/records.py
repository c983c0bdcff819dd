"""Benchmark the Interactions / Cases / Incidents lists and their search at 100,000 chats.

    .venv/bin/python bench/records.py [--interactions 100000] [--runs 7] [--db PATH] [--write-docs]

Builds a SQLite database migrated to head (``--db``, default a temporary file;
an existing file built by an earlier run is reused) with ``--interactions``
chats of about 8 messages each over a year, several queues and agents, and a
case or incident for one chat in ten, inserted in bulk (the FTS triggers index
the texts as they go in). Then times ``record_lists.list_records`` and
``export_chunks`` as the pages call them: the median of ``--runs`` runs of each.
Prints a markdown table; ``--write-docs`` also puts it into
docs/performance.md (only the "Record lists and search" section is replaced).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from agent_workspace.db import make_engine  # noqa: E402
from agent_workspace.migrations import upgrade  # noqa: E402
from agent_workspace.services.record_access import Viewer  # noqa: E402
from agent_workspace.services.record_lists import (  # noqa: E402
    ListKind,
    ListQuery,
    Scope,
    SortColumn,
    export_chunks,
    list_records,
)

DOCS_FILE = ROOT / "docs" / "performance.md"
DOCS_INTRO = (
    "# Performance\n\nMeasurements of the workspace's heavier paths, each with the command that reproduces it.\n"
)
SECTION_HEADING = "## Record lists and search"
RANDOM_SEED = 20261202
QUEUES = ("General", "Billing", "Technical", "Returns", "Accounts")
AGENTS = 12
MESSAGES_PER_CHAT = 8
START = datetime(2025, 1, 1, tzinfo=UTC)
FIRST_NAMES = (
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Edsger",
    "Radia",
    "Donald",
    "Hedy",
    "Niklaus",
    "Sophie",
    "Zoë",
    "Jürgen",
    "Chloé",
    "Søren",
    "Ines",
)
LAST_NAMES = (
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Knuth",
    "Lamarr",
    "Wirth",
    "Wilson",
    "Müller",
    "Dubois",
    "Kierkegaard",
    "García",
    "Rossi",
)
TOPICS = (
    "invoice",
    "refund",
    "delivery",
    "password",
    "router",
    "subscription",
    "warranty",
    "parcel",
    "account",
    "discount",
    "printer",
    "upgrade",
    "café",
    "voucher",
    "installation",
)
FILLER = (
    "hello thanks please could you check my order again today because the last time it did not work and I am "
    "waiting since monday for an answer about this problem with the app on my phone or laptop at home or office "
    "sure let me look into that for you one moment while I open your details here is what I found so far"
).split()
RARE_WORD = "zeppelin"  # in one chat of about two thousand
NOTE_WORD = "callback"  # only in the work notes of one chat in fifty


def _stamp(at: datetime) -> str:
    """The text SQLAlchemy stores for a datetime in SQLite."""
    return at.strftime("%Y-%m-%d %H:%M:%S.%f")


def build(path: Path, interactions: int) -> None:
    """Migrate, then bulk-insert the data set with plain sqlite3 (a few minutes at 100k)."""
    upgrade(f"sqlite:///{path}")
    rnd = random.Random(RANDOM_SEED)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    now = _stamp(START)
    db.executemany(
        "INSERT INTO queue (id, name, description, active, weekly_hours, time_zone, closures, closed_message) VALUES (?, ?, '', 1, '', 'UTC', '', '')",
        list(enumerate(QUEUES, 1)),
    )
    users = [
        (n, f"agent{n}", f"Agent {LAST_NAMES[n % len(LAST_NAMES)]} {n}", "workspace_user") for n in range(1, AGENTS + 1)
    ]
    users.append((AGENTS + 1, "supervisor", "Sam Supervisor", "supervisor,workspace_user"))
    db.executemany(
        "INSERT INTO user (id, username, display_name, email, password_hash, roles, capacity, presence, presence_changed_at, active, password_changed_at, created_at, after_hours)"
        f" VALUES (?, ?, ?, '', 'x', ?, 4, 'offline', '{now}', 1, '{now}', '{now}', 0)",
        users,
    )
    members = {
        queue_id: [
            agent for agent in range(1, AGENTS + 1) if agent % len(QUEUES) + 1 == queue_id or agent % 3 + 1 == queue_id
        ]
        for queue_id in range(1, len(QUEUES) + 1)
    }
    db.executemany(
        "INSERT INTO queue_member (queue_id, user_id) VALUES (?, ?)",
        [(q, a) for q, agents in members.items() for a in agents],
    )
    customers, chats, messages, records = [], [], [], []
    seconds_in_year = 365 * 86400
    for n in range(1, interactions + 1):
        name = f"{rnd.choice(FIRST_NAMES)} {rnd.choice(LAST_NAMES)}"
        customers.append((n, name, f"{name.split()[0].lower()}.{n}@example.com", now))
        queue_id = rnd.randint(1, len(QUEUES))
        requested = START + timedelta(seconds=seconds_in_year * n // interactions + rnd.randint(0, 60))
        roll = rnd.random()
        state = (
            "closed_complete"
            if roll < 0.9
            else "closed_abandoned"
            if roll < 0.96
            else rnd.choice(("queued", "offered", "work_in_progress"))
        )
        agent = rnd.choice(members[queue_id]) if state in ("closed_complete", "work_in_progress") else None
        closed = requested + timedelta(seconds=rnd.randint(60, 3600)) if state.startswith("closed") else None
        rating = rnd.randint(1, 5) if state == "closed_complete" and rnd.random() < 0.6 else None
        topic = rnd.choice(TOPICS)
        question = f"Question about my {topic}: {' '.join(rnd.choices(FILLER, k=10))}"
        work_notes = f"Promised a {NOTE_WORD} about the {topic}" if n % 50 == 0 else ""
        chats.append(
            (
                n,
                f"IMS{1000 + n:07d}",
                f"p{n}",
                state,
                queue_id,
                agent,
                n,
                question,
                question[:160],
                _stamp(requested),
                closed and _stamp(closed),
                rating,
                _stamp(closed or requested),
                work_notes,
            )
        )
        for m in range(MESSAGES_PER_CHAT):
            words = rnd.choices(FILLER, k=rnd.randint(6, 16)) + [rnd.choice(TOPICS)]
            if n % 2000 == 0 and m == 3:
                words.append(RARE_WORD)
            rnd.shuffle(words)
            kind = "customer" if m % 2 == 0 else "agent"
            messages.append(
                (
                    n,
                    kind,
                    agent if kind == "agent" else None,
                    name if kind == "customer" else "Agent",
                    " ".join(words),
                    f"c{m}",
                    _stamp(requested + timedelta(seconds=30 * m)),
                )
            )
        if n % 10 == 0:
            kind = "case" if n % 20 == 0 else "incident"
            record_id = len(records) + 1
            finished = rnd.random() < 0.7
            records.append(
                (
                    record_id,
                    kind,
                    f"{'CS' if kind == 'case' else 'INC'}{1000 + record_id:07d}",
                    n,
                    n,
                    f"Follow up on the {topic}",
                    question,
                    "resolved" if finished else "in_progress",
                    agent,
                    _stamp(requested + timedelta(hours=1)),
                    _stamp(requested + timedelta(days=2)),
                )
            )
    db.executemany(
        "INSERT INTO customer (id, name, email, client_address, created_at) VALUES (?, ?, ?, '', ?)", customers
    )
    db.executemany(
        "INSERT INTO interaction (id, number, public_id, state, queue_id, agent_id, customer_id, question, short_description, requested_at, closed_at, rating, updated_at,"
        " work_notes, category, priority, transfer_note, rating_comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'inquiry', 4, '', '')",
        chats,
    )
    db.executemany(
        "INSERT INTO message (interaction_id, sender_kind, sender_user_id, sender_name, body, client_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        messages,
    )
    db.executemany(
        "INSERT INTO support_record (id, kind, number, interaction_id, customer_id, short_description, description, state, created_by_id, created_at, updated_at,"
        " priority, resolution_notes, escalation_level, escalation_group, escalation_reason, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 4, '', 0, '', '', 'chat')",
        records,
    )
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()


def loop_seconds() -> float:
    """The machine's speed in one number: a 10M-step empty Python loop."""
    started = time.perf_counter()
    for _ in range(10_000_000):
        pass
    return time.perf_counter() - started


def median_ms(runs: int, work: Callable[[], object]) -> tuple[float, object]:
    work()  # warm the page cache and the statement cache
    timings, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), result


def measurements(session: Session, interactions: int) -> list[tuple[str, Callable[[], object]]]:
    """(what, how) for every row of the table; each returns the rows it found."""
    supervisor = Viewer(user_id=AGENTS + 1, sees_all=True)
    agent = Viewer(user_id=1, sees_all=False)
    number = f"ims{1000 + interactions // 2}"  # typed the short way

    def page(viewer: Viewer = supervisor, **fields) -> Callable[[], object]:
        query = ListQuery(**({"scope": Scope.ALL} | fields))
        return lambda: list_records(session, viewer, query)

    def like_baseline() -> object:
        return (
            session.connection()
            .exec_driver_sql(
                "SELECT count(DISTINCT interaction_id) FROM message WHERE body LIKE ?", (f"%{RARE_WORD}%",)
            )
            .scalar_one()
        )

    def fts_alone() -> object:
        return (
            session.connection()
            .exec_driver_sql(
                "SELECT count(DISTINCT m.interaction_id) FROM message m WHERE m.id IN (SELECT rowid FROM message_fts WHERE message_fts MATCH ?)",
                (f'"{RARE_WORD}"',),
            )
            .scalar_one()
        )

    def export_10k(**fields) -> Callable[[], object]:
        """As the CSV route reads: a fresh short session per chunk."""

        def export() -> int:
            exported = 0
            for chunk in export_chunks(
                lambda: Session(session.get_bind()), supervisor, ListQuery(scope=Scope.ALL, **fields)
            ):
                exported += len(chunk)
                if exported >= 10_000:
                    break
            return exported

        return export

    rows: list[tuple[str, Callable[[], object]]] = [
        ("Interactions, all, first page (newest first)", page()),
        ("Interactions, agent's queues, first page", page(agent, scope=Scope.MY_QUEUES)),
        ("Interactions, agent's own, first page", page(agent, scope=Scope.MINE)),
        ("Interactions, all, page 2000", page(page=2000)),
    ]
    for column in SortColumn:
        for descending in (False, True):
            rows.append(
                (
                    f"Sort by {column.value} {'descending' if descending else 'ascending'}",
                    page(sort=column, descending=descending),
                )
            )
    last_week = date(2025, 12, 24)
    rows += [
        ("Filter: state closed abandoned", page(state="closed_abandoned")),
        ("Filter: queue", page(queue_id=2)),
        ("Filter: agent", page(agent_id=3)),
        ("Filter: one week", page(date_from=last_week, date_to=last_week + timedelta(days=6))),
        (
            "Filter: queue + state + week, sorted by duration",
            page(
                queue_id=2,
                state="closed_complete",
                date_from=last_week,
                date_to=last_week + timedelta(days=6),
                sort=SortColumn.DURATION,
            ),
        ),
        ("Agent's queues, sort by customer", page(agent, scope=Scope.MY_QUEUES, sort=SortColumn.CUSTOMER)),
        ("Agent's queues, sort by queue", page(agent, scope=Scope.MY_QUEUES, sort=SortColumn.QUEUE)),
        ("Agent's queues, sort by duration", page(agent, scope=Scope.MY_QUEUES, sort=SortColumn.DURATION)),
        (
            "Agent's queues, filter agent + sort by customer",
            page(agent, scope=Scope.MY_QUEUES, agent_id=1, sort=SortColumn.CUSTOMER),
        ),
        (f"Search by number ({number})", page(text=number)),
        ('Search by customer name ("hopper")', page(text="hopper")),
        ('Search by email ("grace.4")', page(text="grace.4")),
        ('Search by part of an email in capitals ("GRACE.18@EXAMPLE")', page(text="GRACE.18@EXAMPLE")),
        (f'Search by digits alone ("{interactions // 2}")', page(text=str(interactions // 2))),
        (f'Search by a word of the work notes ("{NOTE_WORD}"), FTS', page(text=NOTE_WORD)),
        (f'Search by a rare word ("{RARE_WORD}"), FTS', page(text=RARE_WORD)),
        ('Search by two words ("router warranty"), FTS', page(text="router warranty")),
        ('Search by a common word ("invoice"), FTS', page(text="invoice")),
        ("Agent's queues, search by two words", page(agent, scope=Scope.MY_QUEUES, text="router warranty")),
        ('Search by five one-letter words ("i o u a e"), FTS', page(text="i o u a e")),
        (f"Baseline: LIKE '%{RARE_WORD}%' over message bodies (raw SQL)", like_baseline),
        (f"FTS5 MATCH '{RARE_WORD}' alone (raw SQL)", fts_alone),
        ("Cases, all, first page", page(kind=ListKind.CASE)),
        ("Incidents, agent's queues, first page", page(agent, kind=ListKind.INCIDENT, scope=Scope.MY_QUEUES)),
        ("Cases, search by two words", page(kind=ListKind.CASE, text="router warranty")),
        ('Cases, search by five one-letter words ("i o u a e"), FTS', page(kind=ListKind.CASE, text="i o u a e")),
        ("Export 10,000 rows (CSV rows, all)", export_10k()),
        ("Export 10,000 rows sorted by queue (no index walks that order)", export_10k(sort=SortColumn.QUEUE)),
    ]
    return rows


NOTES = """
What makes these fast (migration 0011): a page is found as ids first, over only the tables
its conditions and sort need, then 25 rows are read whole; indexes on the sort columns
(customer name, rating, the duration expression, agent/queue with requested_at) let SQLite
walk the order and stop at the page; a queue sort orders by the queue's rank by name, so no
join; the agent's queues are passed as ids, so the "mine or my queues" OR is two index
searches. Searches: words go through FTS5 (`message_fts`; `interaction_fts` over a chat's
question, summary, work notes and transfer note; `support_record_fts` over a case's short
description, description and resolution notes, so cases match words as chats do) and a
narrow (id, interaction_id) index maps matching messages to chats; a search's page and total
come from one statement (COUNT(*) OVER ()). The triggers on `interaction` fire only on updates
that name the searched columns, never on state or typing changes. The export reads 1,000 rows
per short session, found as ids first and continuing after the last row's sort key and id.

Still slow, honestly: a word that is in a large share of all chats ("invoice" is in 46% of
them here, "router warranty" in 20%) costs 0.25-0.35 s, because every matching chat must be
found to count them; five one-letter words ("i o u a e", which match nothing) cost about
0.4 s, as "i" and "a" are in nearly every chat and each word's set is built before they are
intersected (a last word of fewer than three letters is no longer taken as a prefix: "e*"
read most of the index). A customer name or email is a substring scan of the customer table
(about 40 ms of every text search at 100k; a needle with non-ASCII letters is also tried in
lower and upper case, as SQLite's LIKE folds ASCII only). An export sorted by queue sorts
each chunk's ids afresh (no index walks the queues' rank): about 50 ms a chunk, some 5 s for
all 100,000 rows. PostgreSQL's 'simple' text search configuration folds case but not
accents: there "cafe" does not find "café" (SQLite's tokenizer removes diacritics); folding
them would need the `unaccent` extension and an immutable wrapper in the index. Searches
for a rarer word, a name or a number stay under 100 ms. Other sessions' tests shared the 2
cores during the run (the load average above is at its end): two runs a few minutes apart
differed by up to 1.6x on the searches.
"""


def _found(result: object) -> str:
    total = getattr(result, "total", result)
    return f"{total:,}" if isinstance(total, int) else ""


def run(db_path: Path, interactions: int, runs: int) -> str:
    if not db_path.exists():
        started = time.perf_counter()
        build(db_path, interactions)
        print(f"built {interactions:,} interactions in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    loop = loop_seconds()
    engine = make_engine(f"sqlite:///{db_path}", writer=False)
    lines = []
    with Session(engine) as session:
        for what, work in measurements(session, interactions):
            ms, result = median_ms(runs, work)
            lines.append(f"| {what} | {ms:.1f} | {_found(result)} |")
            print(lines[-1], file=sys.stderr)
    engine.dispose()
    header = (
        f"Run on {date.today().isoformat()}, {platform.machine()} machine with {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; the 10M-step Python loop took {loop:.2f} s; load average {os.getloadavg()[0]:.1f} at the end.\n\n"
        f"Command: `python bench/records.py --interactions {interactions} --runs {runs}`\n\n"
        f"Data: {interactions:,} interactions over a year ({MESSAGES_PER_CHAT} messages each, {interactions * MESSAGES_PER_CHAT:,} messages), "
        f"{len(QUEUES)} queues, {AGENTS} agents, a case or incident for one chat in ten. Each row is the median of {runs} runs of "
        '`list_records` (page size 25, the COUNT included) or of the export, as the pages call them; "found" is the total.\n\n'
        "| Measurement | Median (ms) | Found |\n|---|---:|---:|\n"
    )
    return header + "\n".join(lines) + "\n" + NOTES


def write_docs(section: str) -> None:
    text = DOCS_FILE.read_text() if DOCS_FILE.exists() else DOCS_INTRO
    body = f"{SECTION_HEADING}\n\n{section}"
    if SECTION_HEADING in text:
        before, _, rest = text.partition(SECTION_HEADING)
        after = rest[rest.find("\n## ") :] if "\n## " in rest else ""
        text = before + body + after
    else:
        text = text.rstrip("\n") + "\n\n" + body
    DOCS_FILE.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", type=Path, help="reuse or build the database here (default: a temporary file)")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        section = run(args.db or Path(scratch) / "records.db", args.interactions, args.runs)
    print(section)
    if args.write_docs:
        write_docs(section)


if __name__ == "__main__":
    main()
