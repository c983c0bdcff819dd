"""A message whose push never reached the customer's tab still shows: the next
pushed message reveals the gap and the tab reads it, and a quiet tab's tick
re-reads the chat."""

from __future__ import annotations

import uuid

import pytest

from agent_workspace.models import SenderKind
from agent_workspace.services import conversations
from tests.scaleout.conftest import RESYNC_QUIET_SECONDS
from tests.scaleout.tabs import open_chat

pytestmark = pytest.mark.scaleout


def _store_unannounced(cluster, *, interaction_id: int, agent_id: int, body: str) -> None:
    """An agent message stored with its push lost on the way (nobody is told)."""
    with cluster.session() as session:
        conversations.post_message(
            session,
            interaction_id=interaction_id,
            sender_kind=SenderKind.AGENT,
            sender_user_id=agent_id,
            body=body,
            client_id=uuid.uuid4().hex,
        )


async def test_a_message_whose_push_was_lost_shows_after_the_next_message_or_the_next_quiet_tick(cluster):
    # Ticks are sent by hand below.
    agent, customer, interaction_id, agent_id = await open_chat(
        cluster, prefix="Heal", capacity=1, question="Lost pushes?", customer_ticks=False
    )
    try:
        # The next message's push follows a message the tab never got: it reads both, in order.
        _store_unannounced(cluster, interaction_id=interaction_id, agent_id=agent_id, body="lost one")
        await agent.send("send_message", {"form": {"interaction_id": str(interaction_id), "body": "pushed one"}})
        await customer.wait_until(lambda v: "pushed one" in customer.bodies("agent"), what="the pushed message")
        assert customer.bodies("agent") == ["lost one", "pushed one"]

        # Nothing follows a lost message: the tab's tick reads it once the chat has been quiet.
        _store_unannounced(cluster, interaction_id=interaction_id, agent_id=agent_id, body="lost two")

        for _ in range(4 * (RESYNC_QUIET_SECONDS + 1)):  # a tick every half second, for twice the quiet time
            await customer.send("tick", {"_value": ""})
            try:
                await customer.wait_until(
                    lambda v: "lost two" in customer.bodies("agent"), timeout=0.5, what="the quiet tick's read"
                )
                break
            except AssertionError:
                continue
        assert customer.bodies("agent") == ["lost one", "pushed one", "lost two"]
    finally:
        await agent.close()
        await customer.close()
        cluster.sign_off(agent_id)
