"""A customer on process A and an agent on process B talk, both ways, in real time."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import col, select

from agent_workspace.models import Interaction, Message
from tests.scaleout.tabs import open_chat

pytestmark = pytest.mark.scaleout
ROUNDS = 5


async def test_customer_on_a_and_agent_on_b_exchange_messages(cluster):
    agent, customer, interaction_id, agent_id = await open_chat(
        cluster, prefix="Cross", capacity=2, question="Across two processes?"
    )
    try:
        for n in range(ROUNDS):
            await customer.send("send", {"form": {"body": f"customer says {n}"}})
            await agent.wait_until(
                lambda v: f"customer says {n}" in agent.bodies(interaction_id, "customer"),
                timeout=10,
                what=f"customer message {n} on B",
            )
            await agent.send(
                "send_message", {"form": {"interaction_id": str(interaction_id), "body": f"agent says {n}"}}
            )
            await customer.wait_until(
                lambda v: f"agent says {n}" in customer.bodies("agent"), timeout=10, what=f"agent message {n} on A"
            )

        # Both pages show every message once, in order; the database agrees. (The
        # receiver is told first, so the agent's own page may show its last
        # message a moment after the customer's does.)
        await agent.wait_until(
            lambda v: f"agent says {ROUNDS - 1}" in agent.bodies(interaction_id, "agent"),
            timeout=10,
            what="the agent's own last message",
        )
        assert agent.bodies(interaction_id, "customer") == [f"customer says {n}" for n in range(ROUNDS)]
        assert agent.bodies(interaction_id, "agent") == [f"agent says {n}" for n in range(ROUNDS)]
        assert customer.bodies("agent") == [f"agent says {n}" for n in range(ROUNDS)]
        assert customer.bodies("customer") == [f"customer says {n}" for n in range(ROUNDS)]
        await asyncio.sleep(0.5)
        assert all(m["status"] == "sent" for m in customer.vars["messages"])
        with cluster.session() as session:
            item = session.get(Interaction, interaction_id)
            assert item.agent_id == agent_id and item.state == "work_in_progress"
            stored = list(
                session.exec(
                    select(Message.sender_kind, Message.body)
                    .where(
                        Message.interaction_id == interaction_id, col(Message.sender_kind).in_(["customer", "agent"])
                    )
                    .order_by(Message.id)
                )
            )
        expected = [
            pair for n in range(ROUNDS) for pair in (("customer", f"customer says {n}"), ("agent", f"agent says {n}"))
        ]
        assert [(k, b) for k, b in stored] == expected

        # The agent closes the chat on B; the customer on A sees it end.
        await agent.send("close_chat", {"interaction_id": interaction_id})
        await customer.wait_until(lambda v: v.get("phase") == "ended", what="the chat ended")
        await agent.wait_until(lambda v: v.get("tabs") == [], what="the tab closed")
    finally:
        await agent.close()
        await customer.close()
        cluster.sign_off(agent_id)
