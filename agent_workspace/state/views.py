"""Shapes of the vars pages render (plain dataclasses Reflex serialises)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC

import reflex as rx
from sqlalchemy.exc import SQLAlchemyError

from agent_workspace import routes
from agent_workspace.config import settings
from agent_workspace.db import run_blocking, session_scope
from agent_workspace.services import conversations, links
from agent_workspace.services.errors import ServiceError
from agent_workspace.services.events import (
    Change,
    MessageData,
    MessagePosted,
    Typing,
    TypingStopped,
)
from agent_workspace.services.inbox import InboxCard
from agent_workspace.services.routing import closed_queue_refusal
from agent_workspace.services.views import InteractionData
from agent_workspace.state.common import clock, iso
from agent_workspace.state.message_status import MessageStatus

YOU = "You"  # the sender of the viewer's own messages
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
NOT_STORED = "The message could not be saved just now. Retry sends it again."
SENDING_SHOWN_AFTER_SECONDS = 0.15

log = logging.getLogger(__name__)


@dataclasses.dataclass
class TextPart:
    """A run of a message's text; a link when ``href`` is set (http, https or mailto only)."""

    text: str = ""
    href: str = ""


def text_parts(body: str) -> list[TextPart]:
    """A message's text with its links, split once when the page gets the message
    ([] without links: the bubble shows the body as it is)."""
    return [TextPart(s.text, s.href) for s in links.segments(body)]


@dataclasses.dataclass
class MessageView:
    id: int = 0
    client_id: str = ""
    sender_kind: str = ""
    sender_name: str = ""
    body: str = ""
    time: str = ""
    status: str = MessageStatus.SENT
    error: str = ""
    attachment_url: str = ""
    attachment_name: str = ""
    is_image: bool = False
    article_number: str = ""
    parts: list[TextPart] = dataclasses.field(default_factory=list)
    article_title: str = ""  # an article sent in the chat shows as a card with these
    article_summary: str = ""
    article_url: str = ""
    # The viewer's own message: "You", their side and style. Another agent's (before a transfer) is not.
    mine: bool = False
    sent_at: float = 0.0  # epoch seconds when stored (0: not yet): how long a customer has waited


def article_url(number: str) -> str:
    """Where a customer reads an article sent in the chat: on the public site (AW_PUBLIC_URL)."""
    return settings().public_base_url + routes.article_path(number)


def own_message(*, client_id: str, sender_kind: str, sender_name: str, body: str) -> MessageView:
    """The message a page sends (with the id its outbox gave it), shown at once
    (Sending… when storing is slow)."""
    return MessageView(
        client_id=client_id,
        sender_kind=sender_kind,
        sender_name=sender_name,
        body=body,
        status=MessageStatus.SENDING,
        parts=text_parts(body),
        mine=True,
    )


@rx.serializer
def _text_part_fields(part: TextPart):
    return part.__dict__


@rx.serializer
def _message_fields(message: MessageView):
    """A message as its own field dict, not a copy built field by field: every
    update of a chat serializes all its messages, so this runs for every message
    of every push."""
    return message.__dict__


@dataclasses.dataclass
class InboxCardView:
    interaction_id: int = 0
    number: str = ""
    queue_id: int = 0
    queue_name: str = ""
    customer_name: str = ""
    question: str = ""
    requested_at: str = ""
    offered_to_me: bool = False
    offer_expires_at: str = ""
    transfer_note: str = ""
    can_accept: bool = False
    closed_note: str = ""  # why Accept needs the after-hours opt-in ("" while the queue is open)


@dataclasses.dataclass
class RecordView:
    id: int = 0
    kind: str = ""
    number: str = ""
    short_description: str = ""
    description: str = ""
    priority: str = "4"
    state: str = "new"
    resolution_notes: str = ""
    escalation_level: int = 0
    escalation_group: str = ""
    activity: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class EmailView:
    to_address: str = ""
    subject: str = ""
    status: str = ""
    time: str = ""


@dataclasses.dataclass
class EarlierView:
    """An earlier chat of the same email: the number links to its record page."""

    number: str = ""
    href: str = ""
    text: str = ""
    verified: bool = False  # from this chat's browser; else it may be someone else's


