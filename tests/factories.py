"""Rows for tests, created directly so a test only states what matters to it."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlmodel import Session

from agent_workspace.models import (
    Attachment,
    Customer,
    Interaction,
    InteractionState,
    Message,
    Queue,
    SenderKind,
    User,
)
from agent_workspace.services.auth import Client

# The browser a test signs in from (sessions are bound to it).
BROWSER = Client(user_agent="Mozilla/5.0 (X11; Linux x86_64) AgentWorkspaceTests/1.0", address="192.0.2.10")


def make_user(
    session: Session,
    username: str = "agent",
    *,
    roles: str = "workspace_user",
    capacity: int = 4,
    display_name: str | None = None,
) -> User:
    user = User(
        username=username,
        display_name=display_name or username.replace("_", " ").title(),
        email=f"{username}@example.com",
        password_hash="not-a-real-hash",
        roles=roles,
        capacity=capacity,
    )
    session.add(user)
    session.commit()
    return user


def make_queue(session: Session, name: str = "General") -> Queue:
    queue = Queue(name=name)
    session.add(queue)
    session.commit()
    return queue


def make_customer(session: Session, name: str = "Ada Lovelace", email: str = "ada@example.com") -> Customer:
    customer = Customer(name=name, email=email)
    session.add(customer)
    session.commit()
    return customer


def make_interaction(
    session: Session,
    *,
    queue: Queue,
    customer: Customer,
    state: str = InteractionState.WORK_IN_PROGRESS,
    agent: User | None = None,
    question: str = "My invoice shows the wrong amount.",
    short_description: str = "",
    priority: int = 4,
) -> Interaction:
    interaction = Interaction(
        public_id=secrets.token_urlsafe(24),
        state=state,
        queue_id=queue.id,
        customer_id=customer.id,
        agent_id=agent.id if agent else None,
        question=question,
        short_description=short_description,
        priority=priority,
    )
    session.add(interaction)
    session.flush()
    interaction.number = f"IMS{1000 + interaction.id:07d}"
    session.commit()
    return interaction


def add_message(
    session: Session,
    interaction: Interaction,
    body: str,
    *,
    sender_kind: str = SenderKind.CUSTOMER,
    sender_name: str = "Ada Lovelace",
    sender_user: User | None = None,
    attachment: Attachment | None = None,
    created_at: datetime | None = None,
) -> Message:
    message = Message(
        interaction_id=interaction.id,
        sender_kind=sender_kind,
        sender_user_id=sender_user.id if sender_user else None,
        sender_name=sender_user.display_name if sender_user else sender_name,
        body=body,
        client_id=secrets.token_hex(8),
        attachment_id=attachment.id if attachment else None,
    )
    if created_at is not None:
        message.created_at = created_at
    session.add(message)
    session.commit()
    return message
