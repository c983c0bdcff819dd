"""What storing and routing one message costs in-process: CPU per call and statements.

    .venv/bin/python bench/message_cost.py [--calls 2000]

Builds a private SQLite database with one agent working one chat (both tabs
registered), then times with ``time.process_time`` over ``--calls`` calls each:
``state.views._post`` with the publisher that ``realtime.bind`` installs doing
its committing-thread part (the audience lookup), the lookup alone, and the
per-event session check (``security.identify``); and counts the statements and
units of work (``db.session_scope``) one message costs. The server's other
per-message work (Reflex's event processing, deltas, socket.io) is not in it:
``bench/load.py`` measures the whole.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=2000)
    args = p.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="aw-cost-")
    url = f"sqlite:///{tmp.name}/cost.db"
    os.environ["AW_DATABASE_URL"] = url
    os.environ["AW_DATA_DIR"] = tmp.name

    from sqlalchemy import event
    from sqlmodel import Session

    from agent_workspace import db, realtime, security
    from agent_workspace.migrations import upgrade
    from agent_workspace.models import InteractionState, SenderKind
    from agent_workspace.services import audience, auth, events
    from agent_workspace.services.events import Change, MessagePosted
    from agent_workspace.state import views
    from tests.factories import BROWSER, make_customer, make_interaction, make_queue, make_user

    upgrade(url)
    with Session(db.get_engine(), expire_on_commit=False) as s:
        queue = make_queue(s, "Support")
        agent = make_user(s, "ada", capacity=4)
        agent.password_hash = auth.hash_password("ada-pass-1234")
        s.add(agent)
        s.commit()
        chat = make_interaction(
            s, queue=queue, customer=make_customer(s), state=InteractionState.WORK_IN_PROGRESS, agent=agent
        ).id
        audience.register_client(s, token="agent-tab", kind="agent", user_id=agent.id)
        audience.register_client(s, token="customer-tab", kind="customer", interaction_id=chat)
        ticket, _ = auth.login(s, username="ada", password="ada-pass-1234")
        token = auth.redeem_ticket(s, ticket=ticket, client=BROWSER)

    heard: list[dict] = []

    def publisher(changes: list[Change]) -> None:  # the committing thread's part of realtime._publish_committed
        heard.append(realtime.resolve(changes))

    events.set_publisher(publisher)
    statements = [0]

    def count(_conn, _cursor, statement, *_args) -> None:
        if not statement.startswith("BEGIN"):  # as tests/sync/conftest.py counts
            statements[0] += 1

    scopes = [0]
    for engine in (db.get_engine(), db.get_engine(writer=False)):
        event.listen(engine, "before_cursor_execute", count)
    real_scope = db.session_scope

    def counted_scope(*a, **k):
        scopes[0] += 1
        return real_scope(*a, **k)

    views.session_scope = counted_scope  # type: ignore[assignment]
    realtime.session_scope = counted_scope  # type: ignore[assignment]
    n = [0]

    def post(sender_kind: str) -> None:
        n[0] += 1
        views._post(
            interaction_id=chat,
            sender_kind=sender_kind,
            sender_user_id=agent.id if sender_kind == SenderKind.AGENT else None,
            body=f"message number {n[0]}, with a few words in it",
            client_id=f"client-{n[0]:08d}",
        )

    def timed(label: str, fn, calls: int) -> None:
        fn()  # warm
        statements[0] = scopes[0] = 0
        start = time.process_time()
        for _ in range(calls):
            fn()
        spent = (time.process_time() - start) / calls * 1000
        print(
            f"{label:<52} {spent:7.3f} ms CPU/call  {statements[0] / calls:5.1f} statements"
            f"  {scopes[0] / calls:4.1f} session_scopes"
        )

    print(f"{args.calls} calls each, SQLite, 10M-step loop {loop_time():.2f} s")
    timed("agent message: _post + audience (publisher)", lambda: post(SenderKind.AGENT), args.calls)
    # A customer may store 10 messages per 10 s: the rate check is in the count, but this posts as the agent's other side.
    timed("audience lookup alone (realtime.resolve)", lambda: realtime.resolve(_last_changes(heard)), args.calls)
    timed(
        "session check (security.identify)",
        lambda: security.identify(token, BROWSER),
        args.calls,
    )
    assert heard and all(isinstance(c, MessagePosted) for t in heard[-1].values() for c in t.changes)
    assert set(heard[-1]) == {"agent-tab", "customer-tab"}, heard[-1]
    tmp.cleanup()


def _last_changes(heard: list[dict]) -> list:
    return list(next(iter(heard[-1].values())).changes)


def loop_time() -> float:
    from bench.load_report import machine_speed

    return machine_speed()


if __name__ == "__main__":
    main()
