"""Email to customers against a real SMTP server (aiosmtpd on localhost): queued at once,
delivered by the worker's passes (``agent_workspace.mailer``), retried with backoff."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import shutil
import socket
import sqlite3
import ssl
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlmodel import Session, select

from agent_workspace import db, mailer
from agent_workspace.models import AgentNotice, AuditLog, EmailStatus, Message, OutgoingEmail, SenderKind, utcnow
from agent_workspace.services import conversations, outbox
from agent_workspace.services import email as email_service
from agent_workspace.services.email import MAX_ATTEMPTS, RETRY_DELAYS, Outcome, SmtpSettings
from agent_workspace.services.errors import NotFound, ValidationError
from agent_workspace.services.events import AgentChanged
from agent_workspace.state.common import call_mailing
from tests.factories import add_message, make_customer, make_interaction, make_queue, make_user
from tests.services.helpers import fresh


class Inbox:
    """An aiosmtpd handler that keeps what it receives; ``answers`` (consumed in turn) refuse instead."""

    def __init__(self, answers: list[str] | None = None) -> None:
        self.envelopes = []
        self.answers = list(answers or [])
        self.received = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.answers:
            return self.answers.pop(0)
        self.envelopes.append(envelope)
        self.received.set()
        return "250 OK"

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(
                envelope.content.replace(b"\r\n", b"\n"), policy=email.policy.default
            )
            for envelope in self.envelopes
        ]


class HeldInbox(Inbox):
    """A slow mail server: it holds each message until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.entered.set()
        await asyncio.to_thread(self.release.wait)
        return await super().handle_DATA(server, session, envelope)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(handler: Inbox, **options) -> tuple[Controller, SmtpSettings]:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    return controller, SmtpSettings(host="127.0.0.1", port=controller.port, mail_from="help@example.org")


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, SmtpSettings]]:
    inbox = Inbox()
    controller, smtp = serve(inbox)
    try:
        yield inbox, smtp
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


def send(session: Session, chat, agent, **overrides) -> OutgoingEmail:
    fields = {
        "to_address": "ada@example.com",
        "subject": f"Your support chat {chat.number}",
        "body": "Hello Ada,\n\nThe refund is on its way.",
    } | overrides
    return email_service.send_email(session, interaction_id=chat.id, created_by_id=agent.id, **fields)


def work(session: Session, smtp: SmtpSettings, *, at=None) -> list:
    """One pass of the delivery worker, as the app runs it; the test's session holds no lock meanwhile."""
    session.commit()
    changes = asyncio.run(mailer.deliver_due(smtp, now=at))
    session.expire_all()
    return changes


def audit_actions(session: Session) -> list[str]:
    return [entry.action for entry in session.exec(select(AuditLog).order_by(AuditLog.id))]


# ---------------------------------------------------------------- queue, then deliver


def test_sending_queues_at_once_and_the_worker_delivers(session: Session, chat, agent, smtp_server):
    inbox, smtp = smtp_server

    outgoing = send(session, chat, agent)

    assert (outgoing.status, outgoing.attempts, inbox.envelopes) == (EmailStatus.QUEUED, 0, [])
    assert audit_actions(session) == ["email.queued"]
    assert work(session, smtp) == [AgentChanged(agent.id)]  # the agent's tabs re-read the email's state
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


# ---------------------------------------------------------------- retries


def test_smtp_down_queues_the_email_again_with_backoff(session: Session, chat, agent) -> None:
    closed = SmtpSettings(host="127.0.0.1", port=free_port())
    outgoing = send(session, chat, agent)
    now = utcnow()

    assert work(session, closed, at=now) == [AgentChanged(agent.id)]

    stored = fresh(session, OutgoingEmail, outgoing.id)
    assert (stored.status, stored.attempts, stored.sent_at) == ("queued", 1, None)
    assert "ConnectionRefusedError" in stored.error
    assert stored.next_attempt_at == now + RETRY_DELAYS[0]
    assert email_service.delivery_text(stored, configured=True).startswith(
        f"not sent yet, retrying at {stored.next_attempt_at:%H:%M} UTC: ConnectionRefusedError"
    )
    assert work(session, closed, at=now + RETRY_DELAYS[0] - timedelta(seconds=1)) == []  # not due yet
    assert fresh(session, OutgoingEmail, outgoing.id).attempts == 1
    assert audit_actions(session) == ["email.queued"]


def test_a_failing_server_is_retried_with_backoff_until_it_recovers(session: Session, chat, agent) -> None:
    inbox = Inbox(answers=["451 4.3.0 Try again later", "421 4.7.0 Too busy"])
    controller, smtp = serve(inbox)
    try:
        outgoing = send(session, chat, agent)
        now = utcnow()
        tries = []
        at = now
        for _attempt in range(3):
            work(session, smtp, at=at)
            row = fresh(session, OutgoingEmail, outgoing.id)
            tries.append((row.status, row.next_attempt_at, row.error))
            at = row.next_attempt_at
    finally:
        controller.stop()

    first, second, _third = tries
    assert first == ("queued", now + RETRY_DELAYS[0], "Message refused: 451 4.3.0 Try again later")
    assert (second[0], second[1] - first[1]) == ("queued", RETRY_DELAYS[1])
    assert "421" in second[2]
    done = fresh(session, OutgoingEmail, outgoing.id)
    assert (done.status, done.attempts, done.error) == ("sent", 3, "")
    assert len(inbox.envelopes) == 1
    assert audit_actions(session) == ["email.queued", "email.sent"]


