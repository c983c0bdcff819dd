"""Email to customers against a real SMTP server (aiosmtpd on localhost): composing, sending
over each kind of connection, and the input refused; the delivery worker is test_outbox's."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlmodel import Session, select

from agent_workspace.models import AuditLog, EmailStatus, OutgoingEmail, utcnow
from agent_workspace.services import email as email_service
from agent_workspace.services.email import RETRY_DELAYS, SmtpSettings
from agent_workspace.services.errors import NotFound, ValidationError
from agent_workspace.services.events import DetailsChanged
from tests.factories import add_message, make_customer, make_interaction, make_queue
from tests.services.helpers import fresh
from tests.services.mail_helpers import Inbox, audit_actions, send, serve, work


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server context with a self-signed localhost certificate the client trusts."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # read by ssl.create_default_context
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


# ---------------------------------------------------------------- queue, then deliver


def test_sending_queues_at_once_and_the_worker_delivers(session: Session, chat, agent, smtp_server):
    inbox, smtp = smtp_server

    outgoing = send(session, chat, agent)

    assert (outgoing.status, outgoing.attempts, inbox.envelopes) == (EmailStatus.QUEUED, 0, [])
    assert audit_actions(session) == ["email.queued"]
    assert work(session, smtp) == [DetailsChanged(chat.id)]  # the tabs showing the chat re-read the email's state
    stored = fresh(session, OutgoingEmail, outgoing.id)
    assert (stored.status, stored.error, stored.attempts, stored.next_attempt_at) == ("sent", "", 1, None)
    assert stored.sent_at is not None
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "help@example.org"
    assert envelope.rcpt_tos == ["ada@example.com"]
    [message] = inbox.messages()
    assert message["To"] == "ada@example.com"
    assert message["From"] == "help@example.org"
    assert message["Subject"] == f"Your support chat {chat.number}"
    assert message["Message-ID"] == stored.message_id and message["Date"]
    assert message.get_content().strip() == "Hello Ada,\n\nThe refund is on its way."
    assert audit_actions(session) == ["email.queued", "email.sent"]
    entry = session.exec(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert (entry.target_kind, entry.target_id) == ("interaction", chat.id)
    assert entry.actor_id == agent.id
    assert work(session, smtp) == [] and len(inbox.envelopes) == 1  # sent once


def test_transcript_is_appended_when_asked(session: Session, chat, agent, smtp_server) -> None:
    inbox, smtp = smtp_server
    add_message(session, chat, "Why was I charged twice?")
    add_message(session, chat, "Refund issued.", sender_kind="agent", sender_user=agent)

    outgoing = send(session, chat, agent, include_transcript=True)
    work(session, smtp)

    body = inbox.messages()[0].get_content()
    assert body.startswith("Hello Ada,")
    assert "Chat transcript" in body
    assert "Ada Lovelace: Why was I charged twice?" in body
    assert "Grace Hopper: Refund issued." in body
    assert outgoing.body.strip() == body.strip()


def test_non_ascii_text_arrives_intact(session: Session, chat, agent, smtp_server) -> None:
    inbox, smtp = smtp_server

    send(session, chat, agent, subject="Ihre Rückerstattung ✓", body="Grüße, Zoë")
    work(session, smtp)

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
    controller, smtp = serve(inbox, authenticator=authenticator, auth_require_tls=False)
    try:
        wrong = send(session, chat, agent, subject="Wrong password")
        work(session, SmtpSettings(host=smtp.host, port=smtp.port, user="bot", password="nope"))
        right = send(session, chat, agent, subject="Right password")
        later = utcnow() + RETRY_DELAYS[0]
        work(session, SmtpSettings(host=smtp.host, port=smtp.port, user="bot", password="s3cret"), at=later)
    finally:
        controller.stop()

    assert set(logins[:-2]) == {(b"bot", b"nope")}  # smtplib tries each mechanism
    assert logins[-2:] == [(b"bot", b"s3cret")] * 2
    # A refused login is the server's configuration, not the email's: it was retried once fixed.
    assert sorted(m["Subject"] for m in inbox.messages()) == ["Right password", "Wrong password"]
    assert fresh(session, OutgoingEmail, wrong.id).attempts == 2
    assert fresh(session, OutgoingEmail, right.id).status == "sent"


def test_starttls(session: Session, chat, agent, certificate: ssl.SSLContext) -> None:
    inbox = Inbox()
    controller, smtp = serve(inbox, tls_context=certificate, require_starttls=True)
    try:
        outgoing = send(session, chat, agent)
        work(session, SmtpSettings(host=smtp.host, port=smtp.port, tls="starttls"))
    finally:
        controller.stop()

    assert fresh(session, OutgoingEmail, outgoing.id).status == "sent"
    assert len(inbox.envelopes) == 1


def test_implicit_tls(session: Session, chat, agent, certificate: ssl.SSLContext) -> None:
    inbox = Inbox()
    controller, smtp = serve(inbox, ssl_context=certificate)
    try:
        outgoing = send(session, chat, agent)
        work(session, SmtpSettings(host=smtp.host, port=smtp.port, tls="ssl"))
    finally:
        controller.stop()

    assert fresh(session, OutgoingEmail, outgoing.id).status == "sent"
    assert len(inbox.envelopes) == 1


def test_without_smtp_the_email_stays_queued_until_it_is_configured(session: Session, chat, agent, smtp_server) -> None:
    inbox, smtp = smtp_server
    queued = [send(session, chat, agent, subject=f"Try {n}") for n in (1, 2)]

    assert work(session, SmtpSettings()) == []
    assert [fresh(session, OutgoingEmail, row.id).status for row in queued] == ["queued", "queued"]
    assert audit_actions(session) == ["email.queued", "email.queued"]
    assert email_service.delivery_text(queued[0], configured=False) == "queued, not sent: no mail server is configured"

    work(session, smtp)  # configured now: what waited goes out

    assert [fresh(session, OutgoingEmail, row.id).status for row in queued] == ["sent", "sent"]
    assert sorted(m["Subject"] for m in inbox.messages()) == ["Try 1", "Try 2"]


def test_the_environment_decides_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AW_SMTP_HOST", "")
    assert SmtpSettings.from_settings().configured is False
    monkeypatch.setenv("AW_SMTP_HOST", "mail.example.org")
    assert SmtpSettings.from_settings().configured is True


# ---------------------------------------------------------------- input


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
        send(session, chat, agent, **overrides)
    work(session, smtp)

    assert session.exec(select(OutgoingEmail)).all() == []
    assert audit_actions(session) == []
    assert inbox.envelopes == []


def test_limits_are_inclusive(session: Session, chat, agent) -> None:
    outgoing = send(
        session,
        chat,
        agent,
        to_address="a" * 64 + "@" + "b" * 63 + ".example.com",
        subject="s" * 200,
        body="b" * 50_000,
    )

    assert outgoing.status == "queued"


def test_a_transcript_needs_a_chat_and_the_chat_must_exist(session: Session, agent) -> None:
    with pytest.raises(ValidationError):
        email_service.send_email(
            session,
            interaction_id=None,
            to_address="ada@example.com",
            subject="Hi",
            body="Hi",
            created_by_id=agent.id,
            include_transcript=True,
        )
    with pytest.raises(NotFound):
        email_service.send_email(
            session,
            interaction_id=404,
            to_address="ada@example.com",
            subject="Hi",
            body="Hi",
            created_by_id=agent.id,
        )


def test_compose_defaults(session: Session, chat) -> None:
    defaults = email_service.compose_defaults(session, interaction_id=chat.id)

    assert defaults["to_address"] == "ada@example.com"
    assert defaults["subject"] == f"Your support chat {chat.number}"
    assert defaults["subject"].endswith("IMS0001001")
    assert defaults["body"].startswith("Hello Ada Lovelace,")


def test_list_emails_is_per_chat(session: Session, chat, agent) -> None:
    other = make_interaction(
        session,
        queue=make_queue(session, "Other"),
        customer=make_customer(session, "Bob", "bob@example.com"),
    )
    first = send(session, chat, agent, subject="First")
    send(session, other, agent, subject="Elsewhere")
    second = send(session, chat, agent, subject="Second")

    assert email_service.list_emails(session, interaction_id=chat.id) == [first, second]
