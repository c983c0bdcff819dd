"""Email to customers: compose, queue in the outbox, deliver over SMTP.

Sending an email writes one ``outgoing_email`` row, queued, in a short
transaction, and returns: no request ever waits for a mail server. A delivery
worker (``agent_workspace.mailer``, one per backend process) claims due rows
(``services.outbox``), talks SMTP with no transaction open, and records the
server's answer; a failed attempt is retried with backoff. The outbox is the
record: without SMTP configured rows stay queued until it is.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlmodel import Session, col, select

from agent_workspace.config import Settings, settings
from agent_workspace.models import Customer, EmailStatus, Interaction, OutgoingEmail, SupportRecord, stored_id
from agent_workspace.services import audit
from agent_workspace.services.errors import NotFound, ValidationError
from agent_workspace.services.transcripts import transcript_text

SMTP_TIMEOUT_SECONDS = 15
TLS_MODES = ("none", "starttls", "ssl")
ADDRESS_MAX = 254
SUBJECT_MAX = 200
BODY_MAX = 50_000
ERROR_MAX = 1000
# After the first attempt fails, the next ones wait this long; then the email has failed for good.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1

# Deliberately plain: an ASCII local part and a dotted hostname. It refuses
# the exotic forms RFC 5322 allows (quoted parts, comments, several
# recipients), which are exactly what header injection is built from.
_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send; ``host`` empty means "not configured, keep in the outbox"."""

    host: str = ""
    port: int = 25
    user: str = ""
    password: str = ""
    tls: str = "none"  # "none" | "starttls" | "ssl"
    mail_from: str = "support@agent-workspace.local"

    @classmethod
    def from_settings(cls, config: Settings | None = None) -> SmtpSettings:
        config = config or settings()
        return cls(
            host=config.smtp_host.strip(),
            port=config.smtp_port,
            user=config.smtp_user,
            password=config.smtp_password,
            tls=config.smtp_tls.strip().lower(),
            mail_from=config.mail_from,
        )

    @property
    def configured(self) -> bool:
        return bool(self.host)


def compose_defaults(session: Session, *, interaction_id: int) -> dict[str, str]:
    """What the compose form starts with: the customer's address and the chat's number."""
    interaction = _get_interaction(session, interaction_id)
    customer = session.get(Customer, interaction.customer_id)
    return {
        "to_address": customer.email if customer else "",
        "subject": f"Your support chat {interaction.number}",
        "body": f"Hello {customer.name},\n\n" if customer and customer.name else "Hello,\n\n",
    }


def send_email(
    session: Session,
    *,
    interaction_id: int | None,
    to_address: str,
    subject: str,
    body: str,
    created_by_id: int | None,
    include_transcript: bool = False,
    record_id: int | None = None,
    resolves_record: bool = False,
) -> OutgoingEmail:
    """Queue the email in the outbox (committed) for the delivery worker; returns the queued row.

    Raises ``ValidationError`` (and writes nothing) for bad input. Delivery
    problems are the worker's: the row says what happened.
    """
    to_address, subject, body = _validated(to_address, subject, body)
    if interaction_id is not None:
        _get_interaction(session, interaction_id)
    if record_id is not None and session.get(SupportRecord, record_id) is None:
        raise NotFound("That case or incident does not exist.")
    if include_transcript:
        if interaction_id is None:
            raise ValidationError("A transcript can only be included for a chat.")
        transcript = transcript_text(session, interaction_id=interaction_id)
        body = f"{body}\n\n-- Chat transcript --\n\n{transcript}\n"
    outgoing = OutgoingEmail(
        interaction_id=interaction_id,
        record_id=record_id,
        to_address=to_address,
        subject=subject,
        body=body,
        created_by_id=created_by_id,
        message_id=make_msgid(domain=settings().mail_from.rpartition("@")[2] or "agent-workspace.local"),
        resolves_record=resolves_record,
    )
    session.add(outgoing)
    session.flush()
    audit_outcome(session, outgoing)
    session.commit()
    return outgoing


def list_emails(session: Session, *, interaction_id: int) -> list[OutgoingEmail]:
    """The emails sent (or waiting) for one chat, oldest first."""
    return list(
        session.exec(
            select(OutgoingEmail).where(OutgoingEmail.interaction_id == interaction_id).order_by(col(OutgoingEmail.id))
        ).all()
    )


def delivery_text(outgoing: OutgoingEmail, *, configured: bool) -> str:
    """What the agent is told about an email: only "sent" means the mail server took it."""
    if outgoing.status == EmailStatus.SENT:
        return "sent"
    if outgoing.status == EmailStatus.FAILED:
        return f"failed: {outgoing.error}"
    if outgoing.status == EmailStatus.SENDING:
        return "sending"
    if not configured:
        return "queued, not sent: no mail server is configured"
    if outgoing.attempts and outgoing.next_attempt_at is not None:
        return f"not sent yet, retrying at {outgoing.next_attempt_at:%H:%M} UTC: {outgoing.error}"
    return "queued"


