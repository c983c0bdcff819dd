"""Conversation messages through the real service interface: posting, limits, who may write, typing."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from agent_workspace.models import Interaction, SenderKind
from agent_workspace.services import chat_close, conversations, knowledge, routing, views
from agent_workspace.services.errors import Conflict, Forbidden, NotFound, ValidationError
from agent_workspace.services.events import InteractionChanged, MessagePosted
from tests.services.helpers import bodies, fresh, live_chat, make_agent, post, start


@pytest.fixture
def agent(session: Session, queue):
    """An Available member of ``queue`` with room for two chats."""
    return make_agent(session, "grace", queues=[queue], capacity=2)


# ------------------------------------------------------------------ messages


def test_customer_may_write_while_waiting(session: Session, queue) -> None:
    item = start(session, queue)
    message = post(session, item, "Are you there?")
    assert message.sender_kind == SenderKind.CUSTOMER
    assert message.sender_name == "Ada Lovelace"
    assert bodies(session, item, SenderKind.CUSTOMER) == ["Are you there?"]


def test_post_message_is_idempotent_by_client_id(session: Session, queue, agent, announced) -> None:
    item = live_chat(session, queue, agent)
    announced.take()
    first, follows = conversations.post_message(
        session, interaction_id=item.id, sender_kind=SenderKind.CUSTOMER, body="Hello", client_id="retry-0001"
    )
    assert follows is not None and announced.take()
    again, follows_again = conversations.post_message(
        session, interaction_id=item.id, sender_kind=SenderKind.CUSTOMER, body="Hello", client_id="retry-0001"
    )
    assert again.id == first.id
    assert (follows_again, announced.take()) == (None, [])
    assert bodies(session, item, SenderKind.CUSTOMER) == ["Hello"]
    # The same client id in another chat is another message.
    other = start(session, queue)
    post(session, other, "Hello", client_id="retry-0001")
    assert bodies(session, other, SenderKind.CUSTOMER) == ["Hello"]


def test_a_retried_send_stored_before_the_chat_ended_is_still_sent(session: Session, queue, agent, announced) -> None:
    """The page's first try was stored but its answer lost; the customer left meanwhile."""
    item = live_chat(session, queue, agent)
    first, _ = conversations.post_message(
        session, interaction_id=item.id, sender_kind=SenderKind.CUSTOMER, body="Bye", client_id="retry-0002"
    )
    chat_close.customer_end(session, interaction_id=item.id)
    announced.take()
    again, follows = conversations.post_message(
        session, interaction_id=item.id, sender_kind=SenderKind.CUSTOMER, body="Bye", client_id="retry-0002"
    )
    assert (again.id, follows, announced.take()) == (first.id, None, [])
    with pytest.raises(Conflict):
        conversations.post_message(
            session, interaction_id=item.id, sender_kind=SenderKind.CUSTOMER, body="Bye", client_id="retry-0003"
        )


def test_a_message_carries_what_it_follows(session: Session, queue, agent, announced) -> None:
    item = live_chat(session, queue, agent)
    before = post(session, item, "First")
    announced.take()
    message, follows = conversations.post_message(
        session,
        interaction_id=item.id,
        sender_kind=SenderKind.AGENT,
        sender_user_id=agent.id,
        body="Hi",
        client_id="follows-0001",
    )
    changes = announced.take()
    assert follows == before.id
    assert changes == [MessagePosted(item.id, message=changes[0].message, follows_id=before.id)]
    assert (changes[0].message.id, changes[0].message.sender_name) == (message.id, agent.display_name)


def test_post_message_idempotency_survives_a_fresh_session(session: Session, database_url, queue, agent) -> None:
    """The retry comes from another request / worker: a different Session."""
    from agent_workspace import db

    item = live_chat(session, queue, agent)
    item_id, agent_id = item.id, agent.id
    # End our read transaction: on SQLite, BEGIN IMMEDIATE holds the write lock.
    session.commit()
    with Session(db.get_engine(), expire_on_commit=False) as one:
        m1, _ = conversations.post_message(
            one,
            interaction_id=item_id,
            sender_kind=SenderKind.AGENT,
            body="Hi",
            client_id="agent-msg-1",
            sender_user_id=agent_id,
        )
    with Session(db.get_engine(), expire_on_commit=False) as two:
        m2, _ = conversations.post_message(
            two,
            interaction_id=item_id,
            sender_kind=SenderKind.AGENT,
            body="Hi",
            client_id="agent-msg-1",
            sender_user_id=agent_id,
        )
    assert m1.id == m2.id
    assert bodies(session, item, SenderKind.AGENT) == ["Hi"]


def test_message_length_limit(session: Session, queue) -> None:
    item = start(session, queue)
    assert len(post(session, item, "x" * 4000).body) == 4000
    with pytest.raises(ValidationError, match="4,001"):
        post(session, item, "x" * 4001)
    session.rollback()
    assert len(bodies(session, item, SenderKind.CUSTOMER)) == 1


