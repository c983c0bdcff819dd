"""The delivery worker (``agent_workspace.mailer``, ``services.outbox``) against a real SMTP server:
retries with backoff, claims that two workers never share, crashed workers, and no lock held
while a slow server answers."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import timedelta

from sqlmodel import Session, select

from agent_workspace import db, mailer
from agent_workspace.models import AgentNotice, AuditLog, Message, OutgoingEmail, SenderKind, utcnow
from agent_workspace.services import conversations, outbox
from agent_workspace.services import email as email_service
from agent_workspace.services.email import MAX_ATTEMPTS, RETRY_DELAYS, Outcome, SmtpSettings
from agent_workspace.services.events import AgentChanged, DetailsChanged
from agent_workspace.state.common import run_action_then_mail
from tests.announced import hearing
from tests.factories import make_customer, make_interaction, make_queue
from tests.services.helpers import fresh
from tests.services.mail_helpers import HeldInbox, Inbox, audit_actions, free_port, send, serve, work

# ---------------------------------------------------------------- retries


def test_smtp_down_queues_the_email_again_with_backoff(session: Session, chat, agent) -> None:
    closed = SmtpSettings(host="127.0.0.1", port=free_port())
    outgoing = send(session, chat, agent)
    now = utcnow()

    assert work(session, closed, at=now) == [DetailsChanged(chat.id)]  # the chat shows the retry

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
    assert changes == [AgentChanged(agent.id), DetailsChanged(chat.id)]  # the notice, and the chat's email list
    assert email_service.delivery_text(stored, configured=True).startswith("failed: ConnectionRefusedError")
    [notice] = session.exec(select(AgentNotice)).all()
    assert (notice.user_id, notice.level) == (agent.id, "error")
    assert notice.body.startswith(
        "Your email to ada@example.com (“Your refund”) could not be sent: ConnectionRefusedError"
    )
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
    assert (
        json.loads(session.exec(select(AuditLog).order_by(AuditLog.id.desc())).first().detail)["error"] == stored.error
    )
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
        first = outbox.claim_due(first_worker, limit=2, now=now)
    with db.session_scope() as second_worker:
        second = outbox.claim_due(second_worker, limit=10, now=now)
    with db.session_scope() as third_worker:
        third = outbox.claim_due(third_worker, limit=10, now=now)

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


def test_an_email_left_sending_by_a_crashed_worker_is_sent_after_the_timeout(
    session: Session, chat, agent, smtp_server
) -> None:
    inbox, smtp = smtp_server
    outgoing = send(session, chat, agent)
    session.commit()
    crashed_at = utcnow()
    with db.session_scope() as crashed_worker:
        [lost] = outbox.claim_due(crashed_worker, limit=1, now=crashed_at)  # and then it died

    assert work(session, smtp, at=crashed_at + outbox.SENDING_TIMEOUT - timedelta(seconds=1)) == []
    assert fresh(session, OutgoingEmail, outgoing.id).status == "sending"
    work(session, smtp, at=crashed_at + outbox.SENDING_TIMEOUT)

    stored = fresh(session, OutgoingEmail, outgoing.id)
    assert (stored.status, stored.attempts) == ("sent", 2)
    assert len(inbox.envelopes) == 1
    session.commit()
    # Had the first worker only been slow, its late answer is not recorded over the second's.
    with hearing() as heard, db.session_scope() as late:
        outbox.record_outcome(late, lost, Outcome("TimeoutError"))
    assert heard == []
    assert fresh(session, OutgoingEmail, outgoing.id).status == "sent"


def test_an_email_that_stops_its_worker_on_every_attempt_fails_in_the_end(
    session: Session, chat, agent, smtp_server
) -> None:
    _inbox, smtp = smtp_server
    outgoing = send(session, chat, agent)
    session.commit()
    at = utcnow()
    for _attempt in range(MAX_ATTEMPTS):
        with db.session_scope() as crashing_worker:
            assert len(outbox.claim_due(crashing_worker, limit=1, now=at)) == 1
        at += outbox.SENDING_TIMEOUT

    assert work(session, smtp, at=at) == [AgentChanged(agent.id), DetailsChanged(chat.id)]

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


def write_turn_is_free() -> bool:
    """Taken and given back in one thread: the turn is a re-entrant lock, owned by
    the thread that takes it (released from another, it stays held, and every
    later writer waits for ever)."""
    if not db._sqlite_write_turn.acquire(blocking=False):
        return False
    db._sqlite_write_turn.release()
    return True


async def test_a_slow_mail_server_holds_no_database_lock_and_delays_no_chat(
    session: Session, chat, agent, database_url
) -> None:
    """While the server sits on the message, no lock is held and another chat's message is stored."""
    inbox = HeldInbox()
    controller, smtp = serve(inbox)
    other = make_interaction(
        session, queue=make_queue(session, "Other"), customer=make_customer(session, "Bob", "bob@example.com")
    )
    outgoing = send(session, chat, agent)
    session.commit()
    try:
        delivery = asyncio.create_task(mailer.deliver_due(smtp))
        await asyncio.to_thread(inbox.entered.wait)  # the SMTP conversation is under way

        assert await asyncio.to_thread(write_turn_is_free), "the delivery holds the process's SQLite write turn"
        assert sqlite_write_lock_is_free(database_url), "the delivery holds a transaction open"

        def post() -> int:
            with db.session_scope() as writing:
                message, _follows = conversations.post_message(
                    writing,
                    interaction_id=other.id,
                    sender_kind=SenderKind.CUSTOMER,
                    body="Still there?",
                    client_id="client-0001",
                )
                return message.id

        posted = await db.run_blocking(post)  # SQLite's own lock is free too, or this waits out the busy timeout
        assert not delivery.done()
        assert await mailer.deliver_due(smtp) == 0  # nor does another worker take the email in flight
    finally:
        inbox.release.set()
        await asyncio.wait_for(delivery, 30)
        controller.stop()

    session.expire_all()
    assert session.get(Message, posted).body == "Still there?"
    assert session.get(OutgoingEmail, outgoing.id).status == "sent"
    assert len(inbox.envelopes) == 1


async def test_the_running_worker_sends_what_a_handler_queues(
    session: Session, chat, agent, smtp_server, monkeypatch
) -> None:
    inbox, smtp = smtp_server
    monkeypatch.setenv("AW_SMTP_HOST", smtp.host)
    monkeypatch.setenv("AW_SMTP_PORT", str(smtp.port))
    monkeypatch.setattr(mailer, "POLL_SECONDS", 3600.0)  # only the wake can start the pass
    session.commit()
    worker = asyncio.create_task(mailer.run())
    try:
        await asyncio.sleep(0)  # the worker starts and waits
        queued = await run_action_then_mail(
            email_service.send_email,
            interaction_id=chat.id,
            to_address="ada@example.com",
            subject="Woken",
            body="Hello",
            created_by_id=agent.id,
        )
        assert queued.status == "queued"
        assert await asyncio.to_thread(inbox.received.wait, 30)
    finally:
        worker.cancel()
    assert [m["Subject"] for m in inbox.messages()] == ["Woken"]