@dataclasses.dataclass
class TransferOfferView:
    interaction_id: int = 0
    number: str = ""
    customer_name: str = ""
    question: str = ""
    from_agent: str = ""
    note: str = ""


@dataclasses.dataclass
class ChatTab:
    interaction_id: int = 0
    number: str = ""
    customer_name: str = ""
    customer_email: str = ""
    queue_name: str = ""
    question: str = ""
    short_description: str = ""
    category: str = "inquiry"
    priority: str = "4"
    work_notes: str = ""
    requested_at: str = ""
    accepted_at: str = ""
    wait_text: str = ""
    earlier: list[EarlierView] = dataclasses.field(default_factory=list)
    transfer_note: str = ""
    customer_ended: bool = False
    records: list[RecordView] = dataclasses.field(default_factory=list)
    emails: list[EmailView] = dataclasses.field(default_factory=list)
    transfer_pending_to: str = ""
    child_tab: str = "details"
    slot: int = 0  # the state holding its messages (state/chat_slots.py)


def _post(**message) -> conversations.Stored:
    with session_scope() as session:
        return conversations.store_message(session, **message)


async def deliver(
    message: MessageView, *, interaction_id: int, sender_kind: str, sender_user_id: int | None = None
) -> int | None:
    """Store a page's pending message and flip it to Sent (or Failed, with why).

    Returns the id of the message it follows when it was stored just now (see
    ``conversations.Stored``); the client id makes a retry a no-op.
    """
    try:
        stored = await run_blocking(
            _post,
            interaction_id=interaction_id,
            sender_kind=sender_kind,
            sender_user_id=sender_user_id,
            body=message.body,
            client_id=message.client_id,
        )
    except ServiceError as error:
        message.status, message.error = MessageStatus.FAILED, str(error)
        return None
    except SQLAlchemyError:
        # Not stored (the database is down or locked too long): the page keeps it, Retry resends it.
        log.exception("storing message %s of interaction %s failed", message.client_id, interaction_id)
        message.status, message.error = MessageStatus.FAILED, NOT_STORED
        return None
    message.id, message.status, message.error = stored.id, MessageStatus.SENT, ""
    message.time = clock(stored.created_at)
    return stored.follows_id


def start_delivery(
    message: MessageView, *, interaction_id: int, sender_kind: str, sender_user_id: int | None = None
) -> asyncio.Future[int | None]:
    """Start ``deliver`` now; a page shows the message as Sending only if it is ``storing_is_slow``."""
    return asyncio.ensure_future(
        deliver(message, interaction_id=interaction_id, sender_kind=sender_kind, sender_user_id=sender_user_id)
    )


async def storing_is_slow(delivery: asyncio.Future) -> bool:
    """Whether storing takes longer than a moment. Only then does the sender's page
    show the message as Sending first: a usual send renders once, already Sent,
    which spares a delta of the whole conversation and a flicker."""
    done, _pending = await asyncio.wait({delivery}, timeout=SENDING_SHOWN_AFTER_SECONDS)
    return not done


def typing_after(
    changes: Sequence[Change], *, interaction_id: int, side: str, shown: bool, read: Iterable[MessageData] = ()
) -> bool:
    """Whether ``side`` of the chat shows as typing after these changes, in their
    order: a signal starts it, its expiry or that side's message ends it. A message
    of that side the page ``read`` after its cursor ends it too, unless the changes
    carry it (then its place among them says whether a later signal restarted it)."""
    for change in changes:
        if getattr(change, "interaction_id", None) != interaction_id:
            continue
        if isinstance(change, (Typing, TypingStopped)) and change.sender_kind == side:
            shown = isinstance(change, Typing)
        elif isinstance(change, MessagePosted) and change.message.sender_kind == side:
            shown = False
    carried = {c.message.id for c in changes if isinstance(c, MessagePosted)}
    return shown and not any(m.sender_kind == side and m.id not in carried for m in read)


