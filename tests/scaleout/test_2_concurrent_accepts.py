"""20 agents on two processes claim 200 waiting chats at once: each chat once, oldest first, no one over capacity."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, func, select

from agent_workspace.models import AuditLog, Interaction, User, utcnow
from agent_workspace.services import conversations
from tests.scaleout.tabs import AgentTab

pytestmark = pytest.mark.scaleout
AGENTS = 20
CHATS = 200
CAPACITY = 10


async def _claim_until_full(agent: AgentTab, queue_id: int) -> int:
    """Press Accept again and again, as fast as the page allows, until full or the queue is empty."""
    attempts = 0
    while agent.vars.get("active_chats", 0) < CAPACITY and attempts < 4 * CAPACITY:
        attempts += 1
        seen = len(agent.history)
        await agent.send("accept", {"queue_id": queue_id})
        # Wait for this claim to finish: the handler resets claiming_queue_id to 0 at the end.
        await agent.wait_until(
            lambda v: any(values.get("claiming_queue_id") == 0 for _, values in agent.history[seen:]),
            timeout=60,
            what="the claim to finish",
        )
        if not agent.vars.get("inbox"):
            break
    return attempts


async def test_twenty_agents_on_two_processes_claim_two_hundred_chats(cluster):
    queue_id, queue_name = cluster.queue("Rush")
    # The chats wait before anyone is Available, so nothing is offered: every
    # assignment below is a claim racing other claims.
    with cluster.session() as session:
        base = utcnow() - timedelta(minutes=10)
        for n in range(CHATS):
            started = conversations.start_chat(
                session,
                name=f"Rush {n:03d}",
                email=f"rush{n}@example.com",
                queue_id=queue_id,
                question=f"Request number {n}",
            )
            # Distinct, known arrival times: chat n arrived n milliseconds after the first one.
            session.execute(
                update(Interaction)
                .where(col(Interaction.id) == started.id)
                .values(requested_at=base + timedelta(milliseconds=n))
            )
        session.commit()
    agents: list[tuple[int, AgentTab]] = []
    for n in range(AGENTS):
        user_id, cookie = cluster.agent(queues=[queue_name], capacity=CAPACITY)
        port = cluster.a.port if n % 2 == 0 else cluster.b.port
        agents.append((user_id, await AgentTab().connect(port, cookie)))
    try:
        with cluster.session() as session:  # Available without a drain: the race is all claims
            session.execute(
                update(User)
                .where(col(User.id).in_([u for u, _ in agents]))
                .values(presence="available", presence_changed_at=utcnow(), last_seen_at=utcnow())
            )
            session.commit()
        await asyncio.gather(*(tab.send("on_load") for _, tab in agents))
        await asyncio.gather(
            *(
                tab.wait_until(lambda v: v.get("loaded") and v.get("presence") == "available", what="loaded")
                for _, tab in agents
            )
        )

        started = time.monotonic()
        await asyncio.gather(*(_claim_until_full(tab, queue_id) for _, tab in agents))
        print(f"{CHATS} claims by {AGENTS} agents on two processes: {time.monotonic() - started:.1f} s")

        with cluster.session() as session:
            items = list(session.exec(select(Interaction).where(Interaction.queue_id == queue_id)))
            accepted = Counter(
                session.exec(
                    select(AuditLog.target_id).where(
                        AuditLog.action == "interaction.accepted", col(AuditLog.target_id).in_([i.id for i in items])
                    )
                )
            )
            offered = session.exec(
                select(func.count()).where(
                    AuditLog.action == "interaction.offered", col(AuditLog.target_id).in_([i.id for i in items])
                )
            ).one()
        assert len(items) == CHATS
        assert all(i.state == "work_in_progress" and i.agent_id is not None for i in items), Counter(
            i.state for i in items
        )
        assert set(accepted) == {i.id for i in items} and set(accepted.values()) == {1}, (
            "a chat was claimed twice or never"
        )
        per_agent: dict[int, list[Interaction]] = defaultdict(list)
        for item in items:
            per_agent[item.agent_id].append(item)
        assert set(per_agent) <= {u for u, _ in agents}
        assert max(len(v) for v in per_agent.values()) <= CAPACITY, "an agent went over capacity"
        assert sum(len(v) for v in per_agent.values()) == CHATS
        if offered == 0:
            # Pure claims: each agent took chats in arrival order ...
            for user_id, mine in per_agent.items():
                mine.sort(key=lambda i: i.accepted_at)
                assert [i.requested_at for i in mine] == sorted(i.requested_at for i in mine), (
                    f"agent {user_id} did not get oldest first"
                )
            # ... and globally the claims served the queue in order: when any
            # chat was accepted, every older chat had been accepted already.
            by_arrival = sorted(items, key=lambda i: i.requested_at)
            for older, newer in zip(by_arrival, by_arrival[1:]):
                assert older.accepted_at <= newer.accepted_at + timedelta(seconds=1), (older.number, newer.number)
        # Every page agrees with the database.
        for user_id, tab in agents:
            await tab.wait_until(
                lambda v: v.get("active_chats") == len(per_agent.get(user_id, [])), timeout=10, what="its chats"
            )
            assert {t["interaction_id"] for t in tab.vars["tabs"]} == {i.id for i in per_agent.get(user_id, [])}
    finally:
        await asyncio.gather(*(tab.close() for _, tab in agents))
        cluster.sign_off(*(u for u, _ in agents))
