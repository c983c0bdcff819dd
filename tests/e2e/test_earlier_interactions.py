"""Earlier interactions by email: the browser a chat came from is what verifies them (issue 17)."""

from __future__ import annotations

import uuid

from sqlmodel import select

from agent_workspace.models import Interaction, Queue
from agent_workspace.services import views
from agent_workspace.state.customer import CustomerChatState
from tests.e2e.ws_client import EventClient


def _start(client: EventClient, *, queue_id: int, email: str, question: str) -> None:
    form = {"name": "Same Email", "email": email, "queue_id": str(queue_id), "question": question}
    client.send(CustomerChatState.on_load, path="/chat")
    client.send(CustomerChatState.event_handlers["start_chat"], {"form": form}, path="/chat")
    client.drain()


def test_a_chat_stores_its_browser_and_another_browser_with_the_same_email_is_unverified(app_server, world):
    mark = uuid.uuid4().hex[:8]
    queue_name = world.queue("Earlier")
    with world.session() as session:
        queue_id = session.exec(select(Queue.id).where(Queue.name == queue_name)).one()
    email = f"victim-{mark}@example.com"
    victim, attacker = EventClient(app_server.base_url), EventClient(app_server.base_url)
    try:
        _start(victim, queue_id=queue_id, email=email, question=f"Victim question {mark}")
        _start(attacker, queue_id=queue_id, email=email, question=f"Attacker question {mark}")
        victim_key = victim.latest(CustomerChatState)["browser_key"]
    finally:
        victim.close()
        attacker.close()
    with world.session() as session:
        first, second = session.exec(
            select(Interaction).where(Interaction.queue_id == queue_id).order_by(Interaction.id)
        ).all()
        first.short_description = f"Victim summary {mark}"
        session.commit()
        assert first.browser_hash == views.browser_hash(victim_key) and second.browser_hash not in (
            None,
            first.browser_hash,
        )
        lines = views.interaction_data(session, second).earlier_interactions
    assert lines == [
        views.EarlierInteraction(first.number, f"{first.requested_at:%Y-%m-%d} · {views.UNVERIFIED}", verified=False)
    ]
