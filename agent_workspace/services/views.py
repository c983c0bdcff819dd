"""Read models: everything one agent's or one customer's page shows, in one call.

The state layer copies these into vars; a realtime push simply asks again
with the page's cursors, so a refresh can never lose or duplicate a message.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Result, bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from agent_workspace.models import (
    AgentNotice,
    Attachment,
    ClientConnection,
    Customer,
    Interaction,
    InteractionState,
    Message,
    Queue,
    User,
    non_null,
    stored_id,
)
from agent_workspace.services import audit, audit_words, conversations, email, records, routing, transfers
from agent_workspace.services.conversations import MESSAGES_PER_READ
from agent_workspace.services.events import MessageData
from agent_workspace.services.inbox import InboxCard, cards_for, cards_for_many


@dataclass(frozen=True)
class RecordData:
    id: int
    kind: str
    number: str
    short_description: str
    description: str
    priority: int
    state: str
    resolution_notes: str
    escalation_level: int
    escalation_group: str
    activity: list[str]


@dataclass(frozen=True)
class EmailData:
    to_address: str
    subject: str
    status: str  # as the agent is told it (``email.delivery_text``)
    created_at: datetime


@dataclass(frozen=True)
class InteractionData:
    id: int
    number: str
    public_id: str
    state: str
    close_reason: str
    queue_id: int
    queue_name: str
    customer_name: str
    customer_email: str
    question: str
    short_description: str
    category: str
    priority: int
    work_notes: str
    requested_at: datetime
    accepted_at: datetime | None
    closed_at: datetime | None
    wait_seconds: int | None
    customer_ended: bool
    agent_name: str
    transfer_note: str
    earlier_interactions: list[EarlierInteraction]
    new_messages: list[MessageData] = field(default_factory=list)
    records: list[RecordData] = field(default_factory=list)
    emails: list[EmailData] = field(default_factory=list)
    transfer_pending_to: str = ""
    rated: bool = False


@dataclass(frozen=True)
class AgentSnapshot:
    user_id: int
    display_name: str
    presence: str
    capacity: int
    active_chats: int
    after_hours: bool  # offered chats of closed queues too
    queue_names: list[str]
    queue_ids: list[int]
    has_notices: bool
    inbox: list[InboxCard]
    transfer_offers: list[InteractionData]
    open_ids: list[int]  # every chat the agent has open, oldest accept first
    open_interactions: list[InteractionData]  # those of them read in full
    version: int  # audit.change_version of the read


# The messages after a page's cursor with their files, in one statement built
# once: every page refresh runs it.
_NEW_MESSAGES = (
    sa_select(
        non_null(Message.id),
        col(Message.sender_kind),
        col(Message.sender_name),
        col(Message.body),
        col(Message.client_id),
        col(Message.created_at),
        col(Message.article_number),
        col(Message.sender_user_id),
        col(Attachment.public_id),  # the three of the file are None without one (the outer join)
        col(Attachment.filename),
        col(Attachment.content_type),
    )
    .outerjoin(Attachment, col(Attachment.id) == col(Message.attachment_id))
    .where(col(Message.interaction_id) == bindparam("interaction_id"), col(Message.id) > bindparam("after_id"))
    .order_by(col(Message.id))
    .limit(MESSAGES_PER_READ)
)


def new_messages(session: Session, *, interaction_id: int, after_id: int) -> list[MessageData]:
    """What a page that holds messages up to ``after_id`` has not got yet."""
    # Eleven columns: SQLAlchemy's select types a row of ten as ten and a tail of any more, so the row is typed here.
    rows: Result[int, str, str, str, str, datetime, str | None, int | None, str | None, str | None, str | None] = (
        session.connection().execute(_NEW_MESSAGES, {"interaction_id": interaction_id, "after_id": after_id})
    )
    found = [
        MessageData(
            id=id_,
            sender_kind=sender_kind,
            sender_name=sender_name,
            body=body,
            client_id=client_id,
            created_at=created_at,
            attachment_public_id=public_id or "",
            attachment_name=filename or "",
            attachment_type=content_type or "",
            article_number=article_number or "",
            sender_user_id=sender_user_id,
        )
        for id_, sender_kind, sender_name, body, client_id, created_at, article_number, sender_user_id, public_id, filename, content_type in rows
    ]
    return conversations.with_article_cards(session, found)


def _activity_line(line: audit_words.HistoryLine) -> str:
    return f"{line.at:%Y-%m-%d %H:%M} · {line.text}"


def _records(session: Session, interaction_id: int) -> list[RecordData]:
    """The chat's cases and incidents, each with its activity in words: the audit rows
    of all of them, and the names behind those rows, in one statement each."""
    found = records.list_for_interaction(session, interaction_id=interaction_id)
    entries = audit_words.entries_about(session, target_kind="record", target_ids=[stored_id(r) for r in found])
    activity: dict[int, list[str]] = {stored_id(r): [] for r in found}
    for entry, line in zip(entries, audit_words.describe(session, entries, here=("interaction", interaction_id))):
        if entry.target_id is not None:  # always set: the rows were read by their target ids
            activity[entry.target_id].append(_activity_line(line))
    return [
        RecordData(
            id=stored_id(r),
            kind=r.kind,
            number=r.number or "",
            short_description=r.short_description,
            description=r.description,
            priority=r.priority,
            state=r.state,
            resolution_notes=r.resolution_notes,
            escalation_level=r.escalation_level,
            escalation_group=r.escalation_group,
            activity=activity[stored_id(r)],
        )
        for r in found
    ]


UNVERIFIED = "unverified"
_BROWSER_KEY = re.compile(r"^[A-Za-z0-9_-]{32}$")


def new_browser_key() -> str:
    """A customer browser's random id, kept in its cookie (``CustomerChatState.browser_key``)."""
    return secrets.token_urlsafe(24)


