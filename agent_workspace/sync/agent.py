"""An agent's workspace view: header, inbox, transfer offers and open chats.

``plan`` keeps pushes cheap: the agent's own change (``AgentChanged``) needs
the header and the list of open chats, with only chats new to the view read in
full; a ``DetailsChanged`` of a shown chat that chat in full besides; a queue
change or an offer only the inbox (which ``read_inboxes`` reads ahead for many
tabs at once); a chat change only a delta after that chat's cursor, and a
``MessagePosted`` that continues the cursor no read at all. A delta that shows
a chat closed or moved elsewhere re-reads the header too. No push reads every
chat in full (about ten statements each): only a new tab and the page's
periodic heal do.

Statements ``plan`` + ``read`` run (pinned by tests/sync/test_statements.py):
a carried message 0; an inbox refresh 7 (0 with a newer read ahead; one
``read_inboxes`` call, 7 whatever the number of agents); a delta 1 + 1 per chat;
the header 10 whatever the chats shown, and about 6 per chat read in full.
A read ahead is newer when it saw a later change (``audit.change_version``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session

from agent_workspace.models import InteractionState, stored_id
from agent_workspace.services import views
from agent_workspace.services.audience import Concern
from agent_workspace.services.events import (
    AgentChanged,
    Change,
    ChatOffered,
    DetailsChanged,
    InteractionChanged,
    MessageData,
    QueueChanged,
)
from agent_workspace.services.inbox import InboxCard
from agent_workspace.services.notices import unseen_notices
from agent_workspace.services.views import AgentSnapshot, ChatDelta, InboxSnapshot, InteractionData
from agent_workspace.sync import carried_messages, merged


@dataclass(frozen=True)
class OpenChat:
    """One chat the agent works on: its details as last read in full, how far
    its messages go, and whether the customer left. The messages themselves are
    not in the view: ``apply`` hands out the new ones (``Applied.messages``) and
    the tab keeps them where it shows them (one state per chat, which a push of
    another chat never loads). Typing is not here either: it is never stored, so
    no read can see it; the tab keeps it from its own notices (``typing_after``)."""

    details: InteractionData  # without messages and live flags: those are the fields below
    cursor: int = 0  # the last stored message the tab holds (0: none)
    customer_ended: bool = False


@dataclass(frozen=True)
class AgentView:
    user_id: int
    display_name: str = ""
    presence: str = ""
    capacity: int = 0
    active_chats: int = 0
    after_hours: bool = False
    queue_names: tuple[str, ...] = ()
    queue_ids: tuple[int, ...] = ()
    notices: tuple[tuple[str, str, int], ...] = ()  # level, text, id
    inbox: tuple[InboxCard, ...] = ()
    transfer_offers: tuple[InteractionData, ...] = ()
    chats: tuple[OpenChat, ...] = ()  # oldest accept first
    inbox_version: int = field(default=0, compare=False)  # audit.change_version of the inbox's last read

    def chat(self, interaction_id: int) -> OpenChat | None:
        return next((c for c in self.chats if c.details.id == interaction_id), None)

    @property
    def cursors(self) -> dict[int, int]:
        return {c.details.id: c.cursor for c in self.chats}


@dataclass(frozen=True)
class Reads:
    """What a batch of changes needs read (all False / empty: nothing)."""

    whole: bool = False  # header, inbox, offers and every open chat in full
    header: bool = False  # header, inbox, offers and the list of open chats; only chats not shown yet in full
    reread: frozenset[int] = frozenset()  # with ``header``: these shown chats in full too
    inbox: bool = False  # presence, load and cards
    deltas: frozenset[int] = frozenset()  # chats to read after their cursors

    @property
    def nothing(self) -> bool:
        return not (self.whole or self.header or self.inbox or self.deltas)


WHOLE = Reads(whole=True)


@dataclass(frozen=True)
class InboxAhead:
    """An inbox read for a push before the tab's state was locked."""

    user_id: int
    snapshot: InboxSnapshot  # with its change version


@dataclass(frozen=True)
class Data:
    """What ``read`` found: ``whole`` alone, or any of ``inbox``, ``deltas`` and ``header``."""

    whole: AgentSnapshot | None = None
    notices: tuple[tuple[str, str, int], ...] = ()
    inbox: InboxAhead | None = None
    deltas: tuple[ChatDelta, ...] = ()
    header: AgentSnapshot | None = None  # re-read after a chat left: the chats shown are not read again


