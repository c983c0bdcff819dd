"""Steps the left-message tests share (test_left_messages, test_left_message_replies)."""

from __future__ import annotations

from sqlmodel import Session

from agent_workspace.models import AuditLog, Customer, OutgoingEmail, SupportRecord
from agent_workspace.services import left_messages
from tests.services.helpers import count


def leave(session: Session, queue, **overrides) -> left_messages.LeftMessage:
    """A visitor leaves a message on ``queue``'s page."""
    fields = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "message": "My invoice is wrong.\nPlease call me.",
    } | overrides
    return left_messages.leave_message(session, queue_id=queue.id, **fields)


def written(session: Session) -> dict[str, int]:
    """How many rows of each kind a left message or a reply writes: equal before and after means nothing was."""
    return {model.__name__: count(session, model) for model in (Customer, SupportRecord, AuditLog, OutgoingEmail)}
