"""The audit log: who did what, when, to which record."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from agent_workspace.models import AuditLog, EmailStatus


class AuditAction(StrEnum):
    """Every action the audit log records; each has a sentence in ``audit_words``.
    The values are what the rows store."""

    INTERACTION_REQUESTED = "interaction.requested"
    INTERACTION_OFFERED = "interaction.offered"
    INTERACTION_OFFER_TIMED_OUT = "interaction.offer_timed_out"
    INTERACTION_OFFER_WITHDRAWN = "interaction.offer_withdrawn"
    INTERACTION_RETURNED_TO_QUEUE = "interaction.returned_to_queue"
    INTERACTION_ACCEPTED = "interaction.accepted"
    INTERACTION_REJECTED = "interaction.rejected"
    INTERACTION_TRANSFERRED_TO_QUEUE = "interaction.transferred_to_queue"
    INTERACTION_TRANSFER_REQUESTED = "interaction.transfer_requested"
    INTERACTION_TRANSFER_ACCEPTED = "interaction.transfer_accepted"
    INTERACTION_TRANSFER_DECLINED = "interaction.transfer_declined"
    INTERACTION_CUSTOMER_ENDED = "interaction.customer_ended"
    INTERACTION_CLOSED = "interaction.closed"
    INTERACTION_UPDATED = "interaction.updated"
    INTERACTION_RATED = "interaction.rated"
    INTERACTION_ARTICLE_SENT = "interaction.article_sent"
    RECORD_CREATED = "record.created"
    RECORD_UPDATED = "record.updated"
    RECORD_ESCALATED = "record.escalated"
    RECORD_REPLIED = "record.replied"
    RECORD_RESOLVED = "record.resolved"
    ATTACHMENT_UPLOADED = "attachment.uploaded"
    ATTACHMENT_DOWNLOADED = "attachment.downloaded"
    ATTACHMENT_COPIED = "attachment.copied"
    EMAIL_QUEUED = "email.queued"
    EMAIL_SENDING = "email.sending"
    EMAIL_SENT = "email.sent"
    EMAIL_FAILED = "email.failed"
    QUEUE_CREATED = "queue.created"
    QUEUE_HOURS_CHANGED = "queue.hours_changed"
    QUEUE_VISIBILITY_CHANGED = "queue.visibility_changed"
    PRESENCE_CHANGED = "presence.changed"
    PRESENCE_AFTER_HOURS = "presence.after_hours"
    PRESENCE_EXPIRED = "presence.expired"
    PRESENCE_AWAY_AFTER_MISSED_OFFER = "presence.away_after_missed_offer"
    LOGIN = "login"
    LOGOUT = "logout"
    LOGIN_FAILED = "login.failed"
    SESSION_REVOKED_OTHER_CLIENT = "session.revoked_other_client"
    USER_CREATED = "user.created"
    USER_PASSWORD_CHANGED = "user.password_changed"
    USER_DEACTIVATED = "user.deactivated"
    USER_ROLES_CHANGED = "user.roles_changed"
    CANNED_CREATED = "canned.created"
    CANNED_DELETED = "canned.deleted"
    KB_ARTICLE_CREATED = "kb.article_created"
    KB_ARTICLE_UPDATED = "kb.article_updated"
    KB_IMPORTED = "kb.imported"


# The outbox's audit row of an email in each status.
EMAIL_ACTIONS = {
    EmailStatus.QUEUED: AuditAction.EMAIL_QUEUED,
    EmailStatus.SENDING: AuditAction.EMAIL_SENDING,
    EmailStatus.SENT: AuditAction.EMAIL_SENT,
    EmailStatus.FAILED: AuditAction.EMAIL_FAILED,
}


def record(
    session: Session,
    *,
    action: AuditAction,
    actor_kind: str,
    actor_id: int | None = None,
    target_kind: str = "",
    target_id: int | None = None,
    **detail: Any,
) -> AuditLog:
    """Add an audit row in the caller's transaction (it commits with the action).
    An action outside ``AuditAction`` is refused (``ValueError``): it would have no
    sentence in the trail."""
    row = AuditLog(
        action=AuditAction(action),
        actor_kind=actor_kind,
        actor_id=actor_id,
        target_kind=target_kind,
        target_id=target_id,
        detail=json.dumps(detail, default=str, sort_keys=True) if detail else "",
    )
    session.add(row)
    return row


def changes(row: object, wanted: Mapping[str, Any], *, long_texts: Collection[str] = ()) -> dict[str, Any]:
    """The fields of ``row`` that ``wanted`` changes, as the audit detail of an edit:
    field → [old, new]. A long free text (work notes, a description) is kept as
    {"length": [old, new]}: the trail says it changed and by how much without a
    second copy of text that can run to pages and hold customers' details.
    Call it before applying the change."""
    return {
        field: {"length": [len(getattr(row, field)), len(value)]}
        if field in long_texts
        else [getattr(row, field), value]
        for field, value in wanted.items()
        if getattr(row, field) != value
    }


_VERSION = sa_select(func.coalesce(func.max(col(AuditLog.id)), 0))


def change_version(session: Session) -> int:
    """How far the database has changed, as this transaction's reads see it: every
    change a tab shows is audited in the transaction that makes it, and a read
    sees one snapshot, so of two reads the one that sees a later audit row is the
    newer. A read ahead for a tab counts only if strictly newer than the tab's own
    (equal could still miss an unaudited change); clocks of other processes are
    never compared."""
    return session.connection().execute(_VERSION).scalar_one() or 0