def test_it_gives_up_after_the_last_attempt_and_tells_the_agent(session: Session, chat, agent) -> None:
    closed = SmtpSettings(host="127.0.0.1", port=free_port())
    outgoing = send(session, chat, agent, subject="Your refund")
    at = utcnow()
    for _attempt in range(MAX_ATTEMPTS):
        changes = work(session, closed, at=at)
        at = fresh(session, OutgoingEmail, outgoing.id).next_attempt_at or at

    stored = fresh(session, OutgoingEmail, outgoing.id)
    assert (stored.status, stored.attempts, stored.next_attempt_at) == ("failed", MAX_ATTEMPTS, None)
    assert changes == [AgentChanged(agent.id)]
    assert email_service.delivery_text(stored, configured=True).startswith("failed: ConnectionRefusedError")
    [notice] = session.exec(select(AgentNotice)).all()
    assert (notice.user_id, notice.level) == (agent.id, "error")
    assert notice.body.startswith("Your email to ada@example.com (“Your refund”) could not be sent: ConnectionRefusedError")
    assert audit_actions(session) == ["email.queued", "email.failed"]
    assert work(session, closed, at=at + timedelta(days=1)) == []  # never again


def test_a_refused_recipient_fails_at_once(session: Session, chat, agent) -> None:
    class NoSuchUser(Inbox):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 No such user here"

    inbox = NoSuchUser()
    controller, smtp = serve(inbox)
    try:
        outgoing = send(session, chat, agent)
        work(session, smtp)
    finally:
        controller.stop()

    stored = fresh(session, OutgoingEmail, outgoing.id)
    assert (stored.status, stored.attempts) == ("failed", 1)
    assert stored.error == "Recipient refused: 550 5.1.1 No such user here"
    assert json.loads(session.exec(select(AuditLog).order_by(AuditLog.id.desc())).first().detail)["error"] == stored.error
    assert session.exec(select(AgentNotice)).one().user_id == agent.id


def test_an_unknown_tls_mode_is_retried_once_fixed(session: Session, chat, agent) -> None:
    outgoing = send(session, chat, agent)

    work(session, SmtpSettings(host="127.0.0.1", tls="tls"))

    stored = fresh(session, OutgoingEmail, outgoing.id)
    assert stored.status == "queued" and "Unknown SMTP TLS mode" in stored.error


# ---------------------------------------------------------------- workers and crashes


def test_two_workers_never_claim_the_same_email(session: Session, chat, agent) -> None:
    rows = [send(session, chat, agent, subject=f"Mail {n}") for n in range(3)]
    session.commit()
    now = utcnow()

    with db.session_scope() as first_worker:
        first, _ = outbox.claim_due(first_worker, limit=2, now=now)
    with db.session_scope() as second_worker:
        second, _ = outbox.claim_due(second_worker, limit=10, now=now)
    with db.session_scope() as third_worker:
        third, _ = outbox.claim_due(third_worker, limit=10, now=now)

    assert [d.email_id for d in first] == [rows[0].id, rows[1].id]
    assert [d.email_id for d in second] == [rows[2].id]
    assert third == []
    assert {fresh(session, OutgoingEmail, row.id).status for row in rows} == {"sending"}


def test_workers_running_together_send_each_email_once(session: Session, chat, agent, smtp_server) -> None:
    inbox, smtp = smtp_server
    rows = [send(session, chat, agent, subject=f"Mail {n}") for n in range(12)]
    session.commit()

    async def four_workers():
        return await asyncio.gather(*(mailer.deliver_due(smtp, limit=12) for _ in range(4)))

    asyncio.run(four_workers())

    assert sorted(m["Subject"] for m in inbox.messages()) == sorted(f"Mail {n}" for n in range(12))
    assert {fresh(session, OutgoingEmail, row.id).status for row in rows} == {"sent"}


def test_an_email_left_sending_by_a_crashed_worker_is_sent_after_the_timeout(session: Session, chat, agent, smtp_server) -> None:
    inbox, smtp = smtp_server
    outgoing = send(session, chat, agent)
    session.commit()
    crashed_at = utcnow()
    with db.session_scope() as crashed_worker:
        [lost], _ = outbox.claim_due(crashed_worker, limit=1, now=crashed_at)  # and then it died

    assert work(session, smtp, at=crashed_at + outbox.SENDING_TIMEOUT - timedelta(seconds=1)) == []
    assert fresh(session, OutgoingEmail, outgoing.id).status == "sending"
    work(session, smtp, at=crashed_at + outbox.SENDING_TIMEOUT)

    stored = fresh(session, OutgoingEmail, outgoing.id)
    assert (stored.status, stored.attempts) == ("sent", 2)
    assert len(inbox.envelopes) == 1
    session.commit()
    # Had the first worker only been slow, its late answer is not recorded over the second's.
    with db.session_scope() as late:
        assert outbox.record_outcome(late, lost, Outcome("TimeoutError")) == []
    assert fresh(session, OutgoingEmail, outgoing.id).status == "sent"


