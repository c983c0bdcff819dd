"""The delivery worker's transactions: claim due emails, then record each server's answer.

Each is short and holds nothing while SMTP talks (``email.deliver`` runs
between them, with no session). A claim is one conditional ``UPDATE``: a row
is due when it is queued and its time has come, or when the worker that
claimed it has been silent for ``SENDING_TIMEOUT`` (it crashed); so several
workers in several processes never claim the same row together. A claim
counts an attempt, and the attempt number is the claim's name: a worker whose
claim went stale and was taken over records nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Row, and_, or_, update
from sqlmodel import Session, col, select

from agent_workspace.models import EmailStatus, OutgoingEmail, SupportRecord, non_null, utcnow
from agent_workspace.services import email, left_messages, notices
from agent_workspace.services.email import Delivery, Outcome
from agent_workspace.services.events import AgentChanged, DetailsChanged, announce

# Far above one SMTP conversation (each step times out after email.SMTP_TIMEOUT_SECONDS).
SENDING_TIMEOUT = timedelta(minutes=10)
INTERRUPTED = "The delivery was interrupted (its worker stopped) too many times."


def _due(now: datetime):
    return or_(
        and_(col(OutgoingEmail.status) == EmailStatus.QUEUED, col(OutgoingEmail.next_attempt_at) <= now),
        _stale(now, col(OutgoingEmail.attempts) < email.MAX_ATTEMPTS),
    )


def _stale(now: datetime, *more):
    return and_(
        col(OutgoingEmail.status) == EmailStatus.SENDING, col(OutgoingEmail.claimed_at) <= now - SENDING_TIMEOUT, *more
    )


def has_due(session: Session, *, now: datetime | None = None) -> bool:
    """A read (no write lock) before claiming: most passes of the worker find nothing."""
    now = now or utcnow()
    stale_for_good = _stale(now, col(OutgoingEmail.attempts) >= email.MAX_ATTEMPTS)
    return session.exec(select(OutgoingEmail.id).where(or_(_due(now), stale_for_good)).limit(1)).first() is not None


def claim_due(session: Session, *, limit: int, now: datetime | None = None) -> list[Delivery]:
    """Take up to ``limit`` due emails for this worker, oldest first, in one transaction.

    Emails whose worker stopped on their last attempt fail here (an email that
    crashes its worker is not tried for ever).
    """
    now = now or utcnow()
    for row in _stale_for_good(session, now):
        _give_up(session, row, INTERRUPTED)
    due_ids = (
        select(OutgoingEmail.id)
        .where(_due(now))
        .order_by(col(OutgoingEmail.id))
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL: workers skip each other's rows; SQLite writers take turns
    )
    claimed: Sequence[Row[int, str, str, str, str, int]] = session.execute(
        update(OutgoingEmail)
        .where(col(OutgoingEmail.id).in_(due_ids.scalar_subquery()), _due(now))  # re-checked on the row itself
        .values(status=EmailStatus.SENDING, claimed_at=now, attempts=OutgoingEmail.attempts + 1)
        .returning(
            non_null(OutgoingEmail.id),
            col(OutgoingEmail.to_address),
            col(OutgoingEmail.subject),
            col(OutgoingEmail.body),
            col(OutgoingEmail.message_id),
            col(OutgoingEmail.attempts),
        )
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return sorted((Delivery(*row) for row in claimed), key=lambda d: d.email_id)


def _stale_for_good(session: Session, now: datetime) -> list[OutgoingEmail]:
    stale = _stale(now, col(OutgoingEmail.attempts) >= email.MAX_ATTEMPTS)
    return list(session.exec(select(OutgoingEmail).where(stale).with_for_update(skip_locked=True)).all())


def record_outcome(session: Session, delivery: Delivery, outcome: Outcome, *, now: datetime | None = None) -> None:
    """After the SMTP conversation, in a short transaction: sent, queued again with backoff, or failed.

    A delivered reply that resolves its case resolves it here, with the
    outcome. The agent who wrote it hears of it.
    """
    now = now or utcnow()
    row = session.get(OutgoingEmail, delivery.email_id, with_for_update=True, populate_existing=True)
    if row is None or row.status != EmailStatus.SENDING or row.attempts != delivery.attempt:
        session.commit()  # taken over after our claim went stale: that worker records it
        return
    row.claimed_at = None
    if outcome.error is None:
        row.status, row.sent_at, row.error, row.next_attempt_at = EmailStatus.SENT, now, "", None
        session.add(row)
        email.audit_outcome(session, row)
        if row.resolves_record and row.record_id is not None and row.created_by_id is not None:
            left_messages.resolve_answered(session, record_id=row.record_id, user_id=row.created_by_id, outgoing=row)
        _tell_author(session, row)
    else:
        retry_at = None if outcome.permanent else email.next_attempt_at(row.attempts, now)
        if retry_at is None:
            _give_up(session, row, outcome.error)
        else:
            row.status, row.error, row.next_attempt_at = EmailStatus.QUEUED, outcome.error, retry_at
            session.add(row)
            _tell_author(session, row)
    session.commit()


def _give_up(session: Session, row: OutgoingEmail, error: str) -> None:
    """The email failed for good: recorded, and its author gets a notice (their tabs show it)."""
    row.status, row.error, row.next_attempt_at, row.claimed_at = (
        EmailStatus.FAILED,
        error[: email.ERROR_MAX],
        None,
        None,
    )
    session.add(row)
    email.audit_outcome(session, row)
    if row.created_by_id is None:
        return
    record = session.get(SupportRecord, row.record_id) if row.record_id is not None else None
    stays_open = f" {record.number} stays open." if record is not None and row.resolves_record else ""
    notices.notify(
        session,
        user_id=row.created_by_id,
        body=f"Your email to {row.to_address} (“{row.subject[:80]}”) could not be sent: {row.error[:200]}{stays_open}",
        level="error",
    )
    announce(session, AgentChanged(row.created_by_id))  # the notice is in the author's header
    _tell_author(session, row)


def _tell_author(session: Session, row: OutgoingEmail) -> None:
    """The tabs showing the email's chat re-read it (and the email list in it)."""
    if row.interaction_id is not None:
        announce(session, DetailsChanged(row.interaction_id))
