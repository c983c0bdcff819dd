"""The chat's own limit: messages stored per chat (budgets per tab and address: test_budgets)."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from agent_workspace.models import Message, SenderKind
from agent_workspace.services import conversations
from agent_workspace.services.errors import ValidationError
from tests.factories import make_queue


def start(session, queue, address: str, n: int):
    return conversations.start_chat(
        session,
        name=f"Customer {n}",
        email=f"c{n}@example.com",
        queue_id=queue.id,
        question="Help",
        client_address=address,
    )


def test_a_customer_flooding_messages_is_slowed_down(session):
    queue = make_queue(session, name="General")
    chat = start(session, queue, "203.0.113.8", 1)
    for n in range(conversations.MAX_CUSTOMER_MESSAGES_PER_WINDOW):
        conversations.post_message(
            session, interaction_id=chat.id, sender_kind=SenderKind.CUSTOMER, body=f"m{n}", client_id=f"client-{n:04d}"
        )
    with pytest.raises(ValidationError, match="Slow down"):
        conversations.post_message(
            session, interaction_id=chat.id, sender_kind=SenderKind.CUSTOMER, body="one more", client_id="client-9999"
        )
    stored = session.exec(
        select(func.count()).select_from(Message).where(Message.sender_kind == SenderKind.CUSTOMER)
    ).one()
    assert stored == conversations.MAX_CUSTOMER_MESSAGES_PER_WINDOW
