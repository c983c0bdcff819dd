"""Email to customers against a real SMTP server (aiosmtpd on localhost)."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlmodel import Session, select

from agent_workspace.models import AuditLog, OutgoingEmail
from agent_workspace.services import email as email_service
from agent_workspace.services.email import SmtpSettings
from agent_workspace.services.errors import NotFound, ValidationError
from tests.factories import add_message, make_customer, make_interaction, make_queue, make_user


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(
                envelope.content.replace(b"\r\n", b"\n"), policy=email.policy.default
            )
            for envelope in self.envelopes
        ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, SmtpSettings]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, SmtpSettings(
            host="127.0.0.1", port=controller.port, mail_from="help@example.org"
        )
    finally:
        controller.stop()


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server context with a self-signed localhost certificate the client trusts."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # read by ssl.create_default_context
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def agent(session: Session):
    return make_user(session, "grace", display_name="Grace Hopper")


@pytest.fixture
def chat(session: Session, agent):
    return make_interaction(
        session, queue=make_queue(session), customer=make_customer(session), agent=agent
    )


def send(session: Session, chat, agent, smtp: SmtpSettings | None, **overrides) -> OutgoingEmail:
    fields = {
        "to_address": "ada@example.com",
        "subject": f"Your support chat {chat.number}",
        "body": "Hello Ada,\n\nThe refund is on its way.",
    } | overrides
    return email_service.send_email(
        session, interaction_id=chat.id, created_by_id=agent.id, smtp=smtp, **fields
    )


def audit_actions(session: Session) -> list[str]:
    return [entry.action for entry in session.exec(select(AuditLog).order_by(AuditLog.id))]


def test_sends_through_smtp_and_marks_the_row_sent(session: Session, chat, agent, smtp_server):
    inbox, smtp = smtp_server

    outgoing = send(session, chat, agent, smtp)

    assert (outgoing.status, outgoing.error) == ("sent", "")
    assert outgoing.sent_at is not None
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "help@example.org"
    assert envelope.rcpt_tos == ["ada@example.com"]
    [message] = inbox.messages()
    assert message["To"] == "ada@example.com"
    assert message["From"] == "help@example.org"
    assert message["Subject"] == f"Your support chat {chat.number}"
    assert message["Message-ID"] and message["Date"]
    assert message.get_content().strip() == "Hello Ada,\n\nThe refund is on its way."
    assert audit_actions(session) == ["email.sent"]
    entry = session.exec(select(AuditLog)).one()
    assert (entry.target_kind, entry.target_id) == ("interaction", chat.id)
    assert entry.actor_id == agent.id


def test_transcript_is_appended_when_asked(session: Session, chat, agent, smtp_server) -> None:
    inbox, smtp = smtp_server
    add_message(session, chat, "Why was I charged twice?")
    add_message(session, chat, "Refund issued.", sender_kind="agent", sender_user=agent)

    outgoing = send(session, chat, agent, smtp, include_transcript=True)

    body = inbox.messages()[0].get_content()
    assert body.startswith("Hello Ada,")
    assert "Chat transcript" in body
    assert "Ada Lovelace: Why was I charged twice?" in body
    assert "Grace Hopper: Refund issued." in body
    assert outgoing.body.strip() == body.strip()


def test_non_ascii_text_arrives_intact(session: Session, chat, agent, smtp_server) -> None:
    inbox, smtp = smtp_server

    send(session, chat, agent, smtp, subject="Ihre Rückerstattung ✓", body="Grüße, Zoë")

    [message] = inbox.messages()
    assert message["Subject"] == "Ihre Rückerstattung ✓"
    assert message.get_content().strip() == "Grüße, Zoë"


def test_logs_in_when_a_user_is_configured(session: Session, chat, agent) -> None:
    logins = []

    def authenticator(server, smtp_session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        # handled=False: aiosmtpd then answers a failure with 535 itself.
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(),
        authenticator=authenticator, auth_require_tls=False,
    )
    controller.start()
    try:
        smtp = SmtpSettings(host="127.0.0.1", port=controller.port, user="bot", password="s3cret")
        assert send(session, chat, agent, smtp).status == "sent"
        wrong = SmtpSettings(host="127.0.0.1", port=controller.port, user="bot", password="nope")
        refused = send(session, chat, agent, wrong)
    finally:
        controller.stop()

    assert logins[0] == (b"bot", b"s3cret")
    assert set(logins[1:]) == {(b"bot", b"nope")}  # smtplib tries each mechanism
    assert len(inbox.envelopes) == 1
    assert refused.status == "failed" and "SMTPAuthenticationError" in refused.error


def test_starttls(session: Session, chat, agent, certificate: ssl.SSLContext) -> None:
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(),
        tls_context=certificate, require_starttls=True,
    )
    controller.start()
    try:
        smtp = SmtpSettings(host="127.0.0.1", port=controller.port, tls="starttls")
        outgoing = send(session, chat, agent, smtp)
    finally:
        controller.stop()

    assert (outgoing.status, outgoing.error) == ("sent", "")
    assert len(inbox.envelopes) == 1


def test_implicit_tls(session: Session, chat, agent, certificate: ssl.SSLContext) -> None:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), ssl_context=certificate)
    controller.start()
    try:
        smtp = SmtpSettings(host="127.0.0.1", port=controller.port, tls="ssl")
        outgoing = send(session, chat, agent, smtp)
    finally:
        controller.stop()

    assert (outgoing.status, outgoing.error) == ("sent", "")
    assert len(inbox.envelopes) == 1


def test_without_smtp_the_email_stays_queued(session: Session, chat, agent) -> None:
    outgoing = send(session, chat, agent, SmtpSettings())

    stored = session.get(OutgoingEmail, outgoing.id)
    assert (stored.status, stored.sent_at, stored.error) == ("queued", None, "")
    assert audit_actions(session) == ["email.queued"]


def test_the_environment_decides_by_default(
    session: Session, chat, agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AW_SMTP_HOST", "")

    assert send(session, chat, agent, None).status == "queued"
    assert SmtpSettings.from_settings().configured is False


def test_smtp_down_marks_the_row_failed_without_raising(session: Session, chat, agent) -> None:
    closed = SmtpSettings(host="127.0.0.1", port=free_port())

    outgoing = send(session, chat, agent, closed)

    stored = session.get(OutgoingEmail, outgoing.id)
    assert stored.status == "failed"
    assert "ConnectionRefusedError" in stored.error
    assert stored.sent_at is None
    assert audit_actions(session) == ["email.failed"]
    assert "ConnectionRefusedError" in json.loads(session.exec(select(AuditLog)).one().detail)[
        "error"
    ]


def test_an_unknown_tls_mode_fails_the_row(session: Session, chat, agent) -> None:
    outgoing = send(session, chat, agent, SmtpSettings(host="127.0.0.1", tls="tls"))

    assert outgoing.status == "failed" and "Unknown SMTP TLS mode" in outgoing.error


@pytest.mark.parametrize(
    "overrides",
    [
        {"to_address": "ada@example.com\r\nBcc: everyone@example.com"},
        {"to_address": "ada@example.com\nBcc: everyone@example.com"},
        {"subject": "Hello\r\nBcc: everyone@example.com"},
        {"subject": "Hello\nX-Injected: 1"},
        {"to_address": "not-an-address"},
        {"to_address": "ada@localhost"},
        {"to_address": "ada@example.com, bob@example.com"},
        {"to_address": "Ada <ada@example.com>"},
        {"to_address": "ada..lovelace@example.com"},
        {"to_address": "a" * 250 + "@example.com"},
        {"to_address": ""},
        {"subject": "   "},
        {"subject": "x" * 201},
        {"subject": "tab\there"},
        {"body": " \n "},
        {"body": "x" * 50_001},
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    session: Session, chat, agent, smtp_server, overrides: dict
) -> None:
    inbox, smtp = smtp_server

    with pytest.raises(ValidationError):
        send(session, chat, agent, smtp, **overrides)

    assert session.exec(select(OutgoingEmail)).all() == []
    assert audit_actions(session) == []
    assert inbox.envelopes == []


def test_limits_are_inclusive(session: Session, chat, agent) -> None:
    outgoing = send(
        session, chat, agent, SmtpSettings(),
        to_address="a" * 64 + "@" + "b" * 63 + ".example.com", subject="s" * 200, body="b" * 50_000,
    )

    assert outgoing.status == "queued"


def test_a_transcript_needs_a_chat_and_the_chat_must_exist(session: Session, agent) -> None:
    with pytest.raises(ValidationError):
        email_service.send_email(
            session, interaction_id=None, to_address="ada@example.com", subject="Hi", body="Hi",
            created_by_id=agent.id, include_transcript=True, smtp=SmtpSettings(),
        )
    with pytest.raises(NotFound):
        email_service.send_email(
            session, interaction_id=404, to_address="ada@example.com", subject="Hi", body="Hi",
            created_by_id=agent.id, smtp=SmtpSettings(),
        )


def test_compose_defaults(session: Session, chat) -> None:
    defaults = email_service.compose_defaults(session, interaction_id=chat.id)

    assert defaults["to_address"] == "ada@example.com"
    assert defaults["subject"] == f"Your support chat {chat.number}"
    assert defaults["subject"].endswith("IMS0001001")
    assert defaults["body"].startswith("Hello Ada Lovelace,")


def test_list_emails_is_per_chat(session: Session, chat, agent) -> None:
    other = make_interaction(
        session, queue=make_queue(session, "Other"),
        customer=make_customer(session, "Bob", "bob@example.com"),
    )
    first = send(session, chat, agent, SmtpSettings(), subject="First")
    send(session, other, agent, SmtpSettings(), subject="Elsewhere")
    second = send(session, chat, agent, SmtpSettings(), subject="Second")

    assert email_service.list_emails(session, interaction_id=chat.id) == [first, second]


def test_retry_sends_queued_rows_once_smtp_is_configured(
    session: Session, chat, agent, smtp_server
) -> None:
    inbox, smtp = smtp_server
    queued = [send(session, chat, agent, SmtpSettings(), subject=f"Try {n}") for n in (1, 2)]
    failed = send(session, chat, agent, SmtpSettings(host="127.0.0.1", port=free_port()))

    assert email_service.retry_queued(session, smtp=SmtpSettings()) == []
    retried = email_service.retry_queued(session, smtp=smtp)

    assert [row.id for row in retried] == [row.id for row in queued]
    assert [session.get(OutgoingEmail, row.id).status for row in queued] == ["sent", "sent"]
    assert session.get(OutgoingEmail, failed.id).status == "failed"
    assert [m["Subject"] for m in inbox.messages()] == ["Try 1", "Try 2"]
    assert email_service.retry_queued(session, smtp=smtp) == []
