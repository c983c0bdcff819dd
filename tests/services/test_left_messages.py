"""Leave a message: the case it creates, the confirmation, and leaving one instead of waiting;
the agents' list and their email replies are test_left_message_replies'."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from agent_workspace.models import (
    AuditLog,
    CloseReason,
    Customer,
    Interaction,
    InteractionState,
    Message,
    OutgoingEmail,
    RecordSource,
    SenderKind,
    SupportRecord,
)
from agent_workspace.services import conversations, left_messages, records
from agent_workspace.services.errors import Conflict, NotFound, ValidationError
from agent_workspace.services.events import QueueChanged
from tests.factories import make_customer, make_interaction, make_queue, make_user
from tests.services.helpers import fresh
from tests.services.left_message_helpers import leave, written
from tests.services.mail_helpers import work

# ---------------------------------------------------------------- leaving a message


def test_a_left_message_is_a_new_case_of_the_queue(session: Session, queue, announced) -> None:
    left = leave(session, queue, client_address="203.0.113.5")

    record = fresh(session, SupportRecord, left.record_id)
    customer = session.get(Customer, record.customer_id)
    assert left.number == records.record_number("case", record.id) == record.number
    assert left.number.startswith("CS000")
    assert announced.take() == [QueueChanged(queue.id)]
    assert (record.kind, record.source, record.queue_id, record.state) == (
        "case",
        RecordSource.LEFT_MESSAGE,
        queue.id,
        "new",
    )
    assert record.short_description == "My invoice is wrong."
    assert record.description == "My invoice is wrong.\nPlease call me."
    assert record.interaction_id is None and record.created_by_id is None
    assert (customer.name, customer.email, customer.client_address) == (
        "Ada Lovelace",
        "ada@example.com",
        "203.0.113.5",
    )
    [entry] = session.exec(select(AuditLog)).all()
    assert (entry.action, entry.actor_kind, entry.target_kind, entry.target_id) == (
        "record.created",
        "customer",
        "record",
        record.id,
    )


def test_the_short_description_is_the_first_line_cut_to_fit(session: Session, queue) -> None:
    left = leave(session, queue, message="  \r\n" + "x" * 300 + "\r\nsecond line\x07")

    record = fresh(session, SupportRecord, left.record_id)
    assert record.short_description == "x" * 159 + "…"
    assert record.description == "x" * 300 + "\nsecond line"  # cleaned as chat text is


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "   "},
        {"name": "\x00\x1b"},
        {"email": "not-an-address"},
        {"email": "ada@example.com\r\nBcc: everyone@example.com"},
        {"message": " \n\t "},
        {"message": 42},
        {"queue_id": 404},
        {"queue_id": "1"},
        {"queue_id": True},
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(session: Session, queue, overrides: dict) -> None:
    fields = {"queue_id": queue.id, "name": "Ada", "email": "ada@example.com", "message": "Hello"} | overrides
    before = written(session)

    with pytest.raises(ValidationError):
        left_messages.leave_message(session, **fields)

    assert written(session) == before


def test_a_closed_down_queue_takes_no_messages(session: Session, queue) -> None:
    queue.active = False
    session.add(queue)
    session.commit()

    with pytest.raises(ValidationError):
        leave(session, queue)
    assert written(session)["SupportRecord"] == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "n" * 121},
        {"email": "a" * 243 + "@example.com"},
        {"message": "m" * 4001},
        {"message": " " * 10_000_000},
    ],
)
def test_oversized_input_is_refused_before_any_clean_up(session: Session, queue, monkeypatch, overrides: dict) -> None:
    def no_clean_up(*args, **kwargs):
        raise AssertionError("oversized input reached the clean-up")

    monkeypatch.setattr(conversations, "clean_text", no_clean_up)
    monkeypatch.setattr(conversations, "validate_email", no_clean_up)

    with pytest.raises(ValidationError, match="too long"):
        leave(session, queue, **overrides)
    assert written(session)["Customer"] == 0


def test_the_limits_are_inclusive(session: Session, queue) -> None:
    left = leave(session, queue, name="n" * 120, message="m" * 4000)

    assert len(fresh(session, SupportRecord, left.record_id).description) == 4000


# ---------------------------------------------------------------- the confirmation


def test_no_confirmation_without_smtp(session: Session, queue) -> None:
    left = leave(session, queue)
    before = written(session)

    assert left_messages.send_confirmation(session, record_id=left.record_id, mail_configured=False) is None
    assert written(session) == before


def test_the_confirmation_carries_no_text_the_visitor_chose(session: Session, queue, smtp_server) -> None:
    """The address is unproven: a confirmation must not carry an attacker's words to a victim."""
    inbox, smtp = smtp_server
    left = leave(session, queue)

    outgoing = left_messages.send_confirmation(session, record_id=left.record_id, mail_configured=True)
    assert outgoing.status == "queued"
    work(session, smtp)

    assert fresh(session, OutgoingEmail, outgoing.id).status == "sent"
    assert (outgoing.record_id, outgoing.interaction_id, outgoing.created_by_id) == (left.record_id, None, None)
    [message] = inbox.messages()
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == f"We received your message ({left.number})"
    body = message.get_content()
    assert "My invoice is wrong" not in body and "Ada" not in body
    assert left.number in body and queue.name in body
    activity = records.record_activity(session, record_id=left.record_id)
    assert [(a["actor"], a["action"]) for a in activity] == [
        ("Customer", "record.created"),
        ("System", "email.queued"),
        ("System", "email.sent"),
    ]


