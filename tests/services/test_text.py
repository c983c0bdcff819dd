"""Names and messages lose what would hide or reorder text on someone else's screen."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from agent_workspace.models import Customer, Message, SenderKind
from agent_workspace.services import conversations, text
from agent_workspace.services.errors import ValidationError
from tests.services.helpers import fresh, make_agent

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
INVISIBLE = "\u200b\u2060\ufeff\u00ad\u180e\U000e0041"
FAMILY, RAINBOW_FLAG = "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f3f3\ufe0f\u200d\U0001f308"


def start(session: Session, queue, **fields):
    values = dict(name="Ada Lovelace", email="ada@example.com", queue_id=queue.id, question="Help")
    return conversations.start_chat(session, **(values | fields))


def test_bidi_controls_and_invisible_characters_are_stripped_from_names_and_questions(session: Session, queue):
    chat = start(session, queue, name=f"Eve\u202e{INVISIBLE}gnp.exe\n\tAdmin", question=f"Pay{BIDI} me{INVISIBLE}\nnow")

    assert fresh(session, Customer, chat.customer_id).name == "Evegnp.exe Admin"  # one line
    assert chat.question == "Pay me\nnow"


def test_customer_and_agent_messages_are_stripped_but_emoji_sequences_stay_whole(session: Session, queue):
    agent = make_agent(session, "grace", queues=[queue])
    chat = start(session, queue)
    chat.state, chat.agent_id = "work_in_progress", agent.id
    session.commit()

    customer, _ = conversations.post_message(
        session,
        interaction_id=chat.id,
        sender_kind=SenderKind.CUSTOMER,
        body=f"hi{BIDI} {FAMILY} {RAINBOW_FLAG}\u200d!",
        client_id="client-0001",
    )
    reply, _ = conversations.post_message(
        session,
        interaction_id=chat.id,
        sender_kind=SenderKind.AGENT,
        sender_user_id=agent.id,
        body=f"ok\u2067{INVISIBLE}\u200dthen",
        client_id="client-0002",
    )

    assert fresh(session, Message, customer.id).body == f"hi {FAMILY} {RAINBOW_FLAG}!"  # a joiner after no emoji goes
    assert fresh(session, Message, reply.id).body == "okthen"


def test_a_message_of_nothing_but_invisible_characters_is_refused(session: Session, queue):
    chat = start(session, queue)
    with pytest.raises(ValidationError, match="cannot be empty"):
        conversations.post_message(
            session,
            interaction_id=chat.id,
            sender_kind=SenderKind.CUSTOMER,
            body=BIDI + INVISIBLE,
            client_id="client-0003",
        )


def test_size_is_checked_on_the_raw_text_before_any_clean_up(monkeypatch):
    monkeypatch.setattr(text, "strip_invisible", lambda value: pytest.fail("an oversized text reached the clean-up"))
    with pytest.raises(ValidationError, match="too long: 1,000,000 characters"):
        text.clean_text("\u200b" * 1_000_000, field="The message", limit=4000)
    with pytest.raises(ValidationError, match="must be text"):
        text.check_sizes({"Your name": (["not", "text"], 120)})


def test_ordinary_text_is_kept_as_written():
    written = "Grüße, Zoë! 日本語 עברית مرحبا 👍🏽 tab\there\nnext line"
    assert text.strip_invisible(written) == written


def test_a_zero_width_non_joiner_stays_it_is_spelling():
    """Persian writes "I want" with one; stripping it changes the word."""
    word = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    assert text.strip_invisible(f"{word}\u202e") == word
