"""Rows the record-list tests share (test_record_lists, test_record_search, test_record_access)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from agent_workspace.models import Customer, Interaction, InteractionState, Queue, SupportRecord, User
from agent_workspace.services.record_access import Viewer
from agent_workspace.services.records import record_number
from tests.factories import add_message, make_customer, make_interaction


def chat(
    session: Session,
    *,
    queue: Queue,
    agent: User | None = None,
    customer: Customer | None = None,
    state: str = InteractionState.CLOSED_COMPLETE,
    requested_at: datetime | None = None,
    closed_at: datetime | None = None,
    rating: int | None = None,
    messages: tuple[str, ...] = (),
    question: str = "My invoice shows the wrong amount.",
) -> Interaction:
    """An interaction with the fields a list shows set exactly, and its messages."""
    customer = customer or make_customer(session)
    item = make_interaction(
        session,
        queue=queue,
        customer=customer,
        state=state,
        agent=agent,
        question=question,
        short_description=question[:160],
    )
    if requested_at is not None:
        item.requested_at = requested_at
    item.closed_at, item.rating = closed_at, rating
    session.add(item)
    session.commit()
    for body in messages:
        add_message(session, item, body, sender_name=customer.name)
    return item


def support_record(
    session: Session,
    *,
    kind: str = "case",
    interaction: Interaction | None = None,
    queue: Queue | None = None,
    created_by: User | None = None,
    state: str = "new",
    short_description: str = "Refund the double charge",
    description: str = "",
    created_at: datetime | None = None,
    updated_at: datetime | None = None,
) -> SupportRecord:
    """A case or incident: from a chat (its customer), or of a queue (a left message)."""
    record = SupportRecord(
        kind=kind,
        interaction_id=interaction.id if interaction else None,
        customer_id=interaction.customer_id if interaction else None,
        queue_id=queue.id if queue else None,
        short_description=short_description,
        description=description,
        state=state,
        created_by_id=created_by.id if created_by else None,
    )
    if created_at is not None:
        record.created_at = created_at
    if updated_at is not None:
        record.updated_at = updated_at
    session.add(record)
    session.flush()
    record.number = record_number(kind, record.id)
    session.commit()
    return record


def agent_of(user: User) -> Viewer:
    return Viewer(user_id=user.id, sees_all=False)


def supervisor_of(user: User) -> Viewer:
    return Viewer(user_id=user.id, sees_all=True)