def test_one_address_gets_at_most_three_confirmations_a_day(session: Session, queue, smtp_server) -> None:
    inbox, smtp = smtp_server
    sent = [  # the same address, however it is capitalised
        left_messages.send_confirmation(
            session, record_id=leave(session, queue, email=address).record_id, mail_configured=True
        )
        for address in ("ada@example.com", "Ada@example.com", "ada@EXAMPLE.com", "ADA@example.com", "ada@example.com")
    ]
    work(session, smtp)
    assert [email is not None for email in sent] == [True, True, True, False, False]
    assert len(inbox.messages()) == left_messages.CONFIRMATIONS_PER_ADDRESS_PER_DAY


def test_only_a_left_message_gets_a_confirmation(session: Session, queue, smtp_server) -> None:
    inbox, smtp = smtp_server
    chat = make_interaction(session, queue=queue, customer=make_customer(session))
    record = records.create_from_interaction(
        session, interaction_id=chat.id, kind="case", created_by_id=make_user(session).id
    )

    with pytest.raises(NotFound):
        left_messages.send_confirmation(session, record_id=record.id, mail_configured=True)
    work(session, smtp)
    assert inbox.envelopes == []


# ---------------------------------------------------------------- instead of waiting


def test_a_waiting_customer_leaves_a_message_instead_in_one_transaction(session: Session, announced) -> None:
    queue = make_queue(session, "Instead")
    started = conversations.start_chat(
        session,
        name="Ada",
        email="ada@example.com",
        queue_id=queue.id,
        question="Hello?",
        client_address="198.51.100.9",
    )
    left = left_messages.leave_message_instead(
        session, interaction_id=started.id, name="Ada", email="ada@example.com", message="Call me back."
    )
    session.expire_all()
    chat = session.get(Interaction, started.id)
    assert (chat.state, chat.close_reason) == (
        InteractionState.CLOSED_ABANDONED,
        CloseReason.CUSTOMER_LEFT_BEFORE_ENGAGEMENT,
    )
    assert (
        conversations.messages_after(session, interaction_id=chat.id)[-1].body
        == f"The customer left a message instead ({left.number})."
    )
    record = session.get(SupportRecord, left.record_id)
    assert (record.queue_id, record.interaction_id) == (queue.id, chat.id)
    assert record.description == f"Call me back.\n\n— Written in chat {chat.number} —\nHello?"
    assert QueueChanged(queue.id) in announced
    # Not twice: a chat that no longer waits cannot be left again, and nothing is written.
    records_before = len(session.exec(select(SupportRecord)).all())
    with pytest.raises(Conflict):
        left_messages.leave_message_instead(
            session, interaction_id=chat.id, name="Ada", email="ada@example.com", message="Again"
        )
    session.rollback()
    assert len(session.exec(select(SupportRecord)).all()) == records_before


