"""Keeping a tab's view in step with the database, without Reflex (issue 18).

A tab shows a *view* (a frozen dataclass: ``sync.agent.AgentView``,
``sync.customer.CustomerView``, ``sync.supervisor.WatchView``). Services announce change notices
(``services.events``); a tab that hears some of them brings its view up to
date in four steps, Zulip's ``apply_events`` model:

* ``fresh(session, ...)``: the view a new tab reads;
* ``plan(view, changes)``: pure, which reads the changes need (nothing for a
  ``MessagePosted`` that continues the view's cursor, the inbox, a delta after
  the cursors, or the whole view);
* ``read(session, view, reads, ahead)``: the database reads the plan asked for
  (``ahead``: a read taken for many tabs before their state locks, used only
  if it is newer than the view's own read);
* ``apply(view, changes, data)``: pure, the new view and the messages it hands out
  (``Applied``: a view holds cursors; the tab keeps the messages where it shows them).

The contract (``tests/sync/test_contract.py``): whatever notices a view hears,
duplicated, reordered, split or merged, with reads taken early or late,
``apply`` of what it heard equals a ``fresh`` read afterwards; a view that missed
notices heals with ``heal`` (the page's periodic resync: a whole re-read after its
cursors).

State classes receive pushes through the typed ``Receiver`` protocol instead of
a method name registered as a string, so a type checker sees a wrong signature;
client kinds are ``models.ClientKind``, whose values are what ``client_connection.kind``
stores.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

from agent_workspace.services.events import (
    Change,
    InteractionChanged,
    MessageData,
    MessagePosted,
)


@runtime_checkable
class Receiver(Protocol):
    """A tab's state that takes pushes: the changes that concern it and what was
    read for it before its state lock was taken (None: nothing was). Private (a
    leading underscore), so Reflex never makes it an event a page could send."""

    async def _receive(self, changes: list[Change], read_ahead: Any) -> None: ...


def carried_messages(changes: Sequence[Change], *, interaction_id: int, cursor: int) -> list[MessageData] | None:
    """The messages ``changes`` carry for one chat when they continue ``cursor`` and
    nothing else about the chat changed (those already held are skipped); None
    when the view must read after its cursor."""
    posted = []
    for change in changes:
        if isinstance(change, MessagePosted):
            if change.interaction_id == interaction_id:
                posted.append(change)
        elif isinstance(change, InteractionChanged) and change.interaction_id == interaction_id:
            return None
    carried: list[MessageData] = []
    for change in sorted(posted, key=lambda c: c.message.id):
        if change.message.id <= cursor:
            continue
        if change.follows_id != cursor:
            return None
        carried.append(change.message)
        cursor = change.message.id
    return carried


def merged(held: Sequence[MessageData], new: Iterable[MessageData]) -> tuple[MessageData, ...]:
    """Messages by id, each once: a read after an old cursor may repeat some."""
    by_id = {m.id: m for m in held}
    by_id.update((m.id, m) for m in new)
    return tuple(by_id[i] for i in sorted(by_id))
