"""Left messages from the agents' side: their list and their email replies, which move the case on."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlmodel import Session, func, select

from agent_workspace.models import AgentNotice, OutgoingEmail, QueueMember, SupportRecord, utcnow
from agent_workspace.services import left_messages, records
from agent_workspace.services.email import MAX_ATTEMPTS, RETRY_DELAYS, SmtpSettings
from agent_workspace.services.errors import Conflict, NotFound, ValidationError
from agent_workspace.services.left_messages import RecordState
from tests.factories import make_customer, make_interaction, make_queue, make_user
from tests.services.helpers import fresh
from tests.services.left_message_helpers import leave, written
from tests.services.mail_helpers import free_port, work

NO_SMTP = SmtpSettings()


@pytest.fixture
def queue(session: Session):
    return make_queue(session, "Billing")


@pytest.fixture
def agent(session: Session, queue):
    user = make_user(session, "grace", display_name="Grace Hopper")
    session.add(QueueMember(queue_id=queue.id, user_id=user.id))
    session.commit()
    return user


# ---------------------------------------------------------------- the agents' list


def test_the_list_shows_the_open_messages_of_the_given_queues_oldest_first(
    session: Session, queue, agent, smtp_server
) -> None:
    _inbox, smtp = smtp_server
    other_queue = make_queue(session, "Returns")
    first = leave(session, queue, name="First")
    elsewhere = leave(session, other_queue, name="Elsewhere")
    second = leave(session, queue, name="Second", message="Where is my refund?")
    done = leave(session, queue, name="Done")
    left_messages.reply(
        session, record_id=done.record_id, user_id=agent.id, subject="Sorted", body="Done.", resolve=True
    )
    work(session, smtp)
    chat = make_interaction(session, queue=queue, customer=make_customer(session))
    records.create_from_interaction(session, interaction_id=chat.id, kind="case", created_by_id=agent.id)

    found = left_messages.open_left_messages(session, queue_ids=[queue.id])

    assert [m.record_id for m in found] == [first.record_id, second.record_id]
    latest = found[1]
    assert (latest.number, latest.queue_id, latest.queue_name) == (second.number, queue.id, "Billing")
    assert (latest.customer_name, latest.customer_email, latest.message) == (
        "Second",
        "ada@example.com",
        "Where is my refund?",
    )
    assert (latest.state, latest.replies_sent, latest.replies_queued, latest.replies_failed, latest.retry_at) == (
        "new",
        0,
        0,
        0,
        None,
    )
    assert [m.record_id for m in left_messages.open_left_messages(session, queue_ids=[other_queue.id])] == [
        elsewhere.record_id
    ]
    assert left_messages.open_left_messages(session, queue_ids=[]) == []
    assert len(left_messages.open_left_messages(session, queue_ids=[queue.id, other_queue.id], limit=2)) == 2


def test_the_list_is_one_statement_however_many_messages(session: Session, queue, agent) -> None:
    for n in range(5):
        left = leave(session, queue, name=f"Customer {n}")
        left_messages.reply(session, record_id=left.record_id, user_id=agent.id, subject="Hi", body="On it.")
    queue_id = queue.id
    session.expire_all()
    statements = []
    engine = session.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        found = left_messages.open_left_messages(session, queue_ids=[queue_id])
    finally:
        event.remove(engine, "before_cursor_execute", listener)

    assert [(m.replies_sent, m.replies_queued) for m in found] == [(0, 1)] * 5
    assert [s for s in statements if not s.startswith("BEGIN")] == [statements[-1]], statements


# ---------------------------------------------------------------- replying


def test_a_member_replies_by_email_and_the_case_moves_on(session: Session, queue, agent, smtp_server) -> None:
    inbox, smtp = smtp_server
    left = leave(session, queue)

    done = left_messages.reply(
        session,
        record_id=left.record_id,
        user_id=agent.id,
        subject=f"Re: your message {left.number}",
        body="We fixed the invoice.",
    )

    outgoing = done.email
    assert (outgoing.status, done.resolves_on_delivery) == ("queued", False)
    assert (outgoing.record_id, outgoing.created_by_id, outgoing.to_address) == (
        left.record_id,
        agent.id,
        "ada@example.com",
    )
    assert fresh(session, SupportRecord, left.record_id).state == RecordState.IN_PROGRESS  # with the queued email
    [listed] = left_messages.open_left_messages(session, queue_ids=[queue.id])
    assert (listed.replies_sent, listed.replies_queued, listed.replies_failed) == (0, 1, 0)
    work(session, smtp)
    [message] = inbox.messages()
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == f"Re: your message {left.number}"
    assert message.get_content().strip() == "We fixed the invoice."
    assert fresh(session, SupportRecord, left.record_id).state == RecordState.IN_PROGRESS
    [listed] = left_messages.open_left_messages(session, queue_ids=[queue.id])
    assert (listed.state, listed.replies_sent, listed.replies_queued, listed.replies_failed) == ("in_progress", 1, 0, 0)
    activity = records.record_activity(session, record_id=left.record_id)
    assert [(a["actor"], a["action"]) for a in activity][1:] == [
        ("Grace Hopper", "record.replied"),
        ("Grace Hopper", "email.queued"),
        ("Grace Hopper", "email.sent"),
    ]


def test_a_reply_resolves_the_case_when_it_is_delivered(session: Session, queue, agent, smtp_server) -> None:
    inbox, smtp = smtp_server
    left = leave(session, queue)

    done = left_messages.reply(
        session, record_id=left.record_id, user_id=agent.id, subject="Sorted", body="Refunded.", resolve=True
    )

    assert (done.email.status, done.resolves_on_delivery) == ("queued", True)
    assert fresh(session, SupportRecord, left.record_id).state == RecordState.IN_PROGRESS  # not answered yet
    work(session, smtp)
    record = fresh(session, SupportRecord, left.record_id)
    assert record.state == RecordState.RESOLVED
    assert record.resolution_notes == "Answered by email: Sorted"
    # Resolved with the delivery, by the delivery's transaction: the email's outcome comes first.
    activity = records.record_activity(session, record_id=left.record_id)
    assert [a["action"] for a in activity][1:] == ["record.replied", "email.queued", "email.sent", "record.resolved"]
    assert activity[-1]["actor"] == "Grace Hopper"
    assert activity[-1]["detail"] == {"state": ["in_progress", "resolved"], "email_id": done.email.id}
    assert left_messages.open_left_messages(session, queue_ids=[queue.id]) == []
    assert len(inbox.envelopes) == 1
    with pytest.raises(Conflict):
        left_messages.reply(session, record_id=left.record_id, user_id=agent.id, subject="Again", body="x")
    work(session, smtp)
    assert len(inbox.envelopes) == 1


def test_without_smtp_the_reply_is_queued_and_the_case_still_moves_on(session: Session, queue, agent) -> None:
    left = leave(session, queue)

    done = left_messages.reply(
        session, record_id=left.record_id, user_id=agent.id, subject="Hi", body="Soon.", resolve=True
    )
    work(session, NO_SMTP)

    assert fresh(session, OutgoingEmail, done.email.id).status == "queued"
    assert fresh(session, SupportRecord, left.record_id).state == RecordState.IN_PROGRESS


def test_a_reply_that_is_not_delivered_resolves_nothing_and_is_shown_as_what_it_is(
    session: Session, queue, agent
) -> None:
    """The customer never heard back: the case stays open and the list says the reply is not out."""
    unreachable = SmtpSettings(host="127.0.0.1", port=free_port(), mail_from="help@example.org")
    left = leave(session, queue)
    done = left_messages.reply(
        session, record_id=left.record_id, user_id=agent.id, subject="Sorted", body="Refunded.", resolve=True
    )
    first_at = utcnow()

    work(session, unreachable, at=first_at)
    [retrying] = left_messages.open_left_messages(session, queue_ids=[queue.id])
    for _attempt in range(1, MAX_ATTEMPTS):
        work(session, unreachable, at=fresh(session, OutgoingEmail, done.email.id).next_attempt_at)

    assert (retrying.replies_sent, retrying.replies_queued, retrying.replies_failed) == (0, 1, 0)
    assert retrying.retry_at == first_at + RETRY_DELAYS[0]
    assert fresh(session, OutgoingEmail, done.email.id).status == "failed"
    record = fresh(session, SupportRecord, left.record_id)
    assert (record.state, record.resolution_notes) == (RecordState.IN_PROGRESS, "")
    [listed] = left_messages.open_left_messages(session, queue_ids=[queue.id])
    assert (listed.replies_sent, listed.replies_queued, listed.replies_failed) == (0, 0, 1)
    assert "record.resolved" not in [a["action"] for a in records.record_activity(session, record_id=left.record_id)]
    [notice] = session.exec(select(AgentNotice)).all()
    assert notice.user_id == agent.id and notice.body.endswith(f"{left.number} stays open.")


def test_a_case_finished_before_the_reply_was_delivered_is_left_as_it_is(
    session: Session, queue, agent, smtp_server
) -> None:
    """The resolve re-reads the case when the delivery is recorded: another agent's close stands."""
    _inbox, smtp = smtp_server
    left = leave(session, queue)
    done = left_messages.reply(
        session, record_id=left.record_id, user_id=agent.id, subject="Sorted", body="Refunded.", resolve=True
    )
    records.update_record(session, record_id=left.record_id, actor_id=agent.id, state="closed")

    work(session, smtp)

    assert fresh(session, OutgoingEmail, done.email.id).status == "sent"
    assert fresh(session, SupportRecord, left.record_id).state == RecordState.CLOSED