def waiting_chat(session: Session, queue, *lines: str) -> Interaction:
    """A chat still waiting for an agent, in which the customer wrote ``lines`` (stored directly: more than the rate limit allows)."""
    chat = conversations.start_chat(
        session, name="Ada", email="ada@example.com", queue_id=queue.id, question="Is my order lost?"
    )
    for n, line in enumerate(lines):
        session.add(
            Message(
                interaction_id=chat.id, sender_kind=SenderKind.CUSTOMER, sender_name="Ada", body=line, client_id=f"c{n}"
            )
        )
    session.commit()
    return chat


def test_what_the_customer_wrote_while_waiting_goes_into_the_case(session: Session, queue) -> None:
    chat = waiting_chat(session, queue, "Order 12345.", "It was due Monday.\nStill nothing.")
    conversations.system_message(session, interaction_id=chat.id, body="A system line, not the customer's.")
    session.commit()

    left = left_messages.leave_message_instead(
        session, interaction_id=chat.id, name="Ada", email="ada@example.com", message="Please email me.\nThanks."
    )

    record = fresh(session, SupportRecord, left.record_id)
    assert record.description == (
        "Please email me.\nThanks.\n\n"
        f"— Written in chat {chat.number} —\n"
        "Is my order lost?\nOrder 12345.\nIt was due Monday.\nStill nothing."
    )
    assert record.short_description == "Please email me."
    [listed] = left_messages.open_left_messages(session, queue_ids=[queue.id])
    assert listed.message == record.description  # what the agent reads on the card


def test_the_copied_chat_is_cut_to_a_sane_size(session: Session, queue) -> None:
    chat = waiting_chat(session, queue, *(f"{n:03d} " + "x" * 3995 for n in range(4)))

    left = left_messages.leave_message_instead(
        session, interaction_id=chat.id, name="Ada", email="ada@example.com", message="See chat."
    )

    description = fresh(session, SupportRecord, left.record_id).description
    copied = description.split(" —\n", 1)[1]
    assert copied.startswith("Is my order lost?\n000 xxx")
    assert copied.endswith(f"\n… (cut: the whole chat is {chat.number})")
    assert len(copied) <= left_messages.CHAT_COPY_MAX + 60


def test_many_short_lines_are_cut_too(session: Session, queue) -> None:
    chat = waiting_chat(session, queue, *(f"line {n}" for n in range(left_messages.CHAT_COPY_MESSAGES + 1)))

    left = left_messages.leave_message_instead(
        session, interaction_id=chat.id, name="Ada", email="ada@example.com", message="See chat."
    )

    description = fresh(session, SupportRecord, left.record_id).description
    assert f"line {left_messages.CHAT_COPY_MESSAGES - 1}\n… (cut:" in description
    assert f"line {left_messages.CHAT_COPY_MESSAGES}" not in description


@pytest.mark.parametrize("address", ["josé@example.com", "a..b@example.com", "a@example.123", "a(b)@example.com"])
def test_an_address_the_mailer_refuses_is_refused_on_the_public_page(session: Session, queue, address: str) -> None:
    """Seen in review: such a message was stored, then neither confirmed nor answerable."""
    before = written(session)
    with pytest.raises(ValidationError, match="valid email address"):
        leave(session, queue, email=address)
    session.rollback()
    assert written(session) == before
