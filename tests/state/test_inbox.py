"""The Inbox tells before the click what routing would refuse, in routing's own words."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from agent_workspace.models import Presence
from agent_workspace.services import routing, views
from agent_workspace.services.errors import Conflict, Forbidden, ServiceError
from agent_workspace.state.inbox import accept_blocker
from tests.factories import make_queue
from tests.services.helpers import make_agent, make_waiting


def _refusal(session: Session, *, user_id: int, queue_id: int, error: type[ServiceError]) -> str:
    with pytest.raises(error) as refused:
        routing.accept(session, user_id=user_id, queue_id=queue_id)
    session.rollback()
    return str(refused.value)


def test_an_agent_who_is_not_available_is_told_what_accept_would_answer(session: Session) -> None:
    queue = make_queue(session, "Billing")
    make_waiting(session, queue)
    for presence in (Presence.AWAY, Presence.OFFLINE):
        agent = make_agent(session, f"agent-{presence}", queues=[queue], presence=presence)
        refused = _refusal(session, user_id=agent.id, queue_id=queue.id, error=Forbidden)
        assert accept_blocker(presence=presence, active_chats=0, capacity=agent.capacity) == refused


def test_an_agent_at_capacity_is_told_what_accept_would_answer(session: Session) -> None:
    queue = make_queue(session, "Billing")
    make_waiting(session, queue)
    make_waiting(session, queue)
    agent = make_agent(session, "grace", queues=[queue], capacity=1)
    assert accept_blocker(presence=Presence.AVAILABLE, active_chats=0, capacity=1) == ""
    routing.accept(session, user_id=agent.id, queue_id=queue.id)
    refused = _refusal(session, user_id=agent.id, queue_id=queue.id, error=Conflict)
    assert accept_blocker(presence=Presence.AVAILABLE, active_chats=1, capacity=1) == refused


def test_the_after_hours_opt_in_reaches_the_agents_snapshot(session: Session) -> None:
    queue = make_queue(session, "Billing")
    agent = make_agent(session, "grace", queues=[queue])
    assert views.agent_snapshot(session, user_id=agent.id, cursors={}).after_hours is False
    routing.set_after_hours(session, user_id=agent.id, enabled=True)
    assert views.agent_snapshot(session, user_id=agent.id, cursors={}).after_hours is True
    routing.set_after_hours(session, user_id=agent.id, enabled=False)
    assert views.agent_snapshot(session, user_id=agent.id, cursors={}).after_hours is False