def message_view(m: MessageData, *, attachment_base: str, mine: bool = False) -> MessageView:
    """``mine``: the viewer wrote it, and reads "You" as its sender."""
    at = m.created_at if m.created_at.tzinfo else m.created_at.replace(tzinfo=UTC)
    return MessageView(
        id=m.id,
        client_id=m.client_id,
        sender_kind=m.sender_kind,
        sender_name=YOU if mine else m.sender_name,
        body=m.body,
        time=clock(m.created_at),
        mine=mine,
        sent_at=at.timestamp(),
        attachment_url=f"{attachment_base}/{m.attachment_public_id}" if m.attachment_public_id else "",
        attachment_name=m.attachment_name,
        is_image=m.attachment_type in IMAGE_TYPES,
        article_number=m.article_number,
        parts=text_parts(m.body),
        article_title=m.article_title,
        article_summary=m.article_summary,
        article_url=article_url(m.article_number) if m.article_title else "",
    )


def card_view(card: InboxCard) -> InboxCardView:
    return InboxCardView(
        interaction_id=card.interaction_id,
        number=card.number,
        queue_id=card.queue_id,
        queue_name=card.queue_name,
        customer_name=card.customer_name,
        question=card.question,
        requested_at=iso(card.requested_at),
        offered_to_me=card.offered_to_me,
        offer_expires_at=iso(card.offer_expires_at),
        transfer_note=card.transfer_note,
        can_accept=card.can_accept,
        closed_note=closed_queue_refusal(card.queue_name) if card.queue_closed and not card.offered_to_me else "",
    )


def merge_messages(existing: list[MessageView], new: list[MessageView]) -> list[MessageView]:
    """Append messages the page has not got yet; a stored copy replaces a pending one."""
    by_client = {m.client_id: i for i, m in enumerate(existing)}
    merged = list(existing)
    for message in new:
        index = by_client.get(message.client_id)
        if index is None:
            by_client[message.client_id] = len(merged)
            merged.append(message)
        else:
            merged[index] = message
    return merged


def wait_text(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def update_tab(tab: ChatTab, data: InteractionData) -> ChatTab:
    """Fold a fresh read of one chat's record into its tab (messages are kept apart)."""
    tab.number = data.number
    tab.customer_name = data.customer_name
    tab.customer_email = data.customer_email
    tab.queue_name = data.queue_name
    tab.question = data.question
    tab.short_description = data.short_description
    tab.category = data.category
    tab.priority = str(data.priority)
    tab.work_notes = data.work_notes
    tab.requested_at = iso(data.requested_at)
    tab.accepted_at = iso(data.accepted_at)
    tab.wait_text = wait_text(data.wait_seconds)
    tab.earlier = [
        EarlierView(e.number, routes.record_path("interaction", e.number), e.text, e.verified)
        for e in data.earlier_interactions
    ]
    tab.transfer_note = data.transfer_note
    tab.customer_ended = data.customer_ended
    tab.records = [
        RecordView(
            id=r.id,
            kind=r.kind,
            number=r.number,
            short_description=r.short_description,
            description=r.description,
            priority=str(r.priority),
            state=r.state,
            resolution_notes=r.resolution_notes,
            escalation_level=r.escalation_level,
            escalation_group=r.escalation_group,
            activity=r.activity,
        )
        for r in data.records
    ]
    tab.emails = [EmailView(e.to_address, e.subject, e.status, clock(e.created_at)) for e in data.emails]
    tab.transfer_pending_to = data.transfer_pending_to
    return tab


def transfer_offer_view(data: InteractionData) -> TransferOfferView:
    return TransferOfferView(
        interaction_id=data.id,
        number=data.number,
        customer_name=data.customer_name,
        question=data.question,
        from_agent=data.agent_name,
        note=data.transfer_note,
    )


def mark_customer_ended(tabs: list[ChatTab], interaction_ids: set[int]) -> list[ChatTab] | None:
    """The customer left these chats: their tabs say so, and wait for the agent's
    Close. The tabs to assign, or None when none of them changed."""
    newly = [tab for tab in tabs if tab.interaction_id in interaction_ids and not tab.customer_ended]
    for tab in newly:
        tab.customer_ended = True
    return list(tabs) if newly else None