@pytest.mark.parametrize("body", ["", "   ", "\n\t\n", "\x00\x07"])
def test_empty_messages_are_refused(session: Session, queue, body) -> None:
    item = start(session, queue)
    with pytest.raises(ValidationError):
        post(session, item, body)
    session.rollback()
    assert bodies(session, item, SenderKind.CUSTOMER) == []


def test_control_characters_are_stripped(session: Session, queue) -> None:
    item = start(session, queue)
    message = post(session, item, "  he\x00l\x07lo\x1b[31m\r\nsecond\tline\x08  ")
    assert message.body == "hello[31m\nsecond\tline"
    assert bodies(session, item, SenderKind.CUSTOMER) == ["hello[31m\nsecond\tline"]


def test_del_and_c1_control_characters_are_stripped(session: Session, queue) -> None:
    item = start(session, queue)
    # \x9b is the 8-bit CSI (same as ESC [), \x85 NEL, \x7f DEL: all Unicode category Cc.
    message = post(session, item, "a\x7fb\x9b31mc\x85d")
    assert message.body == "ab31mcd"


def test_whitespace_hidden_between_control_characters_is_an_empty_message(session: Session, queue) -> None:
    item = start(session, queue)
    with pytest.raises(ValidationError):
        post(session, item, "\x00   \x00")
    # Trimming happens after the control characters are gone.
    assert post(session, item, "\x00  hi  \x00").body == "hi"


@pytest.mark.parametrize("client_id", ["", "short", "has space!", "x" * 65, "ünicode-id"])
def test_a_valid_client_id_is_required(session: Session, queue, client_id) -> None:
    item = start(session, queue)
    with pytest.raises(ValidationError):
        conversations.post_message(
            session, interaction_id=item.id, sender_kind=SenderKind.CUSTOMER, body="Hi", client_id=client_id
        )


def test_post_to_an_unknown_chat_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        conversations.post_message(
            session, interaction_id=4242, sender_kind=SenderKind.CUSTOMER, body="Hi", client_id="client-0001"
        )


def test_only_the_assigned_agent_writes_in_a_live_chat(session: Session, queue, agent) -> None:
    other = make_agent(session, "linus", queues=[queue])
    waiting = start(session, queue)  # offered to one of the two: nobody may write as agent yet
    for user in (agent, other):
        with pytest.raises(Forbidden):
            post(session, waiting, "I'm on it", kind=SenderKind.AGENT, user=user)
    session.rollback()
    taker = fresh(session, Interaction, waiting.id).offered_to_id
    taker_user = agent if taker == agent.id else other
    bystander = other if taker_user is agent else agent
    routing.accept(session, user_id=taker_user.id, queue_id=queue.id)

    message = post(session, waiting, "Hello, I'm here to help", kind=SenderKind.AGENT, user=taker_user)
    assert message.sender_name == taker_user.display_name
    assert message.sender_user_id == taker_user.id
    with pytest.raises(Forbidden):
        post(session, waiting, "Let me butt in", kind=SenderKind.AGENT, user=bystander)
    with pytest.raises(Forbidden):
        post(session, waiting, "No user", kind=SenderKind.AGENT, user=None)
    session.rollback()
    assert bodies(session, waiting, SenderKind.AGENT) == ["Hello, I'm here to help"]


def test_no_messages_after_close(session: Session, queue, agent) -> None:
    item = live_chat(session, queue, agent)
    post(session, item, "Thanks!", client_id="before-close")
    chat_close.close(session, interaction_id=item.id, user_id=agent.id, save_history=True)

    for kind, user in ((SenderKind.CUSTOMER, None), (SenderKind.AGENT, agent)):
        with pytest.raises(Conflict):
            post(session, item, "One more thing", kind=kind, user=user)
    session.rollback()
    assert "One more thing" not in bodies(session, item)
    # A retried send of a message stored before the close is still a harmless no-op.
    assert post(session, item, "Thanks!", client_id="before-close").body == "Thanks!"


def test_messages_after_cursor(session: Session, queue) -> None:
    item = start(session, queue)
    other = start(session, queue)
    sent = [post(session, item, f"line {i}") for i in range(5)]
    post(session, other, "elsewhere")

    everything = conversations.messages_after(session, interaction_id=item.id)
    assert [m.body for m in everything][1:] == [f"line {i}" for i in range(5)]  # after the acknowledgement
    assert [m.id for m in everything] == sorted(m.id for m in everything)
    after = conversations.messages_after(session, interaction_id=item.id, after_id=sent[1].id)
    assert [m.body for m in after] == ["line 2", "line 3", "line 4"]
    assert conversations.messages_after(session, interaction_id=item.id, after_id=sent[-1].id) == []
    limited = conversations.messages_after(session, interaction_id=item.id, after_id=sent[0].id, limit=2)
    assert [m.body for m in limited] == ["line 1", "line 2"]


