"""Chats from the customer's request on: starting, messages, typing (ending: ``chat_close``).

A message is committed before anyone is told it exists, and the client id
the sending page generated makes a retried send a no-op.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Row, bindparam, insert, label
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from agent_workspace.models import (
    OPEN_STATES,
    Customer,
    Interaction,
    InteractionState,
    Message,
    Queue,
    SenderKind,
    User,
    non_null,
    stored_id,
    utcnow,
)
from agent_workspace.services import audit, availability, canned, knowledge, routing
from agent_workspace.services import email as mail
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.errors import Conflict, Forbidden, NotFound, ValidationError
from agent_workspace.services.events import (
    DetailsChanged,
    InteractionChanged,
    MessageData,
    MessagePosted,
    QueueChanged,
    Typing,
    announce,
    signal,
)
from agent_workspace.services.queue_visibility import HIDDEN_QUEUE_REFUSAL
from agent_workspace.services.text import check_sizes, clean_text

MAX_MESSAGE_LENGTH = 4000
MAX_QUESTION_LENGTH = 1000
MAX_NAME_LENGTH = 120
MAX_COMMENT_LENGTH = 1000
# A keystroke's signal may still be on its way when that side's message is stored.
TYPING_AFTER_SEND_GRACE = timedelta(seconds=2)
EMAIL_PATTERN = re.compile(
    r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
# Messages stored per chat (the public page's budgets count attempts per tab and address).
MAX_CUSTOMER_MESSAGES_PER_WINDOW = 10
MESSAGE_RATE_WINDOW = timedelta(seconds=10)
# At most this many messages per read; the next read goes on from the page's new cursor.
MESSAGES_PER_READ = 1000
CLIENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
QUICK_ACTION_NOT_SENT = "That is a quick action, not a message: pick it from the list. It was not sent."


def validate_email(email: str) -> str:
    email = email.strip()
    # The mailer's own rule: an address accepted here can always be written to.
    if len(email) > mail.ADDRESS_MAX or not EMAIL_PATTERN.match(email) or not mail.is_address(email):
        raise ValidationError("Enter a valid email address, like name@example.com.")
    return email


def start_chat(
    session: Session, *, name: str, email: str, queue_id: int, question: str, client_address: str = ""
) -> Interaction:
    """A customer's request: validated, queued, acknowledged, then offered if someone is free."""
    customer, queue, question = new_request(
        session,
        name=name,
        email=email,
        queue_id=queue_id,
        text=question,
        field="Your question",
        limit=MAX_QUESTION_LENGTH,
        client_address=client_address,
    )
    item = Interaction(
        public_id=secrets.token_urlsafe(24),
        queue_id=stored_id(queue),
        customer_id=stored_id(customer),
        question=question,
        short_description=question[:160],
    )
    session.add(item)
    session.flush()
    item.number = f"IMS{1000 + stored_id(item):07d}"
    outlook = availability.chat_outlook(session, interaction_id=stored_id(item))
    session.add(
        Message(
            interaction_id=stored_id(item),
            sender_kind=SenderKind.SYSTEM,
            sender_name="System",
            body=_acknowledgement(customer.name, queue.name, outlook),
            client_id=f"sys-ack-{item.id}",
        )
    )
    audit.record(
        session,
        action=AuditAction.INTERACTION_REQUESTED,
        actor_kind="customer",
        target_kind="interaction",
        target_id=item.id,
        queue_id=queue.id,
    )
    announce(
        session,
        QueueChanged(stored_id(queue)),
        InteractionChanged(stored_id(item)),
        *(DetailsChanged(chat_id) for chat_id in _open_chats_from(session, customer.email)),
    )
    session.commit()
    routing.drain(session, queue_id=queue.id)
    return item


def _open_chats_from(session: Session, email: str) -> list[int]:
    """The chats an agent works on from this email address: their "earlier
    interactions" list, which the agent sees, gains the new chat."""
    return list(
        session.exec(
            select(non_null(Interaction.id))
            .join(Customer, col(Customer.id) == col(Interaction.customer_id))
            .where(
                Customer.email == email,
                col(Interaction.state).in_(OPEN_STATES),
                col(Interaction.agent_id).is_not(None),
            )
        )
    )


