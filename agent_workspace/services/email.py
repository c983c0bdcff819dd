"""Email to customers: compose, send over SMTP, and keep every message in an outbox.

Every email is first written to ``outgoing_email``, so nothing is ever silently
dropped: without SMTP configured it stays "queued" (and ``retry_queued`` sends
it later), and a delivery error marks it "failed" with the reason instead of
raising at the agent.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlmodel import Session, select

from agent_workspace.config import Settings, settings
from agent_workspace.models import Customer, Interaction, OutgoingEmail, SupportRecord, utcnow
from agent_workspace.services import audit
from agent_workspace.services.errors import NotFound, ValidationError
from agent_workspace.services.transcripts import transcript_text

SMTP_TIMEOUT_SECONDS = 15
TLS_MODES = ("none", "starttls", "ssl")
ADDRESS_MAX = 254
SUBJECT_MAX = 200
BODY_MAX = 50_000
ERROR_MAX = 1000

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
    smtp: SmtpSettings | None = None,
    record_id: int | None = None,
) -> OutgoingEmail:
    """Write the email to the outbox and, if SMTP is configured, deliver it now.

    Raises ``ValidationError`` (and writes nothing) for bad input; a delivery
    problem is never raised: the returned row says "failed" and why.
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
    smtp = smtp or SmtpSettings.from_settings()

    outgoing = OutgoingEmail(
        interaction_id=interaction_id,
        record_id=record_id,
        to_address=to_address,
        subject=subject,
        body=body,
        created_by_id=created_by_id,
    )
    session.add(outgoing)
    if not smtp.configured:
        session.flush()
        _audit_outcome(session, outgoing)
        session.commit()
        return outgoing

    # Commit the queued row before talking to the server: the outbox survives a
    # crash mid-send, and no database lock is held for the SMTP round trip.
    message = _build_message(outgoing, smtp)
    session.commit()
    _deliver_and_record(session, outgoing, message, smtp)
    return outgoing


def list_emails(session: Session, *, interaction_id: int) -> list[OutgoingEmail]:
    """The emails sent (or waiting) for one chat, oldest first."""
    return list(
        session.exec(
            select(OutgoingEmail)
            .where(OutgoingEmail.interaction_id == interaction_id)
            .order_by(OutgoingEmail.id)
        ).all()
    )


def retry_queued(session: Session, *, smtp: SmtpSettings) -> list[OutgoingEmail]:
    """Deliver everything still queued, oldest first; returns the rows tried.

    For when SMTP has just been configured. Each row is committed on its own
    so one bad address does not hold back the rest.
    """
    if not smtp.configured:
        return []
    queued = list(
        session.exec(
            select(OutgoingEmail)
            .where(OutgoingEmail.status == "queued")
            .order_by(OutgoingEmail.id)
        ).all()
    )
    messages = [_build_message(outgoing, smtp) for outgoing in queued]
    session.commit()  # end the read so no lock is held while sending
    for outgoing, message in zip(queued, messages):
        _deliver_and_record(session, outgoing, message, smtp)
    return queued


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
        raise ValidationError(
            f"The subject can be at most {SUBJECT_MAX} characters, without control characters."
        )
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


def _build_message(outgoing: OutgoingEmail, smtp: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.mail_from
    message["To"] = outgoing.to_address
    message["Subject"] = outgoing.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=smtp.mail_from.rpartition("@")[2] or None)
    message.set_content(outgoing.body)
    return message


def _deliver_and_record(
    session: Session, outgoing: OutgoingEmail, message: EmailMessage, smtp: SmtpSettings
) -> None:
    error = _deliver(message, smtp)
    if error is None:
        outgoing.status = "sent"
        outgoing.sent_at = utcnow()
        outgoing.error = ""
    else:
        outgoing.status = "failed"
        outgoing.error = error[:ERROR_MAX]
    session.add(outgoing)
    _audit_outcome(session, outgoing)
    session.commit()


def _deliver(message: EmailMessage, smtp: SmtpSettings) -> str | None:
    """Send one message; the error text on failure, ``None`` on success."""
    if smtp.tls not in TLS_MODES:
        return f"Unknown SMTP TLS mode “{smtp.tls}” (use one of: {', '.join(TLS_MODES)})."
    try:
        if smtp.tls == "ssl":
            connection = smtplib.SMTP_SSL(
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
            connection.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return None


def _audit_outcome(session: Session, outgoing: OutgoingEmail) -> None:
    """Logged on the chat or the record the email belongs to: it shows in that one's history."""
    if outgoing.interaction_id is not None:
        target_kind, target_id = "interaction", outgoing.interaction_id
    elif outgoing.record_id is not None:
        target_kind, target_id = "record", outgoing.record_id
    else:
        target_kind, target_id = "outgoing_email", outgoing.id
    detail = {"email_id": outgoing.id, "to": outgoing.to_address, "subject": outgoing.subject}
    if outgoing.error:
        detail["error"] = outgoing.error
    audit.record(
        session,
        action=f"email.{outgoing.status}",
        actor_kind="agent" if outgoing.created_by_id is not None else "system",
        actor_id=outgoing.created_by_id,
        target_kind=target_kind,
        target_id=target_id,
        **detail,
    )
