"""A customer's chat page view: where the chat stands, its messages, the place in line.

``plan`` keeps pushes cheap: the next messages of a live chat are applied from
the notice itself; a waiting customer whose queue only moved takes the place in
line ``read_places`` read for every waiting customer at once; anything else
re-reads the chat after the cursor (three statements, and the place while waiting).
Statements ``plan`` + ``read`` run (tests/sync/test_statements.py): typing or a
carried message 0, a place read ahead 0, the chat of a live conversation 3 (its
change version, the chat with its names, the messages after the cursor).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlmodel import Session

from agent_workspace.models import InteractionState
from agent_workspace.services import audit, availability, customer_views
from agent_workspace.services.audience import Concern
from agent_workspace.services.availability import Outlook
from agent_workspace.services.customer_views import CustomerSnapshot, Place
from agent_workspace.services.events import Change, MessageData, MessagePosted, QueueChanged, Typing, TypingStopped
from agent_workspace.sync import carried_messages, merged


class Phase(StrEnum):
    """Where the chat stands, as the page shows it (the page adds its own form phases)."""

    WAITING = "waiting"
    CHATTING = "chatting"
    ENDED = "ended"


@dataclass(frozen=True)
class CustomerView:
    interaction_id: int
    phase: Phase = Phase.WAITING
    number: str = ""
    public_id: str = ""
    queue_name: str = ""
    agent_name: str = ""  # typing is kept by the tab from its notices: no read sees it
    customer_ended: bool = False
    rated: bool = False
    cursor: int = 0  # the last stored message the tab holds (0: none); the messages are the tab's (``Applied``)
    outlook: Outlook | None = None  # while the chat waits
    customer_name: str = ""
    customer_email: str = ""
    version: int = field(default=0, compare=False)  # audit.change_version of the chat's or the place's last read


@dataclass(frozen=True)
class Reads:
    whole: bool = False  # the chat after the cursor
    place: bool = False  # only the place in line

    @property
    def nothing(self) -> bool:
        return not (self.whole or self.place)


WHOLE = Reads(whole=True)


@dataclass(frozen=True)
class Data:
    snapshot: CustomerSnapshot | None = None
    place: Place | None = None  # read for a push before the tab's state was locked


def concerns(view: CustomerView) -> set[Concern]:
    """The chat, and its queue while it waits."""
    found: set[Concern] = {("chat", view.interaction_id)}
    if view.outlook is not None:
        found.add(("queue", view.outlook.queue_id))
    return found


def plan(view: CustomerView, changes: Sequence[Change]) -> Reads:
    """Which reads ``changes`` need. Pure: no statement. Typing is never stored, so
    no read sees it: the tab keeps it from its notices (``state.views.typing_after``)."""
    changes = [c for c in changes if not isinstance(c, (Typing, TypingStopped))]
    if not changes:
        return Reads()
    if view.phase == Phase.CHATTING and all(isinstance(c, MessagePosted) for c in changes):
        if carried_messages(changes, interaction_id=view.interaction_id, cursor=view.cursor) is not None:
            return Reads()
    if view.phase == Phase.WAITING and all(isinstance(c, QueueChanged) for c in changes):
        return Reads(place=True)
    return WHOLE


def read_places(session: Session, *, interaction_ids: Collection[int]) -> dict[int, Place]:
    """Read ahead for many waiting customers at once; chats no longer waiting are left out."""
    version = audit.change_version(session)
    return {
        i: Place(i, outlook, version)
        for i, outlook in availability.chat_outlooks(session, interaction_ids=interaction_ids).items()
    }


def read(session: Session, view: CustomerView, reads: Reads, ahead: Place | None = None) -> Data:
    """The reads ``reads`` asks for; a place read ahead counts only if it is this
    chat's and saw a later change than the view's last read, else the chat is read."""
    if reads.nothing:
        return Data()
    if (
        reads.place
        and ahead is not None
        and ahead.interaction_id == view.interaction_id
        and ahead.version > view.version
    ):
        return Data(place=ahead)
    return Data(
        snapshot=customer_views.customer_snapshot(session, interaction_id=view.interaction_id, after_id=view.cursor)
    )


def _phase(snap: CustomerSnapshot) -> Phase:
    if snap.state in availability.WAITING_STATES:
        return Phase.WAITING
    if snap.state == InteractionState.WORK_IN_PROGRESS and not snap.customer_ended:
        return Phase.CHATTING
    return Phase.ENDED


@dataclass(frozen=True)
class Applied:
    """A view after changes, and the messages the tab must show besides those it
    held: those after the view's cursor before, in order."""

    view: CustomerView
    messages: tuple[MessageData, ...] = ()


def _append(view: CustomerView, stored: Sequence[MessageData]) -> Applied:
    new = merged((), [m for m in stored if m.id > view.cursor])
    if not new:
        return Applied(view)
    return Applied(dataclasses.replace(view, cursor=new[-1].id), new)


def apply(view: CustomerView, changes: Sequence[Change], data: Data) -> Applied:
    """The view after ``changes``, given what ``read`` found for them, and the
    messages it hands out. Pure."""
    if data.snapshot is not None:
        snap = data.snapshot
        view = dataclasses.replace(
            view,
            phase=_phase(snap),
            number=snap.number,
            public_id=snap.public_id,
            queue_name=snap.queue_name,
            agent_name=snap.agent_name,
            customer_ended=snap.customer_ended,
            rated=snap.rated,
            outlook=snap.outlook,
            customer_name=snap.customer_name,
            customer_email=snap.customer_email,
            version=max(view.version, snap.version),
        )
        return _append(view, snap.new_messages)
    if data.place is not None:
        return Applied(dataclasses.replace(view, outlook=data.place.outlook, version=data.place.version))
    if view.phase == Phase.CHATTING:
        carried = carried_messages(changes, interaction_id=view.interaction_id, cursor=view.cursor)
        return _append(view, carried or [])
    return Applied(view)


def sent(view: CustomerView, message_id: int, follows_id: int | None) -> CustomerView:
    """The view after the tab's own message was stored: past it if nothing came in
    between (``follows_id`` is the cursor); else the next push reads after the cursor."""
    if follows_id is None or follows_id != view.cursor:
        return view
    return dataclasses.replace(view, cursor=message_id)


def fresh(session: Session, *, interaction_id: int) -> Applied:
    """What a newly opened page of this chat shows."""
    empty = CustomerView(interaction_id=interaction_id)
    return apply(empty, [], read(session, empty, WHOLE))


def heal(session: Session, view: CustomerView) -> Applied:
    """The page's periodic resync (its quiet tick): the chat read again after the cursor."""
    return apply(view, [], read(session, view, WHOLE))
