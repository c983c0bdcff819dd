"""What one push costs: the service calls behind a message and a queue change, timed and counted.

    .venv/bin/python bench/load_profile.py [--agents-per-queue 14] [--chats 4] [--messages 20] [--pg]

Builds a private database (SQLite in a temporary directory, or a private
PostgreSQL database with ``--pg``), one queue with its agents at capacity, and
times, per call: SQL statements issued, wall time, and the size of what the
page receives. These are the pieces ``realtime.push_to_tab`` runs for every client
it refreshes (``WorkspaceState._refresh`` = ``views.agent_snapshot``, or
``views.chat_deltas`` for a message; ``CustomerChatState._refresh`` =
``customer_views.customer_snapshot``), and how many of them one change triggers
(``audience.tokens_for``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--agents-per-queue", type=int, default=14)
    p.add_argument("--chats", type=int, default=4, help="open chats per agent (its capacity)")
    p.add_argument("--messages", type=int, default=20, help="messages per open chat")
    p.add_argument("--waiting", type=int, default=20, help="chats waiting in the queue")
    p.add_argument("--pg", action="store_true")
    p.add_argument("--repeat", type=int, default=30)
    args = p.parse_args()

    from sqlalchemy import event
    from sqlmodel import Session

    from agent_workspace.db import make_engine
    from agent_workspace.migrations import upgrade
    from agent_workspace.models import SenderKind
    from agent_workspace.services import audience, auth, conversations, customer_views, routing, views
    from agent_workspace.services.events import InteractionChanged, QueueChanged
    from agent_workspace.state.views import card_view, message_view
    from tests.scaleout import harness

    tmp = tempfile.TemporaryDirectory(prefix="aw-profile-")
    db_name = ""
    if args.pg:
        db_name, url = harness.create_pg_database("aw_load")
    else:
        url = f"sqlite:///{tmp.name}/profile.db"
    try:
        upgrade(url)
        engine = make_engine(url)
        reader = make_engine(url, writer=False)
        statements = [0]

        for e in (engine, reader):
            event.listen(e, "before_cursor_execute", lambda *a, **k: statements.__setitem__(0, statements[0] + 1))

        with Session(engine, expire_on_commit=False) as s:
            queue = routing.create_queue(s, name="Profile")
            agent_ids = []
            for n in range(args.agents_per_queue):
                user = auth.create_user(
                    s,
                    username=f"prof{n}",
                    password="profile-password",
                    display_name=f"Prof {n}",
                    roles=["workspace_user"],
                    capacity=args.chats,
                    queues=["Profile"],
                )
                agent_ids.append(user.id)
                routing.set_presence(s, user_id=user.id, presence="available")
            chats = []
            for n in range(args.agents_per_queue * args.chats):
                started = conversations.start_chat(
                    s, name=f"C{n}", email=f"c{n}@example.com", queue_id=queue.id, question="q"
                )
                chats.append(started.id)
            for agent_id in agent_ids:
                for _ in range(args.chats):
                    try:
                        routing.accept(s, user_id=agent_id, queue_id=queue.id)
                    except Exception:  # noqa: BLE001
                        break
            for chat_id in chats:
                for m in range(args.messages):
                    conversations.post_message(
                        s,
                        interaction_id=chat_id,
                        sender_kind=SenderKind.CUSTOMER if m % 2 else SenderKind.AGENT,
                        sender_user_id=s.get(conversations.Interaction, chat_id).agent_id,
                        body=f"message {m} " + "x" * 40,
                        client_id=f"prof-{chat_id:05d}-{m:04d}",
                    )
            for n in range(args.waiting):
                conversations.start_chat(
                    s, name=f"W{n}", email=f"w{n}@example.com", queue_id=queue.id, question="waiting"
                )
            for n in range(args.agents_per_queue * 2):  # clients to resolve: one tab per agent and per customer
                audience.register_client(
                    s, token=f"agent-token-{n}", kind="agent", user_id=agent_ids[n % len(agent_ids)]
                )
            for chat_id in chats:
                audience.register_client(s, token=f"cust-token-{chat_id}", kind="customer", interaction_id=chat_id)

        agent = agent_ids[0]
        one_chat = chats[0]
        with Session(engine) as s:
            one_agent = s.get(conversations.Interaction, one_chat).agent_id

        def timed(label, fn, *, writer=True, size=None):
            times, counts = [], []
            result = None
            for _ in range(args.repeat):
                statements[0] = 0
                t = time.perf_counter()
                with Session(engine if writer else reader, expire_on_commit=False) as s:
                    result = fn(s)
                    s.commit()
                times.append((time.perf_counter() - t) * 1000)
                counts.append(statements[0])
            extra = f", payload {size(result) / 1024:.1f} KB" if size else ""
            print(f"{label:<58} {statistics.median(times):7.2f} ms median, {max(counts):4d} SQL statements{extra}")
            return result

        def agent_payload(snapshot):
            # What WorkspaceState sends: the whole inbox and every tab with all its messages.
            tabs = [
                {
                    "messages": [
                        dataclasses.asdict(message_view(m, attachment_base="/api/attachments")) for m in d.new_messages
                    ],
                    **{k: str(v) for k, v in dataclasses.asdict(d).items() if k != "new_messages"},
                }
                for d in snapshot.open_interactions
            ]
            inbox = [dataclasses.asdict(card_view(c)) for c in snapshot.inbox]
            return len(json.dumps({"tabs": tabs, "inbox": inbox}))

        print(
            f"database: {'PostgreSQL' if args.pg else 'SQLite'}; {args.agents_per_queue} agents in the queue, {args.chats} open chats each with {args.messages} messages, {args.waiting} waiting"
        )
        timed(
            "views.agent_snapshot, all cursors at 0 (a fresh tab)",
            lambda s: views.agent_snapshot(s, user_id=agent, cursors={}),
            writer=False,
            size=agent_payload,
        )
        last = {c: 10**9 for c in chats}
        timed(
            "views.agent_snapshot, cursors current (a push)",
            lambda s: views.agent_snapshot(s, user_id=agent, cursors=last),
            writer=False,
        )
        timed(
            "views.chat_deltas, one chat (an agent's message push)",
            lambda s: views.chat_deltas(s, cursors={one_chat: 10**9}),
            writer=False,
        )
        timed(
            "customer_views.customer_snapshot (every customer push)",
            lambda s: customer_views.customer_snapshot(s, interaction_id=one_chat, after_id=10**9),
            writer=False,
        )
        counter = [0]

        def post(s):
            counter[0] += 1
            return conversations.post_message(
                s,
                interaction_id=one_chat,
                sender_kind=SenderKind.AGENT,
                sender_user_id=one_agent,
                body="hello",
                client_id=f"profpost{counter[0]:06d}",
            )

        timed("conversations.post_message", post)
        msg_targets = timed(
            "audience.tokens_for([InteractionChanged])  (message)",
            lambda s: audience.tokens_for(s, [InteractionChanged(one_chat)]),
            writer=False,
        )
        queue_targets = timed(
            "audience.tokens_for([QueueChanged])  (arrival/offer/accept/close)",
            lambda s: audience.tokens_for(s, [QueueChanged(queue.id), InteractionChanged(one_chat)]),
            writer=False,
        )
        print(
            f"clients pushed to per message: {len(msg_targets)}; per queue change: {len(queue_targets)} "
            f"({sum(1 for k in queue_targets.values() if k == 'agent')} agent tabs, each re-reading its whole snapshot)"
        )
        engine.dispose()
        reader.dispose()
    finally:
        if db_name:
            harness.drop_pg_database(db_name)
        tmp.cleanup()


if __name__ == "__main__":
    main()