def test_a_posted_message_travels_in_its_change_with_the_id_it_follows(session: Session, queue, announced) -> None:
    item = start(session, queue)
    other = start(session, queue)
    acknowledgement = conversations.messages_after(session, interaction_id=item.id)[-1]
    announced.take()
    first, _ = conversations.post_message(
        session, interaction_id=item.id, sender_kind=SenderKind.CUSTOMER, body="first", client_id="client-posted-1"
    )
    changes = announced.take()
    post(session, other, "in another chat, in between")
    announced.take()
    second, _ = conversations.post_message(
        session, interaction_id=item.id, sender_kind=SenderKind.CUSTOMER, body="second", client_id="client-posted-2"
    )
    later = announced.take()

    [posted] = changes
    assert isinstance(posted, MessagePosted) and isinstance(posted, InteractionChanged)
    assert (posted.interaction_id, posted.follows_id) == (item.id, acknowledgement.id)
    assert (posted.message.id, posted.message.body, posted.message.sender_name) == (first.id, "first", "Ada Lovelace")
    assert later[0].follows_id == first.id  # the other chat's message is not in this chain
    conversations.post_message(
        session, interaction_id=item.id, sender_kind=SenderKind.CUSTOMER, body="first", client_id="client-posted-1"
    )
    assert announced.take() == []  # a retry changes nothing and tells nobody


def test_a_pages_send_is_stored_as_post_message_stores_it(session: Session, queue, announced) -> None:
    """``store_message`` (a page's send) returns the stored row's id and time and
    announces the same change; its retry is the stored row, with no follows_id."""
    item = start(session, queue)
    acknowledgement = conversations.messages_after(session, interaction_id=item.id)[-1]
    announced.take()
    sent = dict(interaction_id=item.id, sender_kind=SenderKind.CUSTOMER, body="hello", client_id="client-store-1")
    stored = conversations.store_message(session, **sent)
    [posted] = announced.take()
    row = conversations.messages_after(session, interaction_id=item.id, after_id=acknowledgement.id)[0]
    assert (stored.id, stored.follows_id) == (row.id, acknowledgement.id)
    assert stored.created_at.replace(tzinfo=None) == row.created_at.replace(tzinfo=None)
    assert isinstance(posted, MessagePosted) and posted.message.id == row.id and posted.follows_id == acknowledgement.id
    again = conversations.store_message(session, **sent)
    assert (again.id, again.follows_id) == (row.id, None) and announced.take() == []


# ------------------------------------------------------------------ typing


# ------------------------------------------------------------------ quick actions and articles


@pytest.mark.parametrize("body", ["/kb printer", "/KB", "/r", "/tq", "/ta note", "/", "  /kb\nprinter"])
def test_an_agent_never_sends_a_quick_action_as_a_message(session: Session, queue, agent, announced, body) -> None:
    item = live_chat(session, queue, agent)
    announced.take()
    with pytest.raises(ValidationError, match="quick action"):
        post(session, item, body, kind=SenderKind.AGENT, user=agent)
    assert bodies(session, item, SenderKind.AGENT) == []
    assert announced.take() == []


def test_slash_text_that_is_no_quick_action_is_a_message(session: Session, queue, agent) -> None:
    item = live_chat(session, queue, agent)
    post(session, item, "/etc/hosts is the file", kind=SenderKind.AGENT, user=agent)
    post(session, item, "/kb printer")  # a customer has no quick actions: their text is theirs
    assert bodies(session, item, SenderKind.AGENT) == ["/etc/hosts is the file"]
    assert bodies(session, item, SenderKind.CUSTOMER)[-1] == "/kb printer"


def test_an_article_sent_in_the_chat_carries_its_card_pushed_and_read(
    session: Session, queue, agent, announced
) -> None:
    article = knowledge.upsert_article(
        session, title="Printer offline", body="# Printer\n\nTurn the printer **off** and on again. " + "More. " * 60
    )
    session.commit()
    item = live_chat(session, queue, agent)
    announced.take()
    conversations.post_message(
        session,
        interaction_id=item.id,
        sender_kind=SenderKind.AGENT,
        sender_user_id=agent.id,
        body="This article may help",
        client_id="kb-article-0001",
        article_number=article.number,
    )
    (pushed,) = [c.message for c in announced.take() if isinstance(c, MessagePosted)]
    (read,) = [m for m in views.new_messages(session, interaction_id=item.id, after_id=0) if m.article_number]
    assert pushed == read
    assert read.article_title == "Printer offline"
    assert read.article_summary.startswith("Turn the printer off and on again. More.")  # no heading, no markup
    assert read.article_summary.endswith("…") and len(read.article_summary) <= 181

    article.published = False
    session.add(article)
    session.commit()
    (unpublished,) = [m for m in views.new_messages(session, interaction_id=item.id, after_id=0) if m.article_number]
    assert (unpublished.article_title, unpublished.body) == ("", "This article may help")  # no card: the text