def new_request(
    session: Session, *, name: str, email: str, queue_id: int, text: str, field: str, limit: int, client_address: str
) -> tuple[Customer, Queue, str]:
    """Who asks what of which queue, from the public page (a chat or a message
    left): refused by size before any clean-up, validated; the customer is added
    to the session (no commit). The public page spends the address's budget
    (``budgets.Budget.REQUEST``) before it calls this."""
    check_sizes({"Your name": (name, MAX_NAME_LENGTH), "Your email": (email, 254), field: (text, limit)})
    name = clean_text(name, field="Your name", limit=MAX_NAME_LENGTH, single_line=True)
    email = validate_email(email)
    text = clean_text(text, field=field, limit=limit)
    queue = session.get(Queue, queue_id) if isinstance(queue_id, int) and not isinstance(queue_id, bool) else None
    if queue is None or not queue.active:
        raise ValidationError("Choose what you need help with from the list.")
    if not queue.public:
        raise ValidationError(HIDDEN_QUEUE_REFUSAL)
    customer = Customer(name=name, email=email, client_address=client_address[:64])
    session.add(customer)
    session.flush()
    return customer, queue, text


def _acknowledgement(name: str, queue_name: str, outlook: availability.Outlook | None) -> str:
    """The first line of the chat: it promises only what the queue can keep."""
    if outlook is not None and outlook.status in (availability.Availability.NOBODY, availability.Availability.CLOSED):
        return (
            f"Thanks, {name}. Your request to {queue_name} is in the queue, but nobody is available right now. "
            "You can keep waiting or leave a message, and we'll reply by email."
        )
    return f"Thanks, {name}. Your request to {queue_name} is in the queue: an agent will be with you shortly."


def _recent_customer_messages(session: Session, interaction_id: int) -> int:
    params = {"interaction_id": interaction_id, "since": utcnow() - MESSAGE_RATE_WINDOW}
    return session.connection().execute(_RECENT_CUSTOMER_MESSAGES, params).scalar_one()


def interaction_by_public_id(session: Session, public_id: str) -> Interaction:
    if not public_id or len(public_id) > 64:
        raise NotFound("That chat does not exist.")
    item = session.exec(select(Interaction).where(Interaction.public_id == public_id)).first()
    if item is None:
        raise NotFound("That chat does not exist.")
    return item


# The statements of post_message, built once: building one costs more than running it.
_CHAT = (
    sa_select(
        col(Interaction.state),
        col(Interaction.customer_ended_at),
        col(Interaction.agent_id),
        label("customer_name", col(Customer.name)),
        label("agent_name", col(User.display_name)),
    )
    .join(Customer, col(Customer.id) == col(Interaction.customer_id))
    .outerjoin(User, col(User.id) == bindparam("sender_user_id"))
    .where(col(Interaction.id) == bindparam("interaction_id"))
)
_CHAT_FOR_UPDATE = _CHAT.with_for_update(of=Interaction)
_RECENT_CUSTOMER_MESSAGES = sa_select(func.count()).where(
    col(Message.interaction_id) == bindparam("interaction_id"),
    col(Message.sender_kind) == SenderKind.CUSTOMER,
    col(Message.created_at) >= bindparam("since"),
)
_LAST_MESSAGE_ID = sa_select(func.max(Message.id)).where(col(Message.interaction_id) == bindparam("interaction_id"))
_INSERT_MESSAGE = insert(Message).returning(non_null(Message.id))


class Posted(NamedTuple):
    """A message ``post_message`` stored (or found stored: a retry), and the id of
    the chat's message it follows when it was stored just now: the sender's page
    moves its cursor past its own message only if it was at ``follows_id``."""

    message: Message
    follows_id: int | None


class Stored(NamedTuple):
    """What a sending page needs of ``store_message``'s message: its id and time,
    and ``follows_id`` as in ``Posted``."""

    id: int
    created_at: datetime
    follows_id: int | None


