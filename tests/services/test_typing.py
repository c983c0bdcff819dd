"""Typing signals: shown for a few seconds, dropped right after that side's own send."""

from __future__ import annotations

from datetime import timedelta

from agent_workspace.models import InteractionState, Message, SenderKind
from agent_workspace.services import conversations
from tests.factories import make_customer, make_interaction, make_queue, make_user


def test_a_late_keystroke_after_a_send_does_not_show_typing(session):
    agent = make_user(session, username="ann")
    chat = make_interaction(
        session,
        queue=make_queue(session),
        customer=make_customer(session),
        agent=agent,
        state=InteractionState.WORK_IN_PROGRESS,
    )
    assert conversations.set_typing(session, interaction_id=chat.id, sender_kind=SenderKind.CUSTOMER) is True
    session.refresh(chat)
    assert conversations.is_typing(chat.customer_typing_at)

    message, _ = conversations.post_message(
        session, interaction_id=chat.id, sender_kind=SenderKind.CUSTOMER, body="hi", client_id="client-0001"
    )
    session.refresh(chat)
    assert chat.customer_typing_at is None  # a message ends the typing
    assert conversations.set_typing(session, interaction_id=chat.id, sender_kind=SenderKind.CUSTOMER) is False
    session.refresh(chat)
    assert chat.customer_typing_at is None

    stored = session.get(Message, message.id)
    stored.created_at = stored.created_at - timedelta(seconds=5)
    session.commit()
    assert conversations.set_typing(session, interaction_id=chat.id, sender_kind=SenderKind.CUSTOMER) is True