def test_an_email_that_stops_its_worker_on_every_attempt_fails_in_the_end(session: Session, chat, agent, smtp_server) -> None:
    _inbox, smtp = smtp_server
    outgoing = send(session, chat, agent)
    session.commit()
    at = utcnow()
    for _attempt in range(MAX_ATTEMPTS):
        with db.session_scope() as crashing_worker:
            assert len(outbox.claim_due(crashing_worker, limit=1, now=at)[0]) == 1
        at += outbox.SENDING_TIMEOUT

    assert work(session, smtp, at=at) == [AgentChanged(agent.id)]

    stored = fresh(session, OutgoingEmail, outgoing.id)
    assert (stored.status, stored.error) == ("failed", outbox.INTERRUPTED)


def sqlite_write_lock_is_free(database_url: str) -> bool:
    """Take SQLite's write lock without waiting (no busy timeout), and let it go."""
    probe = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


async def test_a_slow_mail_server_holds_no_database_lock_and_delays_no_chat(session: Session, chat, agent, database_url) -> None:
    """While the server sits on the message, no lock is held and another chat's message is stored."""
    inbox = HeldInbox()
    controller, smtp = serve(inbox)
    other = make_interaction(session, queue=make_queue(session, "Other"), customer=make_customer(session, "Bob", "bob@example.com"))
    outgoing = send(session, chat, agent)
    session.commit()
    try:
        delivery = asyncio.create_task(mailer.deliver_due(smtp))
        await asyncio.to_thread(inbox.entered.wait)  # the SMTP conversation is under way

        got_turn = await asyncio.to_thread(db._sqlite_write_turn.acquire, blocking=False)
        assert got_turn, "the delivery holds the process's SQLite write turn"
        await asyncio.to_thread(db._sqlite_write_turn.release)
        assert sqlite_write_lock_is_free(database_url), "the delivery holds a transaction open"

        def post() -> int:
            with db.session_scope() as writing:
                message, _changes = conversations.post_message(
                    writing, interaction_id=other.id, sender_kind=SenderKind.CUSTOMER, body="Still there?", client_id="client-0001"
                )
                return message.id

        posted = await db.run_blocking(post)  # SQLite's own lock is free too, or this waits out the busy timeout
        assert not delivery.done()
        assert await mailer.deliver_due(smtp) == []  # nor does another worker take the email in flight
    finally:
        inbox.release.set()
        await asyncio.wait_for(delivery, 30)
        controller.stop()

    session.expire_all()
    assert session.get(Message, posted).body == "Still there?"
    assert session.get(OutgoingEmail, outgoing.id).status == "sent"
    assert len(inbox.envelopes) == 1


async def test_the_running_worker_sends_what_a_handler_queues(session: Session, chat, agent, smtp_server, monkeypatch) -> None:
    inbox, smtp = smtp_server
    monkeypatch.setenv("AW_SMTP_HOST", smtp.host)
    monkeypatch.setenv("AW_SMTP_PORT", str(smtp.port))
    monkeypatch.setattr(mailer, "POLL_SECONDS", 3600.0)  # only the wake can start the pass
    session.commit()
    worker = asyncio.create_task(mailer.run())
    try:
        await asyncio.sleep(0)  # the worker starts and waits
        queued = await call_mailing(
            email_service.send_email, interaction_id=chat.id, to_address="ada@example.com", subject="Woken",
            body="Hello", created_by_id=agent.id,
        )
        assert queued.status == "queued"
        assert await asyncio.to_thread(inbox.received.wait, 30)
    finally:
        worker.cancel()
    assert [m["Subject"] for m in inbox.messages()] == ["Woken"]


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
        session, chat, agent,
        to_address="a" * 64 + "@" + "b" * 63 + ".example.com", subject="s" * 200, body="b" * 50_000,
    )

    assert outgoing.status == "queued"


def test_a_transcript_needs_a_chat_and_the_chat_must_exist(session: Session, agent) -> None:
    with pytest.raises(ValidationError):
        email_service.send_email(
            session, interaction_id=None, to_address="ada@example.com", subject="Hi", body="Hi",
            created_by_id=agent.id, include_transcript=True,
        )
    with pytest.raises(NotFound):
        email_service.send_email(
            session, interaction_id=404, to_address="ada@example.com", subject="Hi", body="Hi",
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
        session, queue=make_queue(session, "Other"),
        customer=make_customer(session, "Bob", "bob@example.com"),
    )
    first = send(session, chat, agent, subject="First")
    send(session, other, agent, subject="Elsewhere")
    second = send(session, chat, agent, subject="Second")

    assert email_service.list_emails(session, interaction_id=chat.id) == [first, second]
