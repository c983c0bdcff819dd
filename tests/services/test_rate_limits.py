"""Public-page rate limits: chats per client address, messages per chat."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from agent_workspace.models import Interaction, Message, SenderKind
from agent_workspace.services import conversations
from agent_workspace.services.errors import ValidationError
from tests.factories import make_queue


def start(session, queue, address: str, n: int):
    return conversations.start_chat(
        session, name=f"Customer {n}", email=f"c{n}@example.com", queue_id=queue.id, question="Help", client_address=address
    )


def test_too_many_chats_from_one_address_are_refused_with_a_clear_message(session, monkeypatch):
    monkeypatch.setenv("AW_CHATS_PER_ADDRESS", "5")
    queue = make_queue(session, name="General")
    for n in range(5):
        start(session, queue, "203.0.113.7", n)
    with pytest.raises(ValidationError, match="Slow down"):
        start(session, queue, "203.0.113.7", 99)
    start(session, queue, "198.51.100.1", 100)  # another address is not affected
    assert session.exec(select(func.count()).select_from(Interaction)).one() == 5 + 1


def test_a_customer_flooding_messages_is_slowed_down(session):
    queue = make_queue(session, name="General")
    chat = start(session, queue, "203.0.113.8", 1).interaction
    for n in range(conversations.MAX_CUSTOMER_MESSAGES_PER_WINDOW):
        conversations.post_message(session, interaction_id=chat.id, sender_kind=SenderKind.CUSTOMER, body=f"m{n}", client_id=f"client-{n:04d}")
    with pytest.raises(ValidationError, match="Slow down"):
        conversations.post_message(session, interaction_id=chat.id, sender_kind=SenderKind.CUSTOMER, body="one more", client_id="client-9999")
    stored = session.exec(select(func.count()).select_from(Message).where(Message.sender_kind == SenderKind.CUSTOMER)).one()
    assert stored == conversations.MAX_CUSTOMER_MESSAGES_PER_WINDOW