def post_message(
    session: Session,
    *,
    interaction_id: int,
    sender_kind: SenderKind,
    body: str,
    client_id: str,
    sender_user_id: int | None = None,
    attachment_id: int | None = None,
    article_number: str | None = None,
) -> Posted:
    """Store one message once. A customer may write while waiting; an agent only in their own live chat,
    and never a quick action ("/kb printer") typed out: that is a command, not words for the customer.

    The hot path of the product, so it is a handful of plain statements: read
    and lock the chat with both names in one, insert, commit. A retried send
    (same client id) returns the stored message, with no ``follows_id``.
    """
    message, follows_id = _store(
        session,
        interaction_id=interaction_id,
        sender_kind=sender_kind,
        body=body,
        client_id=client_id,
        sender_user_id=sender_user_id,
        attachment_id=attachment_id,
        article_number=article_number,
    )
    return Posted(message if isinstance(message, Message) else Message(**message), follows_id)


def store_message(session: Session, **message: Any) -> Stored:
    """``post_message`` for a page's send (same arguments), without building the
    ORM row it returns: a page needs only the id and the time, and building the
    row cost a sixth of storing the message."""
    stored, follows_id = _store(session, **message)
    if isinstance(stored, Message):
        return Stored(stored_id(stored), stored.created_at, follows_id)
    return Stored(stored["id"], stored["created_at"], follows_id)


def _store(
    session: Session,
    *,
    interaction_id: int,
    sender_kind: SenderKind,
    body: str,
    client_id: str,
    sender_user_id: int | None = None,
    attachment_id: int | None = None,
    article_number: str | None = None,
) -> tuple[Message | dict[str, Any], int | None]:
    """``post_message``'s work: the message found stored (a retry) or the values of
    the row it inserted (its id included), and ``follows_id``."""
    if not CLIENT_ID_PATTERN.match(client_id or ""):
        raise ValidationError("The message has no valid client id.")
    body = clean_text(body, field="The message", limit=MAX_MESSAGE_LENGTH)
    if sender_kind == SenderKind.AGENT and canned.is_command(body):
        raise ValidationError(QUICK_ACTION_NOT_SENT)
    chat = _lock_chat(session, interaction_id, sender_user_id=sender_user_id)
    try:
        sender_name = _sender_name(session, chat, interaction_id, sender_kind, sender_user_id)
    except (Conflict, Forbidden, ValidationError):
        stored = _stored_message(session, interaction_id, client_id)
        if stored is not None:  # a retry of a send that was stored before the chat ended
            return stored, None
        raise
    # Under the chat's lock nothing else writes in this chat: the last id is the one this message follows.
    conn = session.connection()
    follows_id = conn.execute(_LAST_MESSAGE_ID, {"interaction_id": interaction_id}).scalar_one()
    values: dict[str, Any] = dict(
        interaction_id=interaction_id,
        sender_kind=sender_kind,
        sender_user_id=sender_user_id,
        sender_name=sender_name,
        body=body,
        client_id=client_id,
        attachment_id=attachment_id,
        article_number=article_number,
        created_at=utcnow(),
    )
    try:
        message_id = conn.execute(_INSERT_MESSAGE, values).scalar_one()
    except IntegrityError:  # the same send again, or raced in from another worker
        session.rollback()
        stored = _stored_message(session, interaction_id, client_id)
        if stored is None:  # not a send stored before: some other constraint refused the row
            raise
        return stored, None
    if attachment_id is not None:  # a file's details are read with the message
        announce(session, InteractionChanged(interaction_id))
    else:
        data = MessageData(
            id=message_id,
            sender_kind=sender_kind,
            sender_name=sender_name,
            body=body,
            client_id=client_id,
            created_at=values["created_at"],
            article_number=article_number or "",
            sender_user_id=sender_user_id,
        )
        if article_number:
            data = with_article_cards(session, [data])[0]
        announce(session, MessagePosted(interaction_id, message=data, follows_id=follows_id or 0))
    session.commit()
    values["id"] = message_id
    return values, follows_id or 0


# A chat as ``_lock_chat`` reads it: state, customer_ended_at, agent_id,
# customer_name and agent_name (None when the sender is not a user).
_ChatRow = Row[str, datetime | None, int | None, str, str | None]


