"""Database tables.

Every table is a plain SQLModel class; the schema is created and evolved by the
Alembic migrations in ``agent_workspace/migrations`` (never ``create_all`` on a
production path). Indexes follow the queries the inbox, the routing sweeps and
the message stream run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol, TypeVar, cast

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlmodel import Field, SQLModel, col

_T = TypeVar("_T")


def utcnow() -> datetime:
    """Timezone-aware UTC: SQLModel's datetime columns refuse naive values."""
    return datetime.now(UTC)


class _Stored(Protocol):
    id: int | None


def stored_id(row: _Stored) -> int:
    """A row's id once it is in the database. The models type ids Optional only
    because a new row has none until it is flushed: reading one before is a bug."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id until it is flushed")
    return row.id


def non_null(column: _T | None) -> Mapped[_T]:
    """``col()`` of a column a query reads only where it is set (a primary key, or
    a column it filters or joins on), typed so: the models type it Optional."""
    return cast("Mapped[_T]", col(column))


class Role(StrEnum):
    WORKSPACE_USER = "workspace_user"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Presence(StrEnum):
    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


class InteractionState(StrEnum):
    QUEUED = "queued"
    OFFERED = "offered"
    WORK_IN_PROGRESS = "work_in_progress"
    CLOSED_COMPLETE = "closed_complete"
    CLOSED_ABANDONED = "closed_abandoned"


OPEN_STATES = (
    InteractionState.QUEUED,
    InteractionState.OFFERED,
    InteractionState.WORK_IN_PROGRESS,
)


class CloseReason(StrEnum):
    CUSTOMER_LEFT_BEFORE_ENGAGEMENT = "customer_left_before_engagement"
    NO_ACTIVITY = "no_activity"
    CUSTOMER_ENDED = "customer_ended"
    AGENT_ENDED = "agent_ended"
    TAB_CLOSED = "tab_closed_without_saving"


class SenderKind(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


class User(SQLModel, table=True):
    """An agent, supervisor or administrator."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=64)
    display_name: str = Field(max_length=120)
    email: str = Field(default="", max_length=254)
    password_hash: str
    # Comma-separated Role values; read through services.auth.roles_of.
    roles: str = Field(default="", max_length=200)
    capacity: int = Field(default=4)
    presence: str = Field(default=Presence.OFFLINE, max_length=16, index=True)
    presence_changed_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime | None = None
    # Opted in to be offered chats of their queues outside business hours.
    after_hours: bool = Field(default=False)
    active: bool = Field(default=True)
    password_changed_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)


class AuthSession(SQLModel, table=True):
    """A login. Only SHA-256 hashes of the bearer token and of its one-time ticket are stored.

    The password check runs over the websocket and yields a short-lived ticket;
    the browser trades it once at /api/session for the HttpOnly cookie. The
    session is bound to that browser: hashes of its User-Agent (and, with
    AW_SESSION_BIND_ADDRESS, of its address) are kept, and a token that arrives
    from anything else was copied (services.auth.principal_for_token).
    """

    __tablename__ = "auth_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str | None = Field(default=None, index=True, unique=True, max_length=64)
    ticket_hash: str | None = Field(default=None, index=True, unique=True, max_length=64)
    ticket_expires_at: datetime | None = None
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    user_agent_hash: str | None = Field(default=None, max_length=64)
    address_hash: str | None = Field(default=None, max_length=64)  # None: not bound to an address


class LoginAttempt(SQLModel, table=True):
    """Failed logins, for the backoff per (username, address) and the budget per
    address (``services.lockout``)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_address_at", "username", "client_address", "at"),
        Index("ix_login_attempt_address_at", "client_address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)
    client_address: str = Field(default="", max_length=64)
    at: datetime = Field(default_factory=utcnow)


class Queue(SQLModel, table=True):
    """A queue of chats, with its business hours (read through ``services.hours``)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=80)
    description: str = Field(default="", max_length=500)
    active: bool = Field(default=True)
    # Listed as a topic on the public chat page and the widget; a hidden queue
    # takes no chat from them (its chats come by transfer).
    public: bool = Field(default=True)
    # Business hours: a weekly schedule such as "Mon-Fri 09:00-17:00; Sat 10:00-14:00"
    # in ``time_zone`` (empty: open around the clock), closures such as
    # "2026-12-24, 2026-12-31..2027-01-01" (whole days in that time zone), and
    # what customers read while the queue is closed.
    weekly_hours: str = Field(default="", max_length=500)
    time_zone: str = Field(default="UTC", max_length=64)
    closures: str = Field(default="", max_length=2000)
    closed_message: str = Field(default="", max_length=500)


class QueueMember(SQLModel, table=True):
    """Which agents work which queues."""

    __tablename__ = "queue_member"

    queue_id: int = Field(foreign_key="queue.id", primary_key=True)
    user_id: int = Field(foreign_key="user.id", primary_key=True)


