"""A supervisor's read-only view of one live chat: its messages as they come.

``plan``: a ``MessagePosted`` that continues the cursor needs no read; any other
change of the watched chat reads the messages after the cursor (one statement,
and one for the article cards when a message holds one). Nothing else reaches
a supervisor's tab: ``audience.tokens_for`` finds it only for the chat it shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session

from agent_workspace.models import Interaction
from agent_workspace.services import views
from agent_workspace.services.audience import Concern
from agent_workspace.services.errors import NotFound
from agent_workspace.services.events import Change, InteractionChanged, MessageData
from agent_workspace.sync import carried_messages, merged


@dataclass(frozen=True)
class WatchView:
    interaction_id: int = 0  # 0: no chat shown
    number: str = ""
    cursor: int = 0  # the last stored message the tab holds; the messages are the tab's (``Applied``)


@dataclass(frozen=True)
class Reads:
    whole: bool = False  # the chat from its first message
    after_cursor: bool = False

    @property
    def nothing(self) -> bool:
        return not (self.whole or self.after_cursor)


WHOLE = Reads(whole=True)


@dataclass(frozen=True)
class Data:
    number: str | None = None  # read with the whole chat
    messages: tuple[MessageData, ...] | None = None  # None: nothing was read


@dataclass(frozen=True)
class Applied:
    """The view, and the messages after its cursor before, in order."""

    view: WatchView
    messages: tuple[MessageData, ...] = ()


def concerns(view: WatchView) -> set[Concern]:
    return {("chat", view.interaction_id)} if view.interaction_id else set()


def plan(view: WatchView, changes: Sequence[Change]) -> Reads:
    """Which reads ``changes`` need. Pure: no statement."""
    if not any(isinstance(c, InteractionChanged) and c.interaction_id == view.interaction_id for c in changes):
        return Reads()
    if carried_messages(changes, interaction_id=view.interaction_id, cursor=view.cursor) is not None:
        return Reads()
    return Reads(after_cursor=True)


def read(session: Session, view: WatchView, reads: Reads, ahead: None = None) -> Data:
    """The reads ``reads`` asks for (a supervisor's tab reads nothing ahead)."""
    if reads.whole:
        item = session.get(Interaction, view.interaction_id)
        if item is None:
            raise NotFound("No such chat.")
        data = views.interaction_data(session, item, after_id=0)
        return Data(number=data.number, messages=tuple(data.new_messages))
    if reads.after_cursor:
        return Data(
            messages=tuple(views.new_messages(session, interaction_id=view.interaction_id, after_id=view.cursor))
        )
    return Data()


def apply(view: WatchView, changes: Sequence[Change], data: Data) -> Applied:
    """The view after ``changes``, given what ``read`` found for them. Pure."""
    if data.number is not None:
        view = dataclasses.replace(view, number=data.number)
    found = data.messages
    if found is None:
        found = tuple(carried_messages(changes, interaction_id=view.interaction_id, cursor=view.cursor) or ())
    new = merged((), [m for m in found if m.id > view.cursor])
    if not new:
        return Applied(view)
    return Applied(dataclasses.replace(view, cursor=new[-1].id), new)


def fresh(session: Session, *, interaction_id: int) -> Applied:
    """What the read-only view of this chat shows when opened."""
    empty = WatchView(interaction_id=interaction_id)
    return apply(empty, [], read(session, empty, WHOLE))


def heal(session: Session, view: WatchView) -> Applied:
    """A re-read after the cursor (the page's tick)."""
    return apply(view, [], read(session, view, Reads(after_cursor=True)))