def _lock_chat(session: Session, interaction_id: int, *, sender_user_id: int | None) -> _ChatRow:
    """The chat's state, both names, locked until commit: one chat's messages are
    then stored one at a time, so their ids follow commit order and a page's
    cursor (the highest id it holds) never jumps over a message still being
    written. SQLite writers are serialised already."""
    statement = _CHAT_FOR_UPDATE if routing.is_postgres(session) else _CHAT
    chat = (
        session.connection()
        .execute(statement, {"interaction_id": interaction_id, "sender_user_id": sender_user_id or 0})
        .first()
    )
    if chat is None:
        raise NotFound("That chat does not exist.")
    return chat


def _sender_name(
    session: Session, chat: _ChatRow, interaction_id: int, sender_kind: SenderKind, sender_user_id: int | None
) -> str:
    """Who is writing, once they may write here."""
    if chat.state not in OPEN_STATES or chat.customer_ended_at is not None:
        raise Conflict("This chat has ended; the message was not sent.")
    if sender_kind == SenderKind.AGENT:
        if chat.state != InteractionState.WORK_IN_PROGRESS or chat.agent_id != sender_user_id:
            raise Forbidden("Only the agent assigned to this chat can write in it.")
        return chat.agent_name
    if sender_kind == SenderKind.CUSTOMER:
        if _recent_customer_messages(session, interaction_id) >= MAX_CUSTOMER_MESSAGES_PER_WINDOW:
            raise ValidationError("Slow down: you are sending messages too fast. Wait a few seconds and retry.")
        return chat.customer_name
    return "System"


def _stored_message(session: Session, interaction_id: int, client_id: str) -> Message | None:
    return session.exec(
        select(Message).where(Message.interaction_id == interaction_id, Message.client_id == client_id)
    ).first()


def with_article_cards(session: Session, messages: list[MessageData]) -> list[MessageData]:
    """The messages that sent an article carry its card (one more statement, only when there are any)."""
    cards = knowledge.article_cards(session, {m.article_number for m in messages if m.article_number})
    if not cards:
        return messages
    return [
        replace(m, article_title=card.title, article_summary=card.summary)
        if (card := cards.get(m.article_number)) is not None
        else m
        for m in messages
    ]


def system_message(session: Session, *, interaction_id: int, body: str) -> Message:
    """A line both sides see (joins, transfers, endings); no commit."""
    message = Message(
        interaction_id=interaction_id,
        sender_kind=SenderKind.SYSTEM,
        sender_name="System",
        body=body,
        client_id=f"sys-{secrets.token_hex(8)}",
    )
    session.add(message)
    return message


def messages_after(
    session: Session, *, interaction_id: int, after_id: int = 0, limit: int = MESSAGES_PER_READ
) -> list[Message]:
    """The resync cursor: everything after the last message a page holds."""
    return list(
        session.exec(
            select(Message)
            .where(Message.interaction_id == interaction_id, col(Message.id) > after_id)
            .order_by(col(Message.id))
            .limit(limit)
        )
    )


def signal_typing(
    session: Session, *, interaction_id: int, sender_kind: SenderKind, user_id: int | None = None
) -> bool:
    """Tell the chat's other side that this side is typing (False: the signal was
    dropped). A read, never a write: typing is not history, and a write here
    would queue behind the chat's messages for the lock. A signal that arrives
    just after that side's own message is a keystroke of the text it already
    sent: it is dropped, so "typing…" does not linger after a send."""
    item = session.execute(
        sa_select(col(Interaction.state), col(Interaction.agent_id)).where(col(Interaction.id) == interaction_id)
    ).first()
    if item is None or item.state not in OPEN_STATES:
        return False
    if sender_kind == SenderKind.AGENT and item.agent_id != user_id:
        raise Forbidden("Not your chat.")
    last_sent = session.exec(
        select(Message.created_at)
        .where(Message.interaction_id == interaction_id, Message.sender_kind == sender_kind)
        .order_by(col(Message.id).desc())
        .limit(1)
    ).first()
    if last_sent is not None and utcnow() - last_sent < TYPING_AFTER_SEND_GRACE:
        return False
    signal(Typing(interaction_id, sender_kind))
    return True
