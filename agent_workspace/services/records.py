"""Cases (CS…) and incidents (INC…): follow-up work created from a chat.

A record starts as a copy of what the chat already knows (customer, question,
transcript, files) so the agent does not retype it, and every change to it is
in the audit log, which doubles as the record's activity stream.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from agent_workspace.db import session_scope
from agent_workspace.models import AuditLog, Interaction, SupportRecord, User, stored_id, utcnow
from agent_workspace.services import attachments, audit
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.errors import Conflict, NotFound, ValidationError
from agent_workspace.services.transcripts import transcript_text

NUMBER_PREFIXES = {"case": "CS", "incident": "INC"}
# A case's or incident's states, in order, as people read them.
STATE_LABELS = {
    "new": "New",
    "in_progress": "In progress",
    "on_hold": "On hold",
    "resolved": "Resolved",
    "closed": "Closed",
}
STATES = tuple(STATE_LABELS)
FINISHED_STATES = ("resolved", "closed")
HIGHEST_PRIORITY = 1
LOWEST_PRIORITY = 4
SHORT_DESCRIPTION_MAX = 160
ESCALATION_REASON_MAX = 1000
ESCALATION_GROUP_MAX = 80


def record_number(kind: str, record_id: int) -> str:
    """``CS0001001`` / ``INC0001001``: the prefix and seven digits from the row id."""
    return f"{NUMBER_PREFIXES[kind]}{1000 + record_id:07d}"


def create_from_interaction(
    session: Session,
    *,
    interaction_id: int,
    kind: str,
    created_by_id: int,
    short_description: str | None = None,
    file_copies: Sequence[attachments.FileCopy] = (),
) -> SupportRecord:
    """Open a case or incident pre-filled from a chat, with the chat's files that
    ``attachments.copy_files`` copied (``create_with_files`` does both); commits."""
    if kind not in NUMBER_PREFIXES:
        raise ValidationError("Choose either a case or an incident.")
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        raise NotFound("That chat does not exist.")
    if short_description is None:
        short_description = interaction.short_description or _shorten(interaction.question)
    record = SupportRecord(
        kind=kind,
        interaction_id=interaction.id,
        customer_id=interaction.customer_id,
        short_description=_valid_short_description(short_description),
        description=_description_from(session, interaction),
        priority=interaction.priority,
        created_by_id=created_by_id,
    )
    session.add(record)
    session.flush()
    record.number = record_number(kind, stored_id(record))
    audit.record(
        session,
        action=AuditAction.RECORD_CREATED,
        actor_kind="agent",
        actor_id=created_by_id,
        target_kind="record",
        target_id=record.id,
        number=record.number,
        kind=kind,
        interaction_id=interaction.id,
    )
    attachments.record_copies(
        session, copies=list(file_copies), interaction_id=stored_id(interaction), record_id=stored_id(record)
    )
    session.commit()
    return record


def create_with_files(
    *,
    interaction_id: int,
    kind: str,
    created_by_id: int,
    authorize: Callable[[Session], object],
    storage_dir: Path | None = None,
) -> SupportRecord:
    """``create_from_interaction`` with copies of the chat's files, in its own
    transactions (blocking: run it off the event loop). The disk work is done
    with no session open: the files are listed by a read, copied, then the
    record and its copies are inserted in one short write transaction, all or
    nothing (the copies are deleted if it fails). ``authorize(session)`` raises
    if the caller may not: run before anything is copied, and again in the write."""
    with session_scope(writer=False) as session:
        authorize(session)
        originals = attachments.list_attachments(session, interaction_id=interaction_id)
    copies = attachments.copy_files(originals, storage_dir)
    try:
        with session_scope() as session:
            authorize(session)
            return create_from_interaction(
                session, interaction_id=interaction_id, kind=kind, created_by_id=created_by_id, file_copies=copies
            )
    except BaseException:
        attachments.discard_copies(copies, storage_dir)
        raise


def update_record(
    session: Session,
    *,
    record_id: int,
    actor_id: int,
    short_description: str | None = None,
    description: str | None = None,
    priority: int | None = None,
    state: str | None = None,
    resolution_notes: str | None = None,
) -> SupportRecord:
    """Change the given fields (``None`` leaves one as it is); the audit keeps each one's old and new value."""
    record = _get(session, record_id)
    wanted: dict[str, Any] = {}
    if short_description is not None:
        wanted["short_description"] = _valid_short_description(short_description)
    if description is not None:
        wanted["description"] = description.strip()
    if priority is not None:
        wanted["priority"] = _valid_priority(priority)
    if resolution_notes is not None:
        wanted["resolution_notes"] = resolution_notes.strip()
    if state is not None:
        if state not in STATES:
            raise ValidationError(f"Unknown state “{state}”.")
        wanted["state"] = state
        if state == "resolved" and not wanted.get("resolution_notes", record.resolution_notes):
            raise ValidationError("Say how it was resolved: resolution notes are required.")

    changes = audit.changes(record, wanted, long_texts=("description", "resolution_notes"))
    if not changes:
        return record
    audit.record(
        session,
        action=AuditAction.RECORD_UPDATED,
        actor_kind="agent",
        actor_id=actor_id,
        target_kind="record",
        target_id=record.id,
        changes=changes,
    )
    for field in changes:
        setattr(record, field, wanted[field])
    record.updated_at = utcnow()
    session.commit()
    return record