class Customer(SQLModel, table=True):
    __table_args__ = (
        Index("ix_customer_address_created", "client_address", "created_at"),
        Index("ix_customer_name", "name"),  # the lists sorted by customer
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    email: str = Field(index=True, max_length=254)
    # Where the chat request came from: rate limits on the public page.
    client_address: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class Interaction(SQLModel, table=True):
    """One chat from request to close: the interaction record."""

    __table_args__ = (
        Index("ix_interaction_queue_state_requested", "queue_id", "state", "requested_at"),
        Index("ix_interaction_agent_state", "agent_id", "state"),
        Index("ix_interaction_offer", "state", "offer_expires_at"),
        # Bounded-window reports (supervisor dashboard).
        Index("ix_interaction_requested_at", "requested_at"),
        Index("ix_interaction_accepted_at", "accepted_at"),
        Index("ix_interaction_closed_at", "closed_at"),
        # A queue's recent handle times (services.availability).
        Index("ix_interaction_queue_state_closed", "queue_id", "state", "closed_at"),
        # The Interactions list (services.record_lists): "Mine" and a queue's chats newest
        # first, sorted by rating; and ix_interaction_duration on closed_at - requested_at,
        # an expression written per dialect (migration 0011).
        Index("ix_interaction_agent_requested", "agent_id", "requested_at"),
        Index("ix_interaction_queue_requested", "queue_id", "requested_at"),
        Index("ix_interaction_rating", "rating"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str | None = Field(default=None, unique=True, max_length=20)
    # Unguessable id the customer's page uses; never the numeric id.
    public_id: str = Field(unique=True, max_length=64)
    state: str = Field(default=InteractionState.QUEUED, max_length=24)
    close_reason: str | None = Field(default=None, max_length=48)
    queue_id: int = Field(foreign_key="queue.id")
    agent_id: int | None = Field(default=None, foreign_key="user.id")
    customer_id: int = Field(foreign_key="customer.id", index=True)
    question: str = Field(sa_column=Column(Text, nullable=False))
    short_description: str = Field(default="", max_length=160)
    category: str = Field(default="inquiry", max_length=40)
    priority: int = Field(default=4)
    work_notes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # The customer's place in line is by requested_at; a transfer keeps it.
    requested_at: datetime = Field(default_factory=utcnow)
    offered_to_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    offered_at: datetime | None = None
    offer_expires_at: datetime | None = None
    accepted_at: datetime | None = None
    closed_at: datetime | None = None
    wait_seconds: int | None = None
    transfer_note: str = Field(default="", max_length=1000)
    # A transfer to another agent waiting for their answer.
    transfer_to_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    transfer_from_id: int | None = Field(default=None, foreign_key="user.id")
    transfer_requested_at: datetime | None = None
    # Set when the customer leaves a chat the agent still has to wrap up.
    customer_ended_at: datetime | None = None
    transcript: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Post-chat survey: 1-5 and an optional comment from the customer.
    rating: int | None = None
    rating_comment: str = Field(default="", max_length=1000)
    # SHA-256 of the random id the customer's browser keeps in a cookie: earlier chats
    # with the same typed email are shown in full only from the same browser.
    browser_hash: str | None = Field(default=None, max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)


class OfferRejection(SQLModel, table=True):
    """An agent rejected the chat, with a reason: never offer them that item again.

    A lapsed offer is not a rejection: it sets the agent Away, and the chat is
    offered to them again once they are Available (``routing.sweep``).
    """

    __tablename__ = "offer_rejection"

    interaction_id: int = Field(foreign_key="interaction.id", primary_key=True)
    user_id: int = Field(foreign_key="user.id", primary_key=True)
    reason: str = Field(default="", max_length=500)
    at: datetime = Field(default_factory=utcnow)


class Message(SQLModel, table=True):
    """Every line of every chat. Rows are never deleted."""

    __table_args__ = (
        UniqueConstraint("interaction_id", "client_id", name="uq_message_client_id"),
        Index("ix_message_interaction_id_id", "interaction_id", "id"),
        Index("ix_message_sender_user_interaction", "sender_user_id", "interaction_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    interaction_id: int = Field(foreign_key="interaction.id")
    sender_kind: str = Field(max_length=16)
    sender_user_id: int | None = Field(default=None, foreign_key="user.id")
    sender_name: str = Field(max_length=120)
    body: str = Field(sa_column=Column(Text, nullable=False))
    # Generated by the sending page: a retried send is a no-op.
    client_id: str = Field(max_length=64)
    attachment_id: int | None = Field(default=None, foreign_key="attachment.id")
    article_number: str | None = Field(default=None, max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class Attachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(unique=True, max_length=64)
    interaction_id: int | None = Field(default=None, foreign_key="interaction.id", index=True)
    record_id: int | None = Field(default=None, foreign_key="support_record.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    storage_name: str = Field(max_length=80)
    uploaded_by_kind: str = Field(max_length=16)
    uploaded_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class RecordSource(StrEnum):
    CHAT = "chat"  # created by an agent from a chat
    LEFT_MESSAGE = "left_message"  # a customer left a message when nobody was available


class SupportRecord(SQLModel, table=True):
    """A case (CS…) or an incident (INC…) created from a chat, or a case from a message
    a customer left on the public page (``source``, in ``queue_id``)."""

    __tablename__ = "support_record"
    __table_args__ = (
        # The Cases / Incidents lists, newest first, and "Mine" (services.record_lists).
        Index("ix_support_record_kind_created", "kind", "created_at"),
        Index("ix_support_record_created_by", "created_by_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # "case" | "incident"
    number: str | None = Field(default=None, unique=True, max_length=20)
    interaction_id: int | None = Field(default=None, foreign_key="interaction.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    queue_id: int | None = Field(default=None, foreign_key="queue.id", index=True)
    source: str = Field(default=RecordSource.CHAT, max_length=16)
    short_description: str = Field(max_length=160)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    priority: int = Field(default=4)
    state: str = Field(default="new", max_length=24)
    resolution_notes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    escalation_level: int = Field(default=0)
    escalation_group: str = Field(default="", max_length=80)
    escalated_by_id: int | None = Field(default=None, foreign_key="user.id")
    escalated_at: datetime | None = None
    escalation_reason: str = Field(default="", max_length=1000)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class KnowledgeArticle(SQLModel, table=True):
    __tablename__ = "knowledge_article"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, max_length=20)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    category: str = Field(default="General", max_length=80)
    # Comma-separated tags.
    tags: str = Field(default="", max_length=500)
    published: bool = Field(default=True)
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class EmailStatus(StrEnum):
    """Where an email is in the outbox: ``queued`` (due at ``next_attempt_at``, perhaps
    after a failed attempt), ``sending`` (claimed by a delivery worker), then for good
    ``sent`` or ``failed``."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutgoingEmail(SQLModel, table=True):
    """Every email the workspace sends: the outbox the delivery worker works through, and the record."""

    __tablename__ = "outgoing_email"
    __table_args__ = (Index("ix_outgoing_email_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    interaction_id: int | None = Field(default=None, foreign_key="interaction.id", index=True)
    record_id: int | None = Field(default=None, foreign_key="support_record.id", index=True)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=250)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=EmailStatus.QUEUED, max_length=16)
    error: str = Field(default="", max_length=1000)  # the server's last answer when an attempt failed
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    # The same Message-ID on every attempt: a receiver can drop a duplicate of a resent email.
    message_id: str = Field(default="", max_length=250)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default_factory=utcnow)  # None once sent or failed
    claimed_at: datetime | None = None  # when a worker took it; a stale claim is a crashed worker's
    resolves_record: bool = Field(default=False)  # a reply that resolves its case once delivered


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_target", "target_kind", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_kind: str = Field(max_length=16)  # agent | customer | system
    actor_id: int | None = None
    action: str = Field(max_length=60)
    target_kind: str = Field(default="", max_length=30)
    target_id: int | None = None
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class ClientKind(StrEnum):
    """What kind of page a browser tab is (``client_connection.kind``): which
    notices reach it and which state class receives them."""

    AGENT = "agent"
    CUSTOMER = "customer"
    SUPERVISOR = "supervisor"


class ClientConnection(SQLModel, table=True):
    """A browser tab (Reflex client token) that must be told about changes.

    The realtime layer looks up whom to push to here, so any worker can reach
    any client; ``last_seen_at`` drives presence expiry.
    """

    __tablename__ = "client_connection"

    token: str = Field(primary_key=True, max_length=80)
    kind: str = Field(max_length=16, index=True)  # agent | customer | signed_out (until the app clears the tab)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    interaction_id: int | None = Field(default=None, foreign_key="interaction.id", index=True)
    last_seen_at: datetime = Field(default_factory=utcnow, index=True)


class AgentNotice(SQLModel, table=True):
    """Something an agent must be told (transfer answered, an offer they missed): shown
    in every tab of theirs until they dismiss it (``seen``)."""

    __tablename__ = "agent_notice"
    __table_args__ = (Index("ix_agent_notice_user_seen", "user_id", "seen"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    body: str = Field(max_length=500)
    level: str = Field(default="info", max_length=16)  # info | success | warning
    seen: bool = Field(default=False)
    # The chat it is about. With no topic: the chat's pending question (a transfer to
    # answer), retired with it; with one (a transfer's answer), retired by topic and chat.
    interaction_id: int | None = Field(default=None, foreign_key="interaction.id", index=True)
    # What it is about (``notices.NoticeTopic``): retired when that is settled, never shown twice.
    topic: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(default_factory=utcnow)


class CannedResponse(SQLModel, table=True):
    """A reply agents insert with /r; managed per queue by supervisors.

    Placeholders: {customer_first_name}, {customer_name}, {agent_name}, {number}.
    """

    __tablename__ = "canned_response"

    id: int | None = Field(default=None, primary_key=True)
    queue_id: int | None = Field(default=None, foreign_key="queue.id", index=True)  # None: every queue
    title: str = Field(max_length=80)
    body: str = Field(max_length=2000)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