def test_an_agent_of_another_queue_is_refused_and_nothing_is_written(
    session: Session, queue, agent, smtp_server
) -> None:
    inbox, smtp = smtp_server
    outsider = make_user(session, "mallory")
    other_queue = make_queue(session, "Returns")
    session.add(QueueMember(queue_id=other_queue.id, user_id=outsider.id))
    session.commit()
    left = leave(session, queue)
    before = written(session)

    with pytest.raises(NotFound):
        left_messages.reply(
            session, record_id=left.record_id, user_id=outsider.id, subject="Hi", body="Gotcha", resolve=True
        )

    assert written(session) == before
    assert fresh(session, SupportRecord, left.record_id).state == RecordState.NEW
    work(session, smtp)
    assert inbox.envelopes == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"subject": "  "},
        {"subject": "Hi\r\nBcc: everyone@example.com"},
        {"subject": "s" * 201},
        {"body": " \n"},
        {"body": "b" * 50_001},
        {"record_id": 404},
    ],
)
def test_a_bad_reply_writes_nothing(session: Session, queue, agent, smtp_server, overrides: dict) -> None:
    inbox, smtp = smtp_server
    left = leave(session, queue)
    before = written(session)
    fields = {
        "record_id": left.record_id,
        "user_id": agent.id,
        "subject": "Hi",
        "body": "Hello",
        "resolve": True,
    } | overrides

    with pytest.raises((ValidationError, NotFound)):
        left_messages.reply(session, **fields)

    assert written(session) == before
    assert fresh(session, SupportRecord, left.record_id).state == RecordState.NEW
    work(session, smtp)
    assert inbox.envelopes == []


def test_a_record_made_from_a_chat_is_not_a_left_message(session: Session, queue, agent) -> None:
    chat = make_interaction(session, queue=queue, customer=make_customer(session))
    record = records.create_from_interaction(session, interaction_id=chat.id, kind="case", created_by_id=agent.id)

    with pytest.raises(NotFound):
        left_messages.reply(session, record_id=record.id, user_id=agent.id, subject="Hi", body="Hello")
    assert session.exec(select(func.count()).select_from(OutgoingEmail)).one() == 0


def test_the_record_states_are_the_records_states() -> None:
    assert tuple(RecordState) == records.STATES
