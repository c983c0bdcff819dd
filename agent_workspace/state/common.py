"""Helpers every state class uses: services run off the event loop, times as text."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from agent_workspace import mailer
from agent_workspace.db import run_blocking, run_reading, session_scope

T = TypeVar("T")


def _run(fn: Callable[..., T], writer: bool, kwargs: dict) -> T:
    with session_scope(writer=writer) as session:
        return fn(session, **kwargs)


async def run_action(fn: Callable[..., T], /, **kwargs) -> T:
    """Run a service function in a worker thread with its own transaction."""
    return await run_blocking(_run, fn, True, kwargs)


async def run_action_then_mail(fn: Callable[..., T], /, **kwargs) -> T:
    """``run_action`` for a service that queues an email: the delivery worker is woken
    to send it now (the SMTP conversation is the worker's, never the caller's)."""
    result = await run_blocking(_run, fn, True, kwargs)
    mailer.wake()
    return result


async def run_query(fn: Callable[..., T], /, **kwargs) -> T:
    """Like ``run_action`` for read-only work: on SQLite it never waits for writers."""
    return await run_reading(_run, fn, False, kwargs)


def unproxied(value: T) -> T:
    """What a state var holds, without the change-tracking proxy Reflex wraps
    around every read of a list, dict or dataclass. Build new values from this:
    a container built from proxies stores them, and every later delta then
    unwraps its elements one by one (a tab's chats grew a proxy per message)."""
    return getattr(value, "__wrapped__", value)


def assign_changed(state, **values) -> None:
    """Set only the vars whose value differs: Reflex sends (and the page
    re-renders) every var assigned in an event, equal or not."""
    for name, value in values.items():
        if getattr(state, name) != value:
            setattr(state, name, value)


def iso(at: datetime | None) -> str:
    """A stored UTC time as ISO 8601 with a Z, for the browser to localise."""
    if at is None:
        return ""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def clock(at: datetime | None) -> str:
    return at.strftime("%H:%M") if at else ""


# One tab's sends in one chat are stored in the order they were made: a send
# runs without the tab's state lock (see ``WorkspaceState._post``), so it takes its
# turn here first. A tab's events all reach the worker holding its socket, so
# a lock in this process is enough.
_send_turns: weakref.WeakValueDictionary[tuple[str, int], asyncio.Lock] = weakref.WeakValueDictionary()


def send_turn(token: str, interaction_id: int) -> asyncio.Lock:
    turn = _send_turns.get((token, interaction_id))
    if turn is None:
        turn = _send_turns[(token, interaction_id)] = asyncio.Lock()
    return turn


def row_id(value) -> int | None:
    """A row id from the page, or None (anything else a client may send)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None