def concerns(view: AgentView) -> set[Concern]:
    """What this view must hear about (``audience.tokens_for``'s rules, from the view):
    the agent, their queues, their open chats, the chats offered to them and those
    whose transfer waits for them."""
    return (
        {("user", view.user_id)}
        | {("queue", q) for q in view.queue_ids}
        | {("chat", c.details.id) for c in view.chats}
        | {("chat", t.id) for t in view.transfer_offers}
        | {("chat", card.interaction_id) for card in view.inbox if card.offered_to_me}
    )


def plan(view: AgentView, changes: Sequence[Change]) -> Reads:
    """Which reads ``changes`` need. Pure: no statement. A change of a chat whose
    transfer waits for this agent re-reads the header too (its card shows the chat's
    details and whether the customer left), besides what the other changes need."""
    cursors = view.cursors
    offered = {t.id for t in view.transfer_offers}
    reread = frozenset(c.interaction_id for c in changes if isinstance(c, DetailsChanged)) & set(cursors)
    header = bool(reread) or any(
        (isinstance(c, AgentChanged) and c.user_id == view.user_id)
        or (isinstance(c, InteractionChanged) and c.interaction_id in offered)
        for c in changes
    )
    inbox = any(
        (isinstance(c, QueueChanged) and c.queue_id in view.queue_ids)
        or (isinstance(c, ChatOffered) and c.user_id == view.user_id)
        for c in changes
    )
    touched = {c.interaction_id for c in changes if isinstance(c, InteractionChanged)} & set(cursors)
    deltas = frozenset(i for i in touched if carried_messages(changes, interaction_id=i, cursor=cursors[i]) is None)
    return Reads(header=header, reread=reread, inbox=inbox, deltas=deltas)


def read_inboxes(session: Session, *, user_ids: Collection[int]) -> dict[int, InboxAhead]:
    """Read ahead for many agents' tabs at once (six statements): every member of a
    busy queue re-reads their inbox many times a minute."""
    return {
        user_id: InboxAhead(user_id, snapshot)
        for user_id, snapshot in views.inbox_snapshots(session, user_ids=user_ids).items()
    }


def _notices(session: Session, snapshot: AgentSnapshot) -> tuple[tuple[str, str, int], ...]:
    if not snapshot.has_notices:
        return ()
    return tuple((n.level, n.body, stored_id(n)) for n in unseen_notices(session, user_id=snapshot.user_id))


def _gone(view: AgentView, delta: ChatDelta) -> bool:
    return delta.state != InteractionState.WORK_IN_PROGRESS or delta.agent_id != view.user_id


def read(session: Session, view: AgentView, reads: Reads, ahead: InboxAhead | None = None) -> Data:
    """The reads ``reads`` asks for: none for carried messages; ``ahead`` stands for
    the inbox read if it saw a later change than the view's last one (an older
    read may predate an accept the view shows already)."""
    if reads.nothing:
        return Data()
    cursors = view.cursors
    if reads.whole:
        whole = views.agent_snapshot(session, user_id=view.user_id, cursors=cursors)
        return Data(whole=whole, notices=_notices(session, whole))
    inbox = None
    if reads.inbox and not reads.header:
        if ahead is not None and ahead.user_id == view.user_id and ahead.snapshot.version > view.inbox_version:
            inbox = ahead
        else:
            inbox = InboxAhead(view.user_id, views.inbox_snapshot(session, user_id=view.user_id))
    deltas = tuple(views.chat_deltas(session, cursors={i: cursors[i] for i in reads.deltas}))
    header = None
    if reads.header or any(_gone(view, d) for d in deltas):
        header = views.agent_snapshot(
            session, user_id=view.user_id, cursors=cursors, known=set(cursors), reread=set(reads.reread)
        )
    notices = _notices(session, header) if header is not None else ()
    return Data(inbox=inbox, deltas=deltas, header=header, notices=notices)


def _details(data: InteractionData) -> InteractionData:
    return dataclasses.replace(data, new_messages=[], customer_ended=False)


