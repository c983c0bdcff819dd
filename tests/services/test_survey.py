"""The post-chat survey: once, after the end, 1 to 5."""

from __future__ import annotations

import pytest

from agent_workspace.models import InteractionState
from agent_workspace.services import chat_close
from agent_workspace.services.errors import Conflict, ValidationError
from tests.factories import make_customer, make_interaction, make_queue


def test_rating_is_stored_once_after_the_chat_ended(session):
    chat = make_interaction(
        session, queue=make_queue(session), customer=make_customer(session), state=InteractionState.WORK_IN_PROGRESS
    )
    with pytest.raises(Conflict, match="once it has ended"):
        chat_close.rate(session, interaction_id=chat.id, rating=5)
    chat.state = InteractionState.CLOSED_COMPLETE
    session.commit()
    with pytest.raises(ValidationError, match="1 to 5"):
        chat_close.rate(session, interaction_id=chat.id, rating=6)
    chat_close.rate(session, interaction_id=chat.id, rating=5, comment="  Great help  ")
    session.refresh(chat)
    assert (chat.rating, chat.rating_comment) == (5, "Great help")
    with pytest.raises(Conflict, match="already rated"):
        chat_close.rate(session, interaction_id=chat.id, rating=1)
