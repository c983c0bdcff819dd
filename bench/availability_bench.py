"""What telling every waiting customer their outlook costs, against a plain place-in-line read.

    .venv/bin/python bench/availability_bench.py [--waiting 50,200,1000] [--agents 20] [--closed 20000] [--rounds 30]

When a queue moves, every customer waiting in it is told at once, in one read
for all of them (``availability.chat_outlooks``). This times that read on
SQLite for queues of growing length, next to a baseline of the same shape that
only counts places in line (the waiting chats of the queue, ordered: what any
"you are number N" needs), so the table shows what the availability model
(agents, their running chats, recent handle times, rejections, business hours)
adds, and what one customer's own page read costs (``chat_outlook``, which
counts the places ahead instead of reading the line). Prints a table;
deterministic data.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from agent_workspace import db
from agent_workspace.migrations import upgrade
from agent_workspace.models import Customer, Interaction, InteractionState, Presence, Queue, QueueMember, User, utcnow
from agent_workspace.services import availability

_LINE_ONLY = (
    sa_select(Interaction.id, Interaction.queue_id)
    .where(
        col(Interaction.queue_id).in_(
            sa_select(Interaction.queue_id).where(col(Interaction.id).in_(bindparam("ids", expanding=True)))
        ),
        col(Interaction.state).in_(availability.WAITING_STATES),
    )
    .order_by(col(Interaction.queue_id), col(Interaction.requested_at), col(Interaction.id))
)


def places_only(session: Session, ids: list[int]) -> dict[int, int]:
    """The baseline: each chat's place in line, nothing else."""
    places, seen = {}, {}
    for interaction_id, queue_id in session.connection().execute(_LINE_ONLY, {"ids": ids}):
        seen[queue_id] = seen.get(queue_id, 0) + 1
        places[interaction_id] = seen[queue_id]
    return places


def build(path: Path, *, waiting: int, agents: int, closed: int) -> list[int]:
    url = f"sqlite:///{path}"
    upgrade(url)
    rng = random.Random(20261202)
    engine = db.make_engine(url)
    now = utcnow()
    with Session(engine) as session:
        queue = Queue(name="Busy", weekly_hours="Mon-Sun 00:00-24:00", time_zone="Europe/Berlin")
        session.add(queue)
        session.flush()
        customer = Customer(name="Load", email="load@example.com")
        session.add(customer)
        session.flush()
        for a in range(agents):
            user = User(
                username=f"agent{a}",
                display_name=f"Agent {a}",
                password_hash="x",
                roles="workspace_user",
                capacity=4,
                presence=Presence.AVAILABLE,
            )
            session.add(user)
            session.flush()
            session.add(QueueMember(queue_id=queue.id, user_id=user.id))
            for c in range(4):  # every seat taken: the customers are busy-waiting
                session.add(
                    Interaction(
                        public_id=f"wip-{a}-{c}",
                        state=InteractionState.WORK_IN_PROGRESS,
                        queue_id=queue.id,
                        agent_id=user.id,
                        customer_id=customer.id,
                        question="q",
                        accepted_at=now - timedelta(seconds=rng.randint(0, 900)),
                    )
                )
        for h in range(closed):  # handle-time history: a queue's whole past, of which the last 20 count
            closed_at = now - timedelta(minutes=h)
            session.add(
                Interaction(
                    public_id=f"done-{h}",
                    state=InteractionState.CLOSED_COMPLETE,
                    queue_id=queue.id,
                    customer_id=customer.id,
                    question="q",
                    closed_at=closed_at,
                    accepted_at=closed_at - timedelta(seconds=rng.randint(60, 900)),
                )
            )
        ids = []
        for w in range(waiting):
            item = Interaction(
                public_id=f"wait-{w}",
                queue_id=queue.id,
                customer_id=customer.id,
                question="q",
                requested_at=now - timedelta(seconds=waiting - w),
            )
            session.add(item)
            session.flush()
            ids.append(item.id)
        session.commit()
    engine.dispose()
    return ids


def timed(fn, rounds: int) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", default="50,200,1000")
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--closed", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    print(
        f"# availability read, SQLite, {args.agents} agents x 4 seats all busy, {args.closed} closed chats; "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(
        "| waiting | outlooks p50 / p95 ms | places only p50 / p95 ms | per customer (outlooks) | last customer's own read p50 ms |"
    )
    print("|---:|---|---|---:|---:|")
    for waiting in (int(n) for n in args.waiting.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.db"
            ids = build(path, waiting=waiting, agents=args.agents, closed=args.closed)
            engine = db.make_engine(f"sqlite:///{path}", writer=False)
            with Session(engine) as session:
                outlooks = availability.chat_outlooks(session, interaction_ids=ids)
                assert len(outlooks) == waiting and all(
                    o.status == availability.Availability.BUSY for o in outlooks.values()
                )
                full = timed(lambda: availability.chat_outlooks(session, interaction_ids=ids), args.rounds)
                base = timed(lambda: places_only(session, ids), args.rounds)
                own = timed(lambda: availability.chat_outlook(session, interaction_id=ids[-1]), args.rounds)
            engine.dispose()
        print(
            f"| {waiting} | {full[0]:.1f} / {full[1]:.1f} | {base[0]:.1f} / {base[1]:.1f} | {full[0] * 1000 / waiting:.0f} µs "
            f"| {own[0]:.1f} |"
        )


if __name__ == "__main__":
    main()
