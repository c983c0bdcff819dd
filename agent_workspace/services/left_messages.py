"""Messages customers leave when nobody can chat: a case in the queue, answered by email.

The public page offers "Leave a message" when no agent is available or the
queue is closed. The message becomes a case (``RecordSource.LEFT_MESSAGE``) in
that queue; the customer gets a confirmation when SMTP is configured, and the
queue's agents see the case in their workspace and reply by email.

``send_confirmation`` and ``reply`` only queue their email in the outbox; the
delivery worker sends it (``services.outbox``), and a reply that resolves its
case resolves it when the email is delivered.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Row
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from agent_workspace.models import (
    Customer,
    EmailStatus,
    Interaction,
    Message,
    OutgoingEmail,
    Queue,
    QueueMember,
    RecordSource,
    SenderKind,
    SupportRecord,
    non_null,
    stored_id,
    utcnow,
)
from agent_workspace.services import audit, chat_close, conversations, records, routing
from agent_workspace.services import email as mail  # not ``email``: leave_message takes an ``email`` argument
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.availability import WAITING_STATES
from agent_workspace.services.email import SmtpSettings
from agent_workspace.services.errors import Conflict, NotFound, ValidationError
from agent_workspace.services.events import QueueChanged, announce

KIND = "case"  # a key of records.NUMBER_PREFIXES
MAX_NAME_LENGTH = conversations.MAX_NAME_LENGTH
MAX_MESSAGE_LENGTH = conversations.MAX_MESSAGE_LENGTH
NOT_FOUND = "That message does not exist."
# What a customer wrote in the chat they leave is copied into the case, up to this much.
CHAT_COPY_MAX = 8_000
CHAT_COPY_MESSAGES = 100


class RecordState(StrEnum):
    """``records.STATES`` by name."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"


@dataclass(frozen=True)
class LeftMessage:
    """What ``leave_message`` stored: the case and its number for the customer."""

    record_id: int
    number: str


@dataclass(frozen=True)
class LeftMessageData:
    """One open left message as the agents' list shows it; ``replies_*``: agents' emails for it by outcome
    (``replies_queued`` includes those being sent); ``retry_at``: the next attempt of a reply that failed once."""

    record_id: int
    number: str
    queue_id: int
    queue_name: str
    customer_name: str
    customer_email: str
    message: str
    state: str
    created_at: datetime
    replies_sent: int
    replies_queued: int
    replies_failed: int
    retry_at: datetime | None = None


@dataclass(frozen=True)
class Reply:
    """What ``reply`` did: the queued outbox row, and whether its delivery will resolve the case."""

    email: OutgoingEmail
    resolves_on_delivery: bool


def leave_message(
    session: Session, *, queue_id: int, name: str, email: str, message: str, client_address: str = ""
) -> LeftMessage:
    """Store a customer's message as a new case of an active queue, in one transaction.

    Counts against the same per-address budget as ``conversations.start_chat``
    (the Customer row it creates is what is counted), so leaving messages is
    no way around the chat limit.
    """
    record = _store(session, queue_id=queue_id, name=name, email=email, message=message, client_address=client_address)
    announce(session, QueueChanged(queue_id))
    session.commit()
    return LeftMessage(record_id=stored_id(record), number=record.number or "")


def leave_message_instead(session: Session, *, interaction_id: int, name: str, email: str, message: str) -> LeftMessage:
    """A customer waiting in line leaves a message instead: the case, and the end of
    the chat they waited in (closed abandoned, as if they had left), in one transaction."""
    item = session.get(Interaction, interaction_id) if isinstance(interaction_id, int) else None
    if item is None or item.state not in WAITING_STATES:
        raise Conflict("Your chat is no longer waiting: an agent may have joined it.")
    # The chat already counted against the address's budget: this is the same request.
    record = _store(
        session, queue_id=item.queue_id, name=name, email=email, message=message, client_address="", chat=item
    )
    freed_offer = chat_close.end_by_customer(
        session, item, note=f"The customer left a message instead ({record.number})."
    )
    announce(session, QueueChanged(item.queue_id))
    session.commit()
    if freed_offer:
        routing.drain(session)
    return LeftMessage(record_id=stored_id(record), number=record.number or "")


def _store(
    session: Session,
    *,
    queue_id: int,
    name: str,
    email: str,
    message: str,
    client_address: str,
    chat: Interaction | None = None,
) -> SupportRecord:
    """Validate and add the customer and the case (no commit); ``chat``: the chat it replaces."""
    customer, queue, message = conversations.new_request(
        session,
        name=name,
        email=email,
        queue_id=queue_id,
        text=message,
        field="Your message",
        limit=MAX_MESSAGE_LENGTH,
        client_address=client_address,
    )
    record = SupportRecord(
        kind=KIND,
        source=RecordSource.LEFT_MESSAGE,
        queue_id=queue.id,
        interaction_id=chat.id if chat is not None else None,
        customer_id=customer.id,
        short_description=_first_line(message),
        description=message + _chat_copy(session, chat) if chat is not None else message,
        state=RecordState.NEW,
    )
    session.add(record)
    session.flush()
    record.number = records.record_number(KIND, stored_id(record))
    audit.record(
        session,
        action=AuditAction.RECORD_CREATED,
        actor_kind="customer",
        target_kind="record",
        target_id=record.id,
        number=record.number,
        kind=KIND,
        source=RecordSource.LEFT_MESSAGE,
        queue_id=queue.id,
    )
    return record


