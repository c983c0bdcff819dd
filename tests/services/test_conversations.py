"""Conversations through the real service interface: starting, ending and closing a chat, editing its details.

Messages and typing are in test_conversation_messages.py.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from agent_workspace.models import (
    AuditLog,
    CloseReason,
    Customer,
    Interaction,
    InteractionState,
    Message,
    Presence,
    SenderKind,
)
from agent_workspace.services import chat_close, conversations, inbox, routing
from agent_workspace.services.errors import Conflict, NotFound, ValidationError
from agent_workspace.services.events import AgentChanged, InteractionChanged, QueueChanged
from tests.services.helpers import bodies, count, fresh, live_chat, make_agent, offers_to, post, start, wip_count


@pytest.fixture
def agent(session: Session, queue):
    """An Available member of ``queue`` with room for two chats."""
    return make_agent(session, "grace", queues=[queue], capacity=2)


# ------------------------------------------------------------------ start_chat


def test_start_chat_queues_numbers_and_acknowledges(session: Session, queue) -> None:
    result = conversations.start_chat(
        session,
        name="  Ada Lovelace ",
        email=" ada@example.com ",
        queue_id=queue.id,
        question="  My invoice shows the wrong amount.  ",
    )
    item = fresh(session, Interaction, result.id)

    assert item.number == f"IMS{1000 + item.id:07d}" == "IMS0001001"
    assert item.state == InteractionState.QUEUED  # nobody Available
    assert item.question == item.short_description == "My invoice shows the wrong amount."
    assert item.queue_id == queue.id and item.agent_id is None
    assert len(item.public_id) >= 24 and not item.public_id.isdigit()
    customer = fresh(session, Customer, item.customer_id)
    assert (customer.name, customer.email) == ("Ada Lovelace", "ada@example.com")
    messages = session.exec(select(Message).where(Message.interaction_id == item.id)).all()
    assert len(messages) == 1
    ack = messages[0]
    assert ack.sender_kind == SenderKind.SYSTEM
    assert ack.body.startswith("Thanks, Ada Lovelace. Your request to General is in the queue")
    assert conversations.interaction_by_public_id(session, item.public_id).id == item.id

    second = start(session, queue)
    assert second.number == "IMS0001002"


def test_start_chat_offers_to_an_available_agent(session: Session, queue, agent) -> None:
    item = start(session, queue)
    assert offers_to(session, agent.id) == [item.id]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "name"),
        ({"name": "   \n\t "}, "name"),
        ({"name": "\x00\x01"}, "name"),
        ({"name": "N" * 121}, "too long"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "ada@"}, "email"),
        ({"email": "ada@example"}, "email"),
        ({"email": "a b@example.com"}, "email"),
        ({"email": "<ada@example.com>"}, "email"),
        ({"email": ""}, "email"),
        ({"question": ""}, "question"),
        ({"question": "Q" * 1001}, "too long"),
        ({"queue_id": 9999}, "Choose"),
        ({"queue_id": "1"}, "Choose"),
        ({"queue_id": None}, "Choose"),
    ],
)
def test_start_chat_validation_writes_nothing(session: Session, queue, kwargs, message) -> None:
    args = {"name": "Ada", "email": "ada@example.com", "queue_id": queue.id, "question": "Hello?"}
    args.update(kwargs)
    with pytest.raises(ValidationError, match=f"(?i){message}"):
        conversations.start_chat(session, **args)
    session.rollback()
    for model in (Customer, Interaction, Message, AuditLog):
        assert count(session, model) == 0, model


def test_start_chat_refuses_an_inactive_queue(session: Session, queue) -> None:
    queue.active = False
    session.add(queue)
    session.commit()
    with pytest.raises(ValidationError):
        start(session, queue)
    session.rollback()
    assert count(session, Interaction) == 0 and count(session, Customer) == 0


def test_start_chat_accepts_the_limits_exactly(session: Session, queue) -> None:
    item = start(session, queue, name="N" * 120, question="Q" * 1000)
    assert len(item.question) == 1000
    assert fresh(session, Customer, item.customer_id).name == "N" * 120


def test_interaction_by_public_id_refuses_unknown_ids(session: Session, queue) -> None:
    start(session, queue)
    for public_id in ("", "nope", "x" * 65, "1"):
        with pytest.raises(NotFound):
            conversations.interaction_by_public_id(session, public_id)


# ------------------------------------------------------------------ ending


def test_customer_end_while_waiting_abandons_the_chat(session: Session, queue, announced) -> None:
    item = start(session, queue)
    announced.take()

    chat_close.customer_end(session, interaction_id=item.id)

    assert announced.take() == [InteractionChanged(item.id), QueueChanged(queue.id)]

    row = fresh(session, Interaction, item.id)
    assert row.state == InteractionState.CLOSED_ABANDONED
    assert row.close_reason == CloseReason.CUSTOMER_LEFT_BEFORE_ENGAGEMENT
    assert row.closed_at is not None
    assert bodies(session, item, SenderKind.SYSTEM)[-1] == "The customer ended the chat."
    # Twice is harmless; and nobody can write any more.
    chat_close.customer_end(session, interaction_id=item.id)
    assert announced.take() == []
    with pytest.raises(Conflict):
        post(session, item, "hello?")
    with pytest.raises(NotFound):
        chat_close.customer_end(session, interaction_id=31337)


def test_customer_end_while_offered_withdraws_the_offer(session: Session, queue, agent) -> None:
    item = start(session, queue)
    assert offers_to(session, agent.id) == [item.id]

    chat_close.customer_end(session, interaction_id=item.id)

    row = fresh(session, Interaction, item.id)
    assert row.state == InteractionState.CLOSED_ABANDONED
    assert row.offered_to_id is None and row.offer_expires_at is None
    assert offers_to(session, agent.id) == []
    assert inbox.cards_for(session, user_id=agent.id) == []
    with pytest.raises(NotFound):
        routing.accept(session, user_id=agent.id, queue_id=queue.id)


def test_customer_end_after_accept_leaves_the_wrap_up_to_the_agent(session: Session, queue, agent) -> None:
    item = live_chat(session, queue, agent)
    post(session, item, "Thanks, bye")

    chat_close.customer_end(session, interaction_id=item.id)

    row = fresh(session, Interaction, item.id)
    assert row.state == InteractionState.WORK_IN_PROGRESS
    assert row.customer_ended_at is not None and row.closed_at is None
    assert wip_count(session, agent.id) == 1
    with pytest.raises(Conflict):
        post(session, item, "one more", kind=SenderKind.AGENT, user=agent)
    session.rollback()

    chat_close.close(session, interaction_id=item.id, user_id=agent.id, save_history=True)

    row = fresh(session, Interaction, item.id)
    assert row.state == InteractionState.CLOSED_COMPLETE
    assert row.close_reason == CloseReason.CUSTOMER_ENDED
    assert "Thanks, bye" in row.transcript
    assert wip_count(session, agent.id) == 0


# ------------------------------------------------------------------ close


def test_close_saving_history(session: Session, queue, agent, announced) -> None:
    item = live_chat(session, queue, agent)
    post(session, item, "My invoice is wrong")
    post(session, item, "Let me check", kind=SenderKind.AGENT, user=agent)

    announced.take()
    chat_close.close(session, interaction_id=item.id, user_id=agent.id, save_history=True)

    # The freed seat changes what its queues tell their waiting customers.
    assert announced.take() == [InteractionChanged(item.id), AgentChanged(agent.id), QueueChanged(queue.id)]
    row = fresh(session, Interaction, item.id)
    assert row.state == InteractionState.CLOSED_COMPLETE
    assert row.close_reason == CloseReason.AGENT_ENDED
    assert row.closed_at is not None
    assert row.transcript.startswith(f"Chat {row.number}, started ")
    for text in (
        "Ada Lovelace: My invoice is wrong",
        f"{agent.display_name}: Let me check",
        "— The agent ended the chat. —",
    ):
        assert text in row.transcript
    assert wip_count(session, agent.id) == 0


def test_close_saving_history_requires_a_short_description(session: Session, queue, agent) -> None:
    item = live_chat(session, queue, agent)
    row = fresh(session, Interaction, item.id)
    row.short_description = "   "
    session.add(row)
    session.commit()

    with pytest.raises(ValidationError, match="short description"):
        chat_close.close(session, interaction_id=item.id, user_id=agent.id, save_history=True)
    session.rollback()
    row = fresh(session, Interaction, item.id)
    assert row.state == InteractionState.WORK_IN_PROGRESS and row.transcript is None
    assert bodies(session, item, SenderKind.SYSTEM)[-1].endswith("joined the chat.")

    # Closing the tab without saving needs no description.
    chat_close.close(session, interaction_id=item.id, user_id=agent.id, save_history=False)
    assert fresh(session, Interaction, item.id).state == InteractionState.CLOSED_COMPLETE


def test_close_without_saving_keeps_the_messages_but_no_transcript(session: Session, queue, agent) -> None:
    item = live_chat(session, queue, agent)
    post(session, item, "secret stuff")
    before = len(bodies(session, item))

    chat_close.close(session, interaction_id=item.id, user_id=agent.id, save_history=False)

    row = fresh(session, Interaction, item.id)
    assert row.state == InteractionState.CLOSED_COMPLETE
    assert row.transcript is None
    assert row.close_reason == CloseReason.TAB_CLOSED == "tab_closed_without_saving"
    after = bodies(session, item)
    assert len(after) == before + 1 and "secret stuff" in after
    assert wip_count(session, agent.id) == 0


def test_close_refusals(session: Session, queue, agent) -> None:
    other = make_agent(session, "linus", queues=[queue])
    item = live_chat(session, queue, agent)
    waiting = start(session, queue)

    with pytest.raises(NotFound):  # not my chat
        chat_close.close(session, interaction_id=item.id, user_id=other.id, save_history=False)
    with pytest.raises(NotFound):  # nobody's chat yet
        chat_close.close(session, interaction_id=waiting.id, user_id=agent.id, save_history=False)
    with pytest.raises(NotFound):
        chat_close.close(session, interaction_id=9999, user_id=agent.id, save_history=False)
    chat_close.close(session, interaction_id=item.id, user_id=agent.id, save_history=False)
    with pytest.raises(Conflict):  # twice
        chat_close.close(session, interaction_id=item.id, user_id=agent.id, save_history=True)


def test_close_frees_capacity_for_the_next_chat(session: Session, queue) -> None:
    agent = make_agent(session, "solo", queues=[queue], capacity=1)
    item = live_chat(session, queue, agent)
    nxt = start(session, queue)
    assert fresh(session, Interaction, nxt.id).state == InteractionState.QUEUED
    with pytest.raises(Conflict):
        routing.accept(session, user_id=agent.id, queue_id=queue.id)
    session.rollback()

    chat_close.close(session, interaction_id=item.id, user_id=agent.id, save_history=True)

    assert offers_to(session, agent.id) == [nxt.id]
    assert routing.accept(session, user_id=agent.id, queue_id=queue.id).id == nxt.id


def test_close_does_not_offer_to_an_agent_who_went_away(session: Session, queue) -> None:
    agent = make_agent(session, "solo", queues=[queue], capacity=1)
    item = live_chat(session, queue, agent)
    nxt = start(session, queue)
    routing.set_presence(session, user_id=agent.id, presence=Presence.AWAY)

    chat_close.close(session, interaction_id=item.id, user_id=agent.id, save_history=True)

    assert fresh(session, Interaction, nxt.id).state == InteractionState.QUEUED


# ------------------------------------------------------------------ update_details


def test_a_details_edit_keeps_each_old_and_new_value_in_the_audit(session: Session, queue, agent) -> None:
    item = live_chat(session, queue, agent)

    def edit(short_description: str, priority: int, work_notes: str) -> None:
        chat_close.update_details(
            session,
            interaction_id=item.id,
            user_id=agent.id,
            category="inquiry",
            short_description=short_description,
            priority=priority,
            work_notes=work_notes,
        )

    edit("Printer", 4, "Toner low.")
    edit("Printer offline", 2, "Toner low. Paper jam too.")
    edit("Printer offline", 2, "Toner low. Paper jam too.")

    first, second = session.exec(
        select(AuditLog)
        .where(AuditLog.action == "interaction.updated", AuditLog.target_id == item.id)
        .order_by(AuditLog.id)
    ).all()  # the third changed nothing and wrote nothing
    assert json.loads(second.detail) == {
        "changes": {
            "priority": [4, 2],
            "short_description": ["Printer", "Printer offline"],
            "work_notes": {"length": [10, 25]},  # how much, not a second copy of the notes
        }
    }
    assert json.loads(first.detail)["changes"]["short_description"] == [
        item.question,
        "Printer",
    ]  # the question was the first
    assert "Toner" not in first.detail + second.detail
    assert fresh(session, Interaction, item.id).work_notes == "Toner low. Paper jam too."