class _Messages:
    """The messages an ``apply`` hands out: per chat, those after the cursor it had, each once."""

    def __init__(self) -> None:
        self.by_chat: dict[int, tuple[MessageData, ...]] = {}

    def advance(self, chat: OpenChat, new: Iterable[MessageData]) -> OpenChat:
        """``chat`` past ``new`` (those at or before its cursor are held already)."""
        fresh = [m for m in new if m.id > chat.cursor]
        if not fresh:
            return chat
        i = chat.details.id
        self.by_chat[i] = merged(self.by_chat.get(i, ()), fresh)
        return dataclasses.replace(chat, cursor=self.by_chat[i][-1].id)

    def opened(self, data: InteractionData, held: OpenChat | None) -> OpenChat:
        """A chat read in full (after the cursor of the chat the view held, if any)."""
        chat = OpenChat(details=_details(data), cursor=held.cursor if held else 0, customer_ended=data.customer_ended)
        return self.advance(chat, data.new_messages)

    def of(self, view: AgentView) -> dict[int, tuple[MessageData, ...]]:
        return {i: m for i, m in self.by_chat.items() if view.chat(i) is not None}


@dataclass(frozen=True)
class Applied:
    """A view after changes, and the messages the tab must now show besides those it
    held: per open chat, those after the chat's cursor before (a chat new to the
    view: all). A chat missing from ``view.chats`` is gone, and so are its messages."""

    view: AgentView
    messages: Mapping[int, tuple[MessageData, ...]] = field(default_factory=dict)


def _with_header(view: AgentView, snap: AgentSnapshot, notices, chats: tuple[OpenChat, ...]):
    return dataclasses.replace(
        view,
        display_name=snap.display_name,
        presence=snap.presence,
        capacity=snap.capacity,
        active_chats=snap.active_chats,
        after_hours=snap.after_hours,
        queue_names=tuple(snap.queue_names),
        queue_ids=tuple(snap.queue_ids),
        notices=notices,
        inbox=tuple(snap.inbox),
        transfer_offers=tuple(snap.transfer_offers),
        chats=chats,
        inbox_version=max(view.inbox_version, snap.version),
    )


def apply(view: AgentView, changes: Sequence[Change], data: Data) -> Applied:
    """The view after ``changes``, given what ``read`` found for them, and the
    messages it hands out. Pure."""
    out = _Messages()
    if data.whole is not None:
        full = {d.id: d for d in data.whole.open_interactions}
        opened = tuple(out.opened(full[i], view.chat(i)) for i in data.whole.open_ids)
        view = _with_header(view, data.whole, data.notices, opened)
        return Applied(view, out.of(view))
    if data.inbox is not None and data.inbox.snapshot.version >= view.inbox_version:
        view = dataclasses.replace(
            view,
            presence=data.inbox.snapshot.presence,
            active_chats=data.inbox.snapshot.active_chats,
            inbox=tuple(data.inbox.snapshot.inbox),
            inbox_version=data.inbox.snapshot.version,
        )
    deltas = {d.interaction_id: d for d in data.deltas}
    chats: list[OpenChat] = []
    for chat in view.chats:
        i = chat.details.id
        if i in deltas:
            chat = out.advance(chat, deltas[i].new_messages)
            chat = dataclasses.replace(chat, customer_ended=chat.customer_ended or deltas[i].customer_ended)
        elif any(isinstance(c, InteractionChanged) and c.interaction_id == i for c in changes):
            chat = out.advance(chat, carried_messages(changes, interaction_id=i, cursor=chat.cursor) or [])
        chats.append(chat)
    view = dataclasses.replace(view, chats=tuple(chats))
    if data.header is not None:  # the header and the list; new (or asked for) chats in full
        full = {d.id: d for d in data.header.open_interactions}
        listed = tuple(
            out.opened(full[i], view.chat(i)) if i in full else view.chat(i)  # a chat shown already is not re-read
            for i in data.header.open_ids
        )
        view = _with_header(view, data.header, data.notices, tuple(c for c in listed if c))
    return Applied(view, out.of(view))


def sent(view: AgentView, interaction_id: int, message_id: int, follows_id: int | None) -> AgentView:
    """The view after the tab's own message was stored: past it if nothing came in
    between (``follows_id`` is the cursor); else the next push reads after the cursor."""
    chat = view.chat(interaction_id)
    if chat is None or follows_id is None or follows_id != chat.cursor:
        return view
    moved = dataclasses.replace(chat, cursor=message_id)
    return dataclasses.replace(view, chats=tuple(moved if c is chat else c for c in view.chats))


def fresh(session: Session, *, user_id: int) -> Applied:
    """What a new tab of this agent shows."""
    empty = AgentView(user_id=user_id)
    return apply(empty, [], read(session, empty, WHOLE))


def heal(session: Session, view: AgentView) -> Applied:
    """The page's periodic resync: the whole view read again after its cursors,
    which repairs anything a lost push left behind."""
    return apply(view, [], read(session, view, WHOLE))
