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


def test_agent_snapshot_reads_in_full_only_new_and_named_chats(session: Session) -> None:
    queue = make_queue(session, "Billing")
    agent = make_agent(session, "grace", queues=[queue], capacity=3)
    for name in ("Ada", "Bob", "Cy"):
        conversations.start_chat(session, name=name, email=f"{name.lower()}@example.com", queue_id=queue.id, question="?")
    opened = [routing.accept(session, user_id=agent.id, queue_id=queue.id)[0].id for _ in range(3)]
    first, second, third = opened

    everything = views.agent_snapshot(session, user_id=agent.id, cursors={})
    assert everything.open_ids == opened
    assert [d.id for d in everything.open_interactions] == opened

    # The page shows the first two; the third is new to it and the second changed.
    partial = views.agent_snapshot(session, user_id=agent.id, cursors={}, known={first, second}, reread={second})
    assert partial.open_ids == opened
    assert [d.id for d in partial.open_interactions] == [second, third]
    assert [d.customer_name for d in partial.open_interactions] == ["Bob", "Cy"]
    assert views.agent_snapshot(session, user_id=agent.id, cursors={}, known=set(opened), reread=set()).open_interactions == []
