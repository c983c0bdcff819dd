"""Read models: what the customer's page re-reads on every push."""

from __future__ import annotations

from sqlmodel import Session

from agent_workspace import realtime
from agent_workspace.models import InteractionState, SenderKind
from agent_workspace.services import conversations, routing, views
from tests.factories import make_queue
from tests.services.helpers import make_agent


def test_customer_snapshot_gives_the_place_in_line_only_while_waiting(session: Session) -> None:
    queue = make_queue(session, "Billing")
    first = conversations.start_chat(session, name="Ada", email="ada@example.com", queue_id=queue.id, question="Invoice?").interaction
    second = conversations.start_chat(session, name="Bob", email="bob@example.com", queue_id=queue.id, question="Refund?").interaction

    waiting = views.customer_snapshot(session, interaction_id=second.id, after_id=0)
    assert (waiting.state, waiting.position, waiting.queue_name, waiting.agent_name) == (InteractionState.QUEUED, 2, "Billing", "")
    assert waiting.estimated_wait_seconds > 0
    assert [m.sender_kind for m in waiting.new_messages] == [SenderKind.SYSTEM]  # the acknowledgement

    agent = make_agent(session, "grace", queues=[queue])
    routing.accept(session, user_id=agent.id, queue_id=queue.id)
    chatting = views.customer_snapshot(session, interaction_id=first.id, after_id=waiting.new_messages[-1].id + 10**6)
    assert (chatting.state, chatting.position, chatting.estimated_wait_seconds) == (InteractionState.WORK_IN_PROGRESS, 0, 0)
    assert chatting.agent_name == agent.display_name and chatting.new_messages == []
    assert views.customer_snapshot(session, interaction_id=second.id, after_id=0).position == 1


def test_inbox_of_client_finds_the_agent_behind_a_tab(session: Session) -> None:
    queue = make_queue(session, "Billing")
    agent = make_agent(session, "grace", queues=[queue])
    realtime.register_client(session, token="tab-of-grace", kind="agent", user_id=agent.id)
    conversations.start_chat(session, name="Ada", email="ada@example.com", queue_id=queue.id, question="Invoice?")

    user_id, snapshot = views.inbox_of_client(session, token="tab-of-grace")

    assert user_id == agent.id
    assert [(card.customer_name, card.offered_to_me) for card in snapshot.inbox] == [("Ada", True)]
    assert views.inbox_of_client(session, token="no-such-tab") is None