def _chat_copy(session: Session, chat: Interaction) -> str:
    """The question and the customer's lines of the chat they leave: the agent answering by email
    reads what the customer already wrote, and the customer need not write it again."""
    bodies = session.exec(
        select(Message.body)
        .where(Message.interaction_id == chat.id, Message.sender_kind == SenderKind.CUSTOMER)
        .order_by(col(Message.id))
        .limit(CHAT_COPY_MESSAGES + 1)
    ).all()
    text = "\n".join([chat.question.strip(), *bodies[:CHAT_COPY_MESSAGES]])
    if len(bodies) > CHAT_COPY_MESSAGES or len(text) > CHAT_COPY_MAX:
        text = text[:CHAT_COPY_MAX].rstrip() + f"\n… (cut: the whole chat is {chat.number})"
    return f"\n\n— Written in chat {chat.number} —\n{text}"


CONFIRMATIONS_PER_ADDRESS_PER_DAY = 3


def send_confirmation(session: Session, *, record_id: int, mail_configured: bool | None = None) -> OutgoingEmail | None:
    """Queue the customer's confirmation that their message arrived; ``None`` (nothing written) without SMTP
    (``mail_configured`` None: as the settings say).

    The address is the visitor's word, not proven theirs, so the email carries
    no text they chose (no name, no quote: else anyone could mail anything from
    our domain to anyone), and one address gets at most
    ``CONFIRMATIONS_PER_ADDRESS_PER_DAY``. Without a mail server the
    confirmation would only pile up in the outbox and reach the customer hours
    later, when it no longer confirms anything.
    """
    if not (SmtpSettings.from_settings().configured if mail_configured is None else mail_configured):
        return None
    record, customer = _left_message(session, record_id)
    since = utcnow() - timedelta(days=1)
    sent_to_address = session.exec(
        select(func.count(col(OutgoingEmail.id))).where(
            func.lower(col(OutgoingEmail.to_address)) == customer.email.lower(),
            col(OutgoingEmail.record_id).is_not(None),
            col(OutgoingEmail.created_by_id).is_(None),
            col(OutgoingEmail.created_at) >= since,
        )
    ).one()
    if sent_to_address >= CONFIRMATIONS_PER_ADDRESS_PER_DAY:
        return None
    queue = session.get(Queue, record.queue_id)
    body = (
        "Hello,\n\n"
        f"Thank you for contacting {queue.name if queue else 'us'}. We received your message "
        "and an agent will answer you at this address.\n\n"
        f"Your reference: {record.number}\n\n"
        "If you did not write to us, you can ignore this email.\n"
    )
    return mail.send_email(
        session,
        interaction_id=None,
        record_id=record.id,
        to_address=customer.email,
        subject=f"We received your message ({record.number})",
        body=body,
        created_by_id=None,
    )


def open_left_messages(session: Session, *, queue_ids: Collection[int], limit: int = 50) -> list[LeftMessageData]:
    """The left messages of these queues nobody has resolved yet, oldest first, in one statement."""
    if not queue_ids:
        return []
    # More columns than sqlmodel's select types, so SQLAlchemy's (rows typed here).
    rows: Sequence[Row[SupportRecord, int, str, str, str, int, int, int, datetime | None]] = session.execute(
        sa_select(
            SupportRecord,
            non_null(Queue.id),
            col(Queue.name),
            col(Customer.name),
            col(Customer.email),
            _replies(func.count(col(OutgoingEmail.id)), EmailStatus.SENT),
            _replies(func.count(col(OutgoingEmail.id)), EmailStatus.QUEUED, EmailStatus.SENDING),
            _replies(func.count(col(OutgoingEmail.id)), EmailStatus.FAILED),
            _replies(func.min(col(OutgoingEmail.next_attempt_at)), EmailStatus.QUEUED, retried=True),
        )
        .join(Queue, col(Queue.id) == col(SupportRecord.queue_id))
        .join(Customer, col(Customer.id) == col(SupportRecord.customer_id))
        .where(
            col(SupportRecord.source) == RecordSource.LEFT_MESSAGE,
            col(SupportRecord.queue_id).in_(list(queue_ids)),
            col(SupportRecord.state).not_in(records.FINISHED_STATES),
        )
        .order_by(col(SupportRecord.created_at), col(SupportRecord.id))
        .limit(limit)
    ).all()
    return [
        LeftMessageData(
            record_id=stored_id(record),
            number=record.number or "",
            queue_id=queue_id,
            queue_name=queue_name,
            customer_name=customer_name,
            customer_email=customer_email,
            message=record.description,
            state=record.state,
            created_at=record.created_at,
            replies_sent=sent,
            replies_queued=queued,
            replies_failed=failed,
            retry_at=retry_at,
        )
        for record, queue_id, queue_name, customer_name, customer_email, sent, queued, failed, retry_at in rows
    ]