def browser_hash(key: str) -> str | None:
    """What a chat stores of its browser's id: its SHA-256 (None for anything not an id we issue)."""
    return hashlib.sha256(key.encode()).hexdigest() if _BROWSER_KEY.match(key) else None


def same_browser(browser_hash: str | None, other: str | None) -> bool:
    """Two chats came from one browser (its random cookie id): the only sign that the
    person is the same, since anyone can type anyone's email."""
    return browser_hash is not None and browser_hash == other


@dataclass(frozen=True)
class EarlierInteraction:
    """An earlier chat with the same typed email: its number (the link to its record
    page) and the words shown after it."""

    number: str
    text: str
    verified: bool


def earlier_line(number: str | None, summary: str, at: datetime, *, verified: bool) -> EarlierInteraction:
    """What it was about only if it came from this chat's browser (``verified``),
    else just its number and date, marked unverified."""
    text = f"{summary[:60]} · {at:%Y-%m-%d}" if verified else f"{at:%Y-%m-%d} · {UNVERIFIED}"
    return EarlierInteraction(number=number or "", text=text, verified=verified)


def interaction_data(
    session: Session, item: Interaction, *, after_id: int | None = 0, with_work: bool = False
) -> InteractionData:
    """One chat with the messages after ``after_id`` (None: no messages).

    ``with_work`` adds what only the agent sees: cases, incidents, emails.
    """
    customer = session.get_one(Customer, item.customer_id)
    queue = session.get(Queue, item.queue_id)
    agent = session.get(User, item.agent_id) if item.agent_id else None
    earlier = list(
        session.exec(
            select(
                Interaction.number, Interaction.short_description, Interaction.requested_at, Interaction.browser_hash
            )
            .join(Customer, col(Customer.id) == col(Interaction.customer_id))
            .where(Customer.email == customer.email, Interaction.id != item.id)
            .order_by(col(Interaction.requested_at).desc())
            .limit(5)
        )
    )
    messages = new_messages(session, interaction_id=stored_id(item), after_id=after_id) if after_id is not None else []
    return InteractionData(
        id=stored_id(item),
        number=item.number or "",
        public_id=item.public_id,
        state=item.state,
        close_reason=item.close_reason or "",
        queue_id=item.queue_id,
        queue_name=queue.name if queue else "",
        customer_name=customer.name,
        customer_email=customer.email,
        question=item.question,
        short_description=item.short_description,
        category=item.category,
        priority=item.priority,
        work_notes=item.work_notes,
        requested_at=item.requested_at,
        accepted_at=item.accepted_at,
        closed_at=item.closed_at,
        wait_seconds=item.wait_seconds,
        customer_ended=item.customer_ended_at is not None,
        agent_name=agent.display_name if agent else "",
        transfer_note=item.transfer_note,
        earlier_interactions=[
            earlier_line(number, summary, at, verified=same_browser(item.browser_hash, browser))
            for number, summary, at, browser in earlier
        ],
        new_messages=messages,
        records=_records(session, stored_id(item)) if with_work else [],
        emails=[
            EmailData(e.to_address, e.subject, email.delivery_text(e, configured=mail_configured), e.created_at)
            for mail_configured in [email.SmtpSettings.from_settings().configured]
            for e in email.list_emails(session, interaction_id=stored_id(item))
        ]
        if with_work
        else [],
        transfer_pending_to=(session.get_one(User, item.transfer_to_id).display_name if item.transfer_to_id else ""),
        rated=item.rating is not None,
    )