def is_address(text: str) -> bool:
    """An address this mailer will write to (also what the public page accepts)."""
    return bool(_ADDRESS.fullmatch(text))


def _validated(to_address: str, subject: str, body: str) -> tuple[str, str, str]:
    to_address = to_address.strip()
    if "\r" in to_address or "\n" in to_address:
        raise ValidationError("The address must be a single line.")
    if len(to_address) > ADDRESS_MAX or not _ADDRESS.fullmatch(to_address):
        raise ValidationError(f"“{to_address}” is not a valid email address.")
    if "\r" in subject or "\n" in subject:
        raise ValidationError("The subject must be a single line.")
    subject = subject.strip()
    if not subject:
        raise ValidationError("A subject is required.")
    if len(subject) > SUBJECT_MAX or any(ch < " " or ch == "\x7f" for ch in subject):
        raise ValidationError(f"The subject can be at most {SUBJECT_MAX} characters, without control characters.")
    if not body.strip():
        raise ValidationError("The message is empty.")
    if len(body) > BODY_MAX:
        raise ValidationError(f"The message can be at most {BODY_MAX:,} characters.")
    return to_address, subject, body


def _get_interaction(session: Session, interaction_id: int) -> Interaction:
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        raise NotFound("That chat does not exist.")
    return interaction


@dataclass(frozen=True)
class Delivery:
    """A claimed email, as the worker needs it with no session open; ``attempt`` names the claim."""

    email_id: int
    to_address: str
    subject: str
    body: str
    message_id: str
    attempt: int


@dataclass(frozen=True)
class Outcome:
    """The server's answer: ``error`` None when it took the email; ``permanent`` when retrying cannot help."""

    error: str | None = None
    permanent: bool = False


def next_attempt_at(attempts: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed attempts; None: give up."""
    return now + RETRY_DELAYS[attempts - 1] if attempts < MAX_ATTEMPTS else None


def deliver(delivery: Delivery, smtp: SmtpSettings) -> Outcome:
    """The SMTP conversation for one email: slow, so never inside a transaction."""
    if smtp.tls not in TLS_MODES:
        return Outcome(f"Unknown SMTP TLS mode “{smtp.tls}” (use one of: {', '.join(TLS_MODES)}).")
    try:
        if smtp.tls == "ssl":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host,
                smtp.port,
                timeout=SMTP_TIMEOUT_SECONDS,
                context=ssl.create_default_context(),
            )
        else:
            connection = smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT_SECONDS)
        with connection:
            if smtp.tls == "starttls":
                connection.starttls(context=ssl.create_default_context())
            if smtp.user:
                connection.login(smtp.user, smtp.password)
            connection.send_message(_build_message(delivery, smtp))
    except smtplib.SMTPRecipientsRefused as error:
        answers = error.recipients.values()
        text = "; ".join(f"{code} {_text(reply)}" for code, reply in answers)
        return Outcome(f"Recipient refused: {text}"[:ERROR_MAX], permanent=all(code >= 500 for code, _ in answers))
    except smtplib.SMTPDataError as error:
        return Outcome(
            f"Message refused: {error.smtp_code} {_text(error.smtp_error)}"[:ERROR_MAX],
            permanent=error.smtp_code >= 500,
        )
    except smtplib.SMTPResponseException as error:  # the server's or our configuration: worth retrying
        return Outcome(f"{type(error).__name__}: {error.smtp_code} {_text(error.smtp_error)}"[:ERROR_MAX])
    except (smtplib.SMTPException, OSError) as error:
        return Outcome((f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)[:ERROR_MAX])
    return Outcome()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _build_message(delivery: Delivery, smtp: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.mail_from
    message["To"] = delivery.to_address
    message["Subject"] = delivery.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = delivery.message_id or make_msgid(domain=smtp.mail_from.rpartition("@")[2] or None)
    message.set_content(delivery.body)
    return message


def audit_outcome(session: Session, outgoing: OutgoingEmail) -> None:
    """Logged on the chat or the record the email belongs to: it shows in that one's history."""
    if outgoing.interaction_id is not None:
        target_kind, target_id = "interaction", outgoing.interaction_id
    elif outgoing.record_id is not None:
        target_kind, target_id = "record", outgoing.record_id
    else:
        target_kind, target_id = "outgoing_email", stored_id(outgoing)
    detail = {"email_id": outgoing.id, "to": outgoing.to_address, "subject": outgoing.subject}
    if outgoing.error:
        detail["error"] = outgoing.error
    audit.record(
        session,
        action=audit.EMAIL_ACTIONS[EmailStatus(outgoing.status)],
        actor_kind="agent" if outgoing.created_by_id is not None else "system",
        actor_id=outgoing.created_by_id,
        target_kind=target_kind,
        target_id=target_id,
        **detail,
    )
