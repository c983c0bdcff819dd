"""Read models of the customer's page: the chat as its customer sees it, and the
places in line of many waiting customers read at once (every push re-reads them)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from agent_workspace.models import (
    ClientConnection,
    ClientKind,
    Customer,
    Interaction,
    Queue,
    User,
    non_null,
)
from agent_workspace.services import audit, availability
from agent_workspace.services.events import MessageData
from agent_workspace.services.views import new_messages


@dataclass(frozen=True)
class Place:
    """A waiting customer's place in line and what they are told about it."""

    interaction_id: int
    outlook: availability.Outlook
    version: int  # audit.change_version of the read


def places_of_clients(session: Session, *, tokens: Collection[str]) -> dict[str, Place]:
    """The outlook of the chat behind each customer tab, for tabs whose chat
    still waits: when a queue moves, all its waiting customers are told at once."""
    version = audit.change_version(session)
    chats_of = dict(session.connection().execute(_CHATS_OF_CLIENTS, {"tokens": list(tokens)}).all())
    outlooks = availability.chat_outlooks(session, interaction_ids=set(chats_of.values()))
    return {
        token: Place(interaction_id, outlooks[interaction_id], version)
        for token, interaction_id in chats_of.items()
        if interaction_id in outlooks
    }


_CHATS_OF_CLIENTS = sa_select(col(ClientConnection.token), non_null(ClientConnection.interaction_id)).where(
    col(ClientConnection.token).in_(bindparam("tokens", expanding=True)),
    col(ClientConnection.kind) == ClientKind.CUSTOMER,
    col(ClientConnection.interaction_id).is_not(None),
)


@dataclass(frozen=True)
class CustomerSnapshot:
    """What the customer's page shows: only this, because every push re-reads it."""

    number: str
    public_id: str
    state: str
    queue_name: str
    agent_name: str
    customer_ended: bool
    rated: bool
    new_messages: list[MessageData]
    outlook: availability.Outlook | None  # while the chat waits
    customer_name: str
    customer_email: str
    version: int  # audit.change_version of the read


_CUSTOMER_CHAT = (
    sa_select(
        col(Interaction.number),
        col(Interaction.public_id),
        col(Interaction.state),
        col(Interaction.customer_ended_at),
        col(Interaction.rating),
        col(Queue.name),
        col(User.display_name),  # None until an agent has the chat (the outer join)
        col(Customer.name),
        col(Customer.email),
    )
    .join(Queue, col(Queue.id) == col(Interaction.queue_id))
    .join(Customer, col(Customer.id) == col(Interaction.customer_id))
    .outerjoin(User, col(User.id) == col(Interaction.agent_id))
    .where(col(Interaction.id) == bindparam("interaction_id"))
)


def customer_snapshot(session: Session, *, interaction_id: int, after_id: int) -> CustomerSnapshot:
    """The customer's view in three statements, and the outlook only while waiting."""
    version = audit.change_version(session)
    (
        number,
        public_id,
        state,
        customer_ended_at,
        rating,
        queue_name,
        agent_name,
        customer_name,
        customer_email,
    ) = session.connection().execute(_CUSTOMER_CHAT, {"interaction_id": interaction_id}).one()
    return CustomerSnapshot(
        number=number or "",
        public_id=public_id,
        state=state,
        queue_name=queue_name,
        agent_name=agent_name or "",
        customer_ended=customer_ended_at is not None,
        rated=rating is not None,
        new_messages=new_messages(session, interaction_id=interaction_id, after_id=after_id),
        outlook=availability.chat_outlook(session, interaction_id=interaction_id)
        if state in availability.WAITING_STATES
        else None,
        customer_name=customer_name,
        customer_email=customer_email,
        version=version,
    )