def escalate(session: Session, *, record_id: int, actor_id: int, group: str, reason: str) -> SupportRecord:
    """Hand the record up a level: one step more urgent, to ``group``, with the reason why."""
    record = _get(session, record_id)
    group = group.strip()
    reason = reason.strip()
    if not group:
        raise ValidationError("Choose the group to escalate to.")
    if len(group) > ESCALATION_GROUP_MAX:
        raise ValidationError(f"The group name can be at most {ESCALATION_GROUP_MAX} characters.")
    if not reason:
        raise ValidationError("Give a reason for the escalation.")
    if len(reason) > ESCALATION_REASON_MAX:
        raise ValidationError(f"The reason can be at most {ESCALATION_REASON_MAX} characters.")
    if record.state in FINISHED_STATES:
        raise Conflict(f"{record.number} is {record.state}; reopen it before escalating.")

    previous_priority = record.priority
    now = utcnow()
    record.priority = max(HIGHEST_PRIORITY, record.priority - 1)
    record.escalation_level += 1
    record.escalation_group = group
    record.escalation_reason = reason
    record.escalated_by_id = actor_id
    record.escalated_at = now
    record.updated_at = now
    audit.record(
        session,
        action=AuditAction.RECORD_ESCALATED,
        actor_kind="agent",
        actor_id=actor_id,
        target_kind="record",
        target_id=record.id,
        group=group,
        reason=reason,
        level=record.escalation_level,
        priority=[previous_priority, record.priority],
    )
    session.commit()
    return record


def record_activity(session: Session, *, record_id: int) -> list[dict[str, Any]]:
    """The record's history, oldest first: ``at``, ``actor`` (a name), ``action``, ``detail``."""
    _get(session, record_id)
    rows = session.exec(
        select(AuditLog, User)
        .join(User, col(AuditLog.actor_id) == col(User.id), isouter=True)
        .where(AuditLog.target_kind == "record", AuditLog.target_id == record_id)
        .order_by(col(AuditLog.at), col(AuditLog.id))
    ).all()
    return [
        {
            "at": entry.at,
            "actor": _actor_name(entry, user),
            "action": entry.action,
            "detail": json.loads(entry.detail) if entry.detail else {},
        }
        for entry, user in rows
    ]


def list_for_interaction(session: Session, *, interaction_id: int) -> list[SupportRecord]:
    """The cases and incidents created from one chat, oldest first."""
    return list(
        session.exec(
            select(SupportRecord).where(SupportRecord.interaction_id == interaction_id).order_by(col(SupportRecord.id))
        ).all()
    )


def _get(session: Session, record_id: int) -> SupportRecord:
    record = session.get(SupportRecord, record_id)
    if record is None:
        raise NotFound("That case or incident does not exist.")
    return record


def _shorten(text: str) -> str:
    """One line of at most 160 characters, ending in "…" when cut."""
    line = " ".join(text.split())
    if len(line) <= SHORT_DESCRIPTION_MAX:
        return line
    return line[: SHORT_DESCRIPTION_MAX - 1].rstrip() + "…"


def _valid_short_description(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError("A short description is required.")
    if len(text) > SHORT_DESCRIPTION_MAX:
        raise ValidationError(f"The short description can be at most {SHORT_DESCRIPTION_MAX} characters.")
    return text


def _valid_priority(priority: int) -> int:
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise ValidationError("Priority must be a whole number from 1 to 4.")
    if not HIGHEST_PRIORITY <= priority <= LOWEST_PRIORITY:
        raise ValidationError("Priority must be from 1 (critical) to 4 (low).")
    return priority


def _description_from(session: Session, interaction: Interaction) -> str:
    return (
        f"Created from chat {interaction.number}.\n\n"
        f"Customer's question:\n{interaction.question.strip()}\n\n"
        f"Transcript so far:\n{transcript_text(session, interaction_id=stored_id(interaction))}"
    )


def _actor_name(entry: AuditLog, user: User | None) -> str:
    if entry.actor_kind == "customer":
        return "Customer"
    if entry.actor_kind != "system" and user is not None:
        return user.display_name
    return "System"