def agent_snapshot(
    session: Session,
    *,
    user_id: int,
    cursors: dict[int, int],
    known: set[int] | None = None,
    reread: set[int] | None = None,
) -> AgentSnapshot:
    """The agent's header, inbox and open chats; messages after each cursor.

    With ``known`` (the chats the page shows already), only the open chats not
    in it and those in ``reread`` are read in full: a chat read costs about ten
    statements, and an accept or a save touches one chat of up to capacity.
    """
    version = audit.change_version(session)
    user = session.get_one(User, user_id)
    queues = session.exec(
        select(non_null(Queue.id), Queue.name)
        .join(routing.QueueMember, col(routing.QueueMember.queue_id) == col(Queue.id))
        .where(routing.QueueMember.user_id == user_id)
        .order_by(Queue.name)
    ).all()
    mine = list(
        session.exec(
            select(Interaction)
            .where(Interaction.agent_id == user_id, Interaction.state == InteractionState.WORK_IN_PROGRESS)
            .order_by(col(Interaction.accepted_at))
        )
    )
    return AgentSnapshot(
        user_id=user_id,
        display_name=user.display_name,
        presence=user.presence,
        capacity=user.capacity,
        active_chats=len(mine),
        after_hours=user.after_hours,
        queue_names=[name for _id, name in queues],
        queue_ids=[queue_id for queue_id, _name in queues],
        has_notices=session.exec(
            select(AgentNotice.id).where(AgentNotice.user_id == user_id, col(AgentNotice.seen).is_(False)).limit(1)
        ).first()
        is not None,
        inbox=cards_for(session, user_id=user_id),
        transfer_offers=[
            interaction_data(session, item, after_id=None) for item in transfers.pending_for(session, user_id=user_id)
        ],
        open_ids=[stored_id(item) for item in mine],
        open_interactions=[
            interaction_data(session, item, after_id=cursors.get(stored_id(item), 0), with_work=True)
            for item in mine
            if known is None or item.id not in known or item.id in (reread or ())
        ],
        version=version,
    )


@dataclass(frozen=True)
class InboxSnapshot:
    """What a queue change alters for an agent: presence, load and the inbox cards."""

    presence: str
    active_chats: int
    inbox: list[InboxCard]
    version: int  # audit.change_version of the read


def inbox_snapshot(session: Session, *, user_id: int) -> InboxSnapshot:
    """The cheap refresh for queue changes (a few statements, not the whole workspace)."""
    return inbox_snapshots(session, user_ids=[user_id])[user_id]


def inbox_snapshots(session: Session, *, user_ids: Collection[int]) -> dict[int, InboxSnapshot]:
    """``inbox_snapshot`` of many agents in six statements, whatever their number."""
    users = list(user_ids)
    if not users:
        return {}
    version = audit.change_version(session)
    presence = dict(session.connection().execute(_PRESENCE, {"user_ids": users}).all())
    counts = routing.active_chat_counts(session, user_ids=users)
    cards = cards_for_many(session, user_ids=users)
    return {
        user_id: InboxSnapshot(
            presence=presence[user_id], active_chats=counts.get(user_id, 0), inbox=cards[user_id], version=version
        )
        for user_id in users
        if user_id in presence
    }


_PRESENCE = sa_select(non_null(User.id), col(User.presence)).where(
    col(User.id).in_(bindparam("user_ids", expanding=True))
)


def inboxes_of_clients(session: Session, *, tokens: Collection[str]) -> dict[str, tuple[int, InboxSnapshot]]:
    """The agent behind each browser tab and their ``inbox_snapshot``: read for
    pushes before the tabs' states are locked, when only the tokens are known,
    once for all the tabs a queue change reaches."""
    users_of = dict(session.connection().execute(_USERS_OF_CLIENTS, {"tokens": list(tokens)}).all())
    snapshots = inbox_snapshots(session, user_ids=set(users_of.values()))
    return {token: (user_id, snapshots[user_id]) for token, user_id in users_of.items() if user_id in snapshots}


_USERS_OF_CLIENTS = sa_select(col(ClientConnection.token), non_null(ClientConnection.user_id)).where(
    col(ClientConnection.token).in_(bindparam("tokens", expanding=True)), col(ClientConnection.user_id).is_not(None)
)


@dataclass(frozen=True)
class ChatDelta:
    """What a message push changes in an open chat: the cheap refresh."""

    interaction_id: int
    state: str
    agent_id: int | None
    customer_ended: bool
    new_messages: list[MessageData]


def chat_deltas(session: Session, *, cursors: dict[int, int]) -> list[ChatDelta]:
    """New messages after each cursor and the chat's state, for these chats only."""
    if not cursors:
        return []
    items = session.exec(select(Interaction).where(col(Interaction.id).in_(list(cursors)))).all()
    return [
        ChatDelta(
            interaction_id=stored_id(item),
            state=item.state,
            agent_id=item.agent_id,
            customer_ended=item.customer_ended_at is not None,
            new_messages=new_messages(session, interaction_id=stored_id(item), after_id=cursors[stored_id(item)]),
        )
        for item in items
    ]
