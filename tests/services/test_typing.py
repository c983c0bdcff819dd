"""Typing signals: sent at once to the other side, never stored, dropped right after that side's own send."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from agent_workspace import db
from agent_workspace.models import InteractionState, Message, SenderKind
from agent_workspace.services import conversations
from agent_workspace.services.errors import Forbidden
from agent_workspace.services.events import Typing
from tests.factories import make_customer, make_interaction, make_queue, make_user


def _live_chat(session, agent):
    return make_interaction(
        session,
        queue=make_queue(session),
        customer=make_customer(session),
        agent=agent,
        state=InteractionState.WORK_IN_PROGRESS,
    )


def test_a_signal_is_heard_at_once_and_writes_nothing(session, announced) -> None:
    agent = make_user(session, username="ann")
    chat = _live_chat(session, agent)
    announced.take()
    writes: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement)

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert conversations.signal_typing(session, interaction_id=chat.id, sender_kind=SenderKind.CUSTOMER)
        assert conversations.signal_typing(
            session, interaction_id=chat.id, sender_kind=SenderKind.AGENT, user_id=agent.id
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # Heard without any commit: typing is not history.
    assert announced.take() == [Typing(chat.id, SenderKind.CUSTOMER), Typing(chat.id, SenderKind.AGENT)]
    assert writes == []


def test_only_the_chats_agent_may_signal_and_only_in_an_open_chat(session, announced) -> None:
    agent, stranger = make_user(session, username="ann"), make_user(session, username="linus")
    chat = _live_chat(session, agent)
    with pytest.raises(Forbidden):
        conversations.signal_typing(session, interaction_id=chat.id, sender_kind=SenderKind.AGENT, user_id=stranger.id)
    assert conversations.signal_typing(session, interaction_id=777, sender_kind=SenderKind.CUSTOMER) is False
    chat.state = InteractionState.CLOSED_COMPLETE
    session.commit()
    announced.take()
    assert conversations.signal_typing(session, interaction_id=chat.id, sender_kind=SenderKind.CUSTOMER) is False
    assert announced.take() == []


def test_a_late_keystroke_after_a_send_does_not_show_typing(session, announced) -> None:
    agent = make_user(session, username="ann")
    chat = _live_chat(session, agent)
    message, _ = conversations.post_message(
        session, interaction_id=chat.id, sender_kind=SenderKind.CUSTOMER, body="hi", client_id="client-0001"
    )
    announced.take()
    assert conversations.signal_typing(session, interaction_id=chat.id, sender_kind=SenderKind.CUSTOMER) is False
    assert announced.take() == []

    stored = session.get(Message, message.id)
    stored.created_at = stored.created_at - timedelta(seconds=5)
    session.commit()
    assert conversations.signal_typing(session, interaction_id=chat.id, sender_kind=SenderKind.CUSTOMER) is True
    assert announced.take() == [Typing(chat.id, SenderKind.CUSTOMER)]
