"""Record pages: one interaction, case or incident as a person reads it.

Read-only views built in one read transaction: the saved conversation, the
details, work notes, related records, emails, transfers, escalations, rating,
and the audit trail in words. A record the viewer may not see is ``NotFound``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Result, and_, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from agent_workspace.models import (
    OPEN_STATES,
    Attachment,
    AuditLog,
    CloseReason,
    Customer,
    Interaction,
    Message,
    OutgoingEmail,
    Queue,
    RecordSource,
    SupportRecord,
    User,
    stored_id,
)
from agent_workspace.services import audit_words, email, value_labels
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.audit_words import HistoryLine
from agent_workspace.services.errors import NotFound
from agent_workspace.services.record_access import Viewer, can_view_interaction, can_view_record
from agent_workspace.services.record_lists import ListKind, number_of, state_label
from agent_workspace.services.records import FINISHED_STATES
from agent_workspace.services.transcripts import transcript_text

NOT_FOUND = "No record with that number."
TAB_CLOSED_NOTICE = (
    "The chat was closed by closing its tab: its history was not saved to the record."
    " Below is the raw message log, kept as every chat's is."
)
ABANDONED_NOTICE = (
    "The customer left before an agent answered: no history was saved to the record."
    " Below is the raw message log, kept as every chat's is."
)
TRANSFER_ACTIONS = (
    AuditAction.INTERACTION_TRANSFERRED_TO_QUEUE,
    AuditAction.INTERACTION_TRANSFER_REQUESTED,
    AuditAction.INTERACTION_TRANSFER_ACCEPTED,
    AuditAction.INTERACTION_TRANSFER_DECLINED,
)
ESCALATION_ACTIONS = (AuditAction.RECORD_ESCALATED,)


@dataclass(frozen=True)
class Field:
    """A labelled value of the Details section ("Priority", "2 - High")."""

    label: str
    value: str


@dataclass(frozen=True)
class ConversationLine:
    at: datetime
    sender_kind: str  # SenderKind value
    sender_name: str
    body: str
    attachment_public_id: str  # "" when none; downloaded from /api/attachments/<id>
    attachment_name: str


@dataclass(frozen=True)
class RelatedRecord:
    kind: str  # "interaction" | "case" | "incident"
    number: str
    summary: str
    state_label: str


@dataclass(frozen=True)
class EmailLine:
    at: datetime
    to_address: str
    subject: str
    status: str  # in words ("Sent", "Waiting to be retried", "Failed: …")


@dataclass(frozen=True)
class RecordPage:
    kind: str  # "interaction" | "case" | "incident"
    number: str
    title: str  # short description or the start of the question
    state_label: str
    closed: bool  # read-only
    history_saved: bool | None  # interactions: False when closed by closing the tab; None for cases/incidents
    history_notice: str  # e.g. "The chat was closed without saving its history." ("" when saved)
    details: list[Field]
    conversation: list[ConversationLine]  # from the message rows (the full conversation, always)
    work_notes: str
    related: list[RelatedRecord]  # cases/incidents of an interaction; its chat for a case/incident
    emails: list[EmailLine]
    transfers: list[HistoryLine]
    escalations: list[HistoryLine]
    rating: int | None
    rating_comment: str
    history: list[HistoryLine]  # the whole audit trail of the record, oldest first
    description: str  # cases/incidents: their description; interactions: the customer's question
    resolution_notes: str  # cases/incidents


def record_page(session: Session, viewer: Viewer, number: str) -> RecordPage:
    """The record with this number (IMS…, CS…, INC…, any case, surrounding spaces
    ignored) if ``viewer`` may see it; ``NotFound`` otherwise, the same message
    whether it does not exist or is not theirs.

    A bounded number of statements whatever the record holds: the record with its
    names, its messages, related records, emails and audit rows one statement each,
    then the names behind the audit rows' ids one statement per kind.
    """
    kind, canonical = _parse(number)
    if kind == ListKind.INTERACTION:
        return _interaction_page(session, viewer, canonical)
    return _record_page(session, viewer, kind, canonical)


def transcript_of(session: Session, viewer: Viewer, number: str) -> tuple[str, str]:
    """(file name, text) of an interaction's transcript, or of a case's/incident's chat,
    for the "Download transcript" link; ``NotFound`` as ``record_page``.

    The transcript saved at close when there is one (the history as the agent saved
    it); otherwise, for a chat still open or closed without saving, it is rendered
    from the message rows, which are never deleted, headed by what the record says.
    """
    kind, canonical = _parse(number)
    item: Interaction | None
    if kind == ListKind.INTERACTION:
        item = _chat_with_names(session, canonical)[0]
        if not can_view_interaction(session, viewer, item):
            raise NotFound(NOT_FOUND)
    else:
        record = _record_with_names(session, kind, canonical)[0]
        if not can_view_record(session, viewer, record):
            raise NotFound(NOT_FOUND)
        if record.interaction_id is None:
            raise NotFound(f"{record.number} did not come from a chat: it has no transcript.")
        item = session.get(Interaction, record.interaction_id)
        if item is None:
            raise NotFound(NOT_FOUND)
    file_name = f"{item.number}-transcript.txt"
    if item.transcript is not None:
        return file_name, item.transcript
    notice = _history_notice(item)
    text = transcript_text(session, interaction_id=stored_id(item))
    return file_name, f"{notice}\n\n{text}" if notice else text


def _parse(number: str) -> tuple[ListKind, str]:
    parsed = number_of(number) if isinstance(number, str) else None
    if parsed is None:
        raise NotFound(NOT_FOUND)
    return parsed


# ---------------------------------------------------------------- interactions


def _chat_with_names(session: Session, number: str) -> tuple[Interaction, Customer, Queue, User | None]:
    row = session.exec(
        select(Interaction, Customer, Queue, User)
        .join(Customer, col(Customer.id) == col(Interaction.customer_id))
        .join(Queue, col(Queue.id) == col(Interaction.queue_id))
        .outerjoin(User, col(User.id) == col(Interaction.agent_id))
        .where(Interaction.number == number)
    ).first()
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


def _interaction_page(session: Session, viewer: Viewer, number: str) -> RecordPage:
    item, customer, queue, agent = _chat_with_names(session, number)
    if not can_view_interaction(session, viewer, item):
        raise NotFound(NOT_FOUND)
    related = list(
        session.exec(
            select(SupportRecord).where(SupportRecord.interaction_id == item.id).order_by(col(SupportRecord.id))
        )
    )
    entries = _audit_rows(
        session,
        ("interaction", stored_id(item)),
        related_kind="record",
        related_ids=[stored_id(r) for r in related],
        related_actions=ESCALATION_ACTIONS,
    )
    own, lines = _in_words(session, entries, here=("interaction", stored_id(item)))
    closed = item.state not in OPEN_STATES
    saved = (item.transcript is not None) if closed else None
    return RecordPage(
        kind=ListKind.INTERACTION,
        number=item.number or "",
        title=item.short_description or _start_of(item.question),
        state_label=state_label(ListKind.INTERACTION, item.state),
        closed=closed,
        history_saved=saved,
        history_notice=_history_notice(item),
        details=_interaction_details(item, customer, queue, agent),
        conversation=_conversation(session, stored_id(item)),
        work_notes=item.work_notes,
        related=[_related_record(r) for r in related],
        emails=_emails(session, OutgoingEmail.interaction_id == item.id),
        transfers=[line for entry, line in lines if entry.action in TRANSFER_ACTIONS],
        escalations=[line for entry, line in lines if entry.action in ESCALATION_ACTIONS],
        rating=item.rating,
        rating_comment=item.rating_comment,
        history=own,
        description=item.question,
        resolution_notes="",
    )


def _history_notice(item: Interaction) -> str:
    """Why a closed chat has no saved history ("" when it has one, or is still open)."""
    if item.state in OPEN_STATES or item.transcript is not None:
        return ""
    return TAB_CLOSED_NOTICE if item.close_reason == CloseReason.TAB_CLOSED else ABANDONED_NOTICE


def _interaction_details(item: Interaction, customer: Customer, queue: Queue, agent: User | None) -> list[Field]:
    duration = (_utc(item.closed_at) - _utc(item.requested_at)).total_seconds() if item.closed_at else None
    return [
        Field("Number", item.number or ""),
        Field("State", state_label(ListKind.INTERACTION, item.state)),
        Field("Queue", queue.name),
        Field("Customer", customer.name),
        Field("Email", customer.email),
        Field("Agent", agent.display_name if agent else "—"),
        Field("Category", value_labels.words(item.category)),
        Field("Priority", value_labels.priority_label(item.priority)),
        Field("Opened", _when(item.requested_at)),
        Field("Accepted", _when(item.accepted_at)),
        Field("Closed", _when(item.closed_at)),
        Field("Wait", value_labels.duration_text(item.wait_seconds)),
        Field("Duration", value_labels.duration_text(duration)),
        Field("Close reason", value_labels.close_reason_label(item.close_reason)),
        Field("Rating", _rating(item.rating)),
    ]


def _conversation(session: Session, interaction_id: int) -> list[ConversationLine]:
    # Six columns: more than sqlmodel's select types, so SQLAlchemy's (with the session's autoflush).
    rows: Result[datetime, str, str, str, str | None, str | None] = session.execute(
        sa_select(
            col(Message.created_at),
            col(Message.sender_kind),
            col(Message.sender_name),
            col(Message.body),
            col(Attachment.public_id),
            col(Attachment.filename),
        )
        .outerjoin(Attachment, col(Attachment.id) == col(Message.attachment_id))
        .where(col(Message.interaction_id) == interaction_id)
        .order_by(col(Message.id))
    )
    return [
        ConversationLine(
            at=at,
            sender_kind=kind,
            sender_name=name,
            body=body,
            attachment_public_id=public_id or "",
            attachment_name=filename or "",
        )
        for at, kind, name, body, public_id, filename in rows
    ]


def _related_record(record: SupportRecord) -> RelatedRecord:
    return RelatedRecord(
        kind=record.kind,
        number=record.number or "",
        summary=record.short_description,
        state_label=state_label(ListKind(record.kind), record.state),
    )


# ---------------------------------------------------------------- cases and incidents


def _record_with_names(
    session: Session, kind: ListKind, number: str
) -> tuple[SupportRecord, Customer | None, Queue | None, User | None]:
    row = session.exec(
        select(SupportRecord, Customer, Queue, User)
        .outerjoin(Customer, col(Customer.id) == col(SupportRecord.customer_id))
        .outerjoin(Queue, col(Queue.id) == col(SupportRecord.queue_id))
        .outerjoin(User, col(User.id) == col(SupportRecord.created_by_id))
        .where(SupportRecord.number == number, SupportRecord.kind == kind)
    ).first()
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


def _record_page(session: Session, viewer: Viewer, kind: ListKind, number: str) -> RecordPage:
    record, customer, queue, creator = _record_with_names(session, kind, number)
    if not can_view_record(session, viewer, record):
        raise NotFound(NOT_FOUND)
    chat = (
        session.exec(
            select(Interaction, Queue.name)
            .join(Queue, col(Queue.id) == col(Interaction.queue_id))
            .where(Interaction.id == record.interaction_id)
        ).first()
        if record.interaction_id is not None
        else None
    )
    item, chat_queue = chat if chat else (None, None)
    chat_ids = [stored_id(item)] if item else []
    entries = _audit_rows(
        session,
        ("record", stored_id(record)),
        related_kind="interaction",
        related_ids=chat_ids,
        related_actions=TRANSFER_ACTIONS,
    )
    own, lines = _in_words(session, entries, here=("record", stored_id(record)))
    return RecordPage(
        kind=kind,
        number=record.number or "",
        title=record.short_description,
        state_label=state_label(kind, record.state),
        closed=record.state in FINISHED_STATES,
        history_saved=None,
        history_notice="",
        details=_record_details(record, customer, queue.name if queue else chat_queue, creator, item),
        conversation=_conversation(session, stored_id(item)) if item else [],
        work_notes="",
        related=[
            RelatedRecord(
                ListKind.INTERACTION,
                item.number or "",
                item.short_description or _start_of(item.question),
                state_label(ListKind.INTERACTION, item.state),
            )
        ]
        if item
        else [],
        emails=_emails(session, OutgoingEmail.record_id == record.id),
        transfers=[line for entry, line in lines if entry.action in TRANSFER_ACTIONS],
        escalations=[line for entry, line in lines if entry.action in ESCALATION_ACTIONS],
        rating=item.rating if item else None,
        rating_comment=item.rating_comment if item else "",
        history=own,
        description=record.description,
        resolution_notes=record.resolution_notes,
    )


def _record_details(
    record: SupportRecord,
    customer: Customer | None,
    queue_name: str | None,
    creator: User | None,
    chat: Interaction | None,
) -> list[Field]:
    source = (
        f"Chat {chat.number}"
        if chat
        else "A message left on the public page"
        if record.source == RecordSource.LEFT_MESSAGE
        else "—"
    )
    escalation = (
        f"Level {record.escalation_level}, {record.escalation_group}" if record.escalation_level else "Not escalated"
    )
    return [
        Field("Number", record.number or ""),
        Field("State", state_label(ListKind(record.kind), record.state)),
        Field("Priority", value_labels.priority_label(record.priority)),
        Field("Queue", queue_name or "—"),
        Field("Customer", customer.name if customer else "—"),
        Field("Email", customer.email if customer else "—"),
        Field(
            "Created by",
            creator.display_name if creator else "The customer" if record.source == RecordSource.LEFT_MESSAGE else "—",
        ),
        Field("Source", source),
        Field("Opened", _when(record.created_at)),
        Field("Updated", _when(record.updated_at)),
        Field("Escalation", escalation),
        Field("Rating", _rating(chat.rating if chat else None)),
    ]


# ---------------------------------------------------------------- shared


def _audit_rows(
    session: Session,
    own: tuple[str, int],
    *,
    related_kind: str,
    related_ids: Collection[int],
    related_actions: tuple[str, ...],
) -> list[AuditLog]:
    """The record's own audit rows, and the transfers or escalations of the records
    related to it, oldest first, in one statement."""
    kind, target_id = own
    mine = and_(col(AuditLog.target_kind) == kind, col(AuditLog.target_id) == target_id)
    wanted = mine
    if related_ids:
        wanted = or_(
            mine,
            and_(
                col(AuditLog.target_kind) == related_kind,
                col(AuditLog.target_id).in_(list(related_ids)),
                col(AuditLog.action).in_(related_actions),
            ),
        )
    return list(session.exec(select(AuditLog).where(wanted).order_by(col(AuditLog.at), col(AuditLog.id))))


def _in_words(
    session: Session, entries: list[AuditLog], *, here: tuple[str, int]
) -> tuple[list[HistoryLine], list[tuple[AuditLog, HistoryLine]]]:
    """The record's own history, and every entry with its line (for transfers and escalations)."""
    lines = list(zip(entries, audit_words.describe(session, entries, here=here)))
    own = [line for entry, line in lines if (entry.target_kind, entry.target_id) == here]
    return own, lines


def _emails(session: Session, belongs) -> list[EmailLine]:
    configured = email.SmtpSettings.from_settings().configured
    rows = session.exec(select(OutgoingEmail).where(belongs).order_by(col(OutgoingEmail.id)))
    return [
        EmailLine(
            at=row.created_at,
            to_address=row.to_address,
            subject=row.subject,
            status=_sentence_case(email.delivery_text(row, configured=configured)),
        )
        for row in rows
    ]


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _start_of(text: str, limit: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _when(at: datetime | None) -> str:
    return f"{_utc(at):%Y-%m-%d %H:%M} UTC" if at else "—"


def _rating(rating: int | None) -> str:
    return f"{rating} of 5" if rating is not None else "Not rated"