def _replies(aggregate, *statuses: EmailStatus, retried: bool = False):
    """``aggregate`` over the record's agent emails in ``statuses`` (only "sent" ones reached the
    customer); ``retried``: only those that failed an attempt already."""
    return (
        select(aggregate)
        .where(
            col(OutgoingEmail.record_id) == col(SupportRecord.id),
            col(OutgoingEmail.created_by_id).is_not(None),
            col(OutgoingEmail.status).in_(statuses),
            *([col(OutgoingEmail.attempts) > 0] if retried else []),
        )
        .correlate(SupportRecord)
        .scalar_subquery()
    )


def reply(
    session: Session,
    *,
    record_id: int,
    user_id: int,
    subject: str,
    body: str,
    resolve: bool = False,
) -> Reply:
    """An agent of the message's queue answers by email; the case moves on with the queued email.

    Only members of the record's queue may reply (anyone else is told it does
    not exist). In progress, its audit row and the outbox row commit together;
    bad input writes nothing. ``resolve`` takes effect when the delivery worker
    delivers the email (``resolve_answered``): a reply still queued, or failed,
    never reached the customer, so the case stays open meanwhile.
    """
    _refuse_oversized(subject, field="The subject", limit=mail.SUBJECT_MAX)
    _refuse_oversized(body, field="The message", limit=mail.BODY_MAX)
    record, customer = _left_message(session, record_id, lock=True)
    member = session.get(QueueMember, (record.queue_id, user_id)) if isinstance(user_id, int) else None
    if member is None:
        raise NotFound(NOT_FOUND)
    if record.state in records.FINISHED_STATES:
        raise Conflict(f"{record.number} is {record.state} already.")
    _move(session, record, RecordState.IN_PROGRESS, user_id=user_id, action=AuditAction.RECORD_REPLIED)
    try:
        outgoing = mail.send_email(
            session,
            interaction_id=None,
            record_id=record.id,
            to_address=customer.email,
            subject=subject,
            body=body,
            created_by_id=user_id,
            resolves_record=bool(resolve),
        )
    except Exception:
        session.rollback()  # the state change and its audit row go with the refused email
        raise
    return Reply(email=outgoing, resolves_on_delivery=bool(resolve))


def resolve_answered(session: Session, *, record_id: int, user_id: int, outgoing: OutgoingEmail) -> bool:
    """The reply that resolves its case was delivered: resolve it, in the caller's transaction
    (the one recording the delivery). Re-read under lock: another agent may have finished it
    meanwhile, and their decision stands (then False)."""
    record = session.get(SupportRecord, record_id, with_for_update=True, populate_existing=True)
    if record is None or record.state in records.FINISHED_STATES:
        return False
    if not record.resolution_notes:
        record.resolution_notes = f"Answered by email: {outgoing.subject[:200]}"
    _move(
        session, record, RecordState.RESOLVED, user_id=user_id, action=AuditAction.RECORD_RESOLVED, email_id=outgoing.id
    )
    return True


def _move(
    session: Session, record: SupportRecord, state: RecordState, *, user_id: int, action: AuditAction, **details
) -> None:
    """An agent moves a left message's record to ``state``, audited with where it came from."""
    previous, record.state, record.updated_at = record.state, state, utcnow()
    session.add(record)
    audit.record(
        session,
        action=action,
        actor_kind="agent",
        actor_id=user_id,
        target_kind="record",
        target_id=record.id,
        state=[previous, record.state],
        **details,
    )


def _left_message(session: Session, record_id: int, *, lock: bool = False) -> tuple[SupportRecord, Customer]:
    """The record and its customer; ``lock``: two agents' replies to one message take turns
    (PostgreSQL; SQLite writers are serialised already and SQLAlchemy leaves FOR UPDATE out)."""
    valid_id = isinstance(record_id, int) and not isinstance(record_id, bool)
    record = session.get(SupportRecord, record_id, with_for_update=lock) if valid_id else None
    if record is None or record.source != RecordSource.LEFT_MESSAGE or record.queue_id is None:
        raise NotFound(NOT_FOUND)
    customer = session.get(Customer, record.customer_id) if record.customer_id is not None else None
    if customer is None:
        raise NotFound(NOT_FOUND)
    return record, customer


def _refuse_oversized(value: object, *, field: str, limit: int) -> None:
    """Before any clean-up work: a huge input costs nothing but this check."""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text.")
    if len(value) > limit:
        raise ValidationError(f"{field} is too long: {len(value):,} characters (limit {limit:,}).")


def _first_line(message: str) -> str:
    """The message's first line, cut to fit a short description (with "…" when cut)."""
    line = message.split("\n", 1)[0].strip()
    if len(line) <= records.SHORT_DESCRIPTION_MAX:
        return line
    return line[: records.SHORT_DESCRIPTION_MAX - 1].rstrip() + "…"
