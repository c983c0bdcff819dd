"""Telling browser tabs that something changed: the only caller of ``app.modify_state``.

Services announce change notices on their session (``services.events``); once
the transaction commits they reach ``publish`` here, which turns them into the
client tokens to refresh (never the tab whose event made the change: it
shows its own action itself) by the audience rules of ``services.audience``,
and pushes to each one the changes that concern it. This module only routes and
batches; what a tab does with a push is its ``sync`` model's (``docs/realtime.md``):
it reads after its own cursors, or, for a ``MessagePosted`` that continues a
cursor, takes the message the notice carries; so pushes are idempotent, can arrive in any order, and
reach a token on any worker (with Redis as the state manager Reflex relays the
update to the worker that owns the socket). Queue changes are gathered briefly, for all tabs of a kind at
once: a busy queue changes many times a second for every member and every
waiting customer, who all see the same cards and the same line, so one read
serves them all (a receiver's ``prefetch``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, cast

import reflex as rx
from reflex.state import StateUpdate
from reflex_base.event.context import EventContext
from sqlalchemy import delete
from sqlmodel import Session, col, select

from agent_workspace import sync
from agent_workspace.db import read_connection, run_blocking, run_reading, session_scope
from agent_workspace.models import ClientConnection, ClientKind
from agent_workspace.security import clear_private_state, sign_out_events
from agent_workspace.services import audience, events
from agent_workspace.services.auth import SIGNED_OUT_TAB
from agent_workspace.services.events import (
    TYPING_SECONDS,
    Change,
    QueueChanged,
    Typing,
    TypingStopped,
)

log = logging.getLogger(__name__)


# A receiver's read for many tabs at once: token -> its changes in, token -> what
# its method needs out (tokens it has nothing for are left out).
Prefetch = Callable[[dict[str, list[Change]]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Receiver:
    """The state class that owns a kind of client (a ``sync.Receiver``: its
    ``_receive`` takes the changes) and, optionally, a read to run before the
    tabs' state locks are taken: a tab's own events (a send, an accept) wait
    for that lock, so it must not be held across a database read that needs
    nothing from the state, and gathered queue changes are read once for every
    tab they reach. ``_receive`` gets what was read ahead for its tab, or None."""

    state_cls: type[rx.State]
    prefetch: Prefetch | None = None


_receivers: dict[str, Receiver] = {}
_app: rx.App | None = None
_loop: asyncio.AbstractEventLoop | None = None
_background: set[asyncio.Task] = set()
_pending: dict[str, list[Change]] = {}  # tokens with a push under way -> changes that came meanwhile
_gathering: dict[str, dict[str, list[Change]]] = {}  # client kind -> tab -> queue changes waiting to be pushed together
# How long queue changes to one tab are gathered: an agent's cards must appear
# quickly; a waiting customer's place in line can lag a moment, and there are
# many more waiting customers than agents in a busy queue.
QUEUE_REFRESH_SECONDS: dict[str, float] = {ClientKind.AGENT: 0.5, ClientKind.CUSTOMER: 2.0, ClientKind.SUPERVISOR: 0.5}
_NOT_READ = object()  # a push whose tab has not been read ahead for yet
_typing_ends: dict[tuple[str, int, str], float] = {}  # (tab, chat, side) -> loop time its typing expires


def bind(app: rx.App) -> None:
    """Publish what every transaction of this process commits, to this app's tabs."""
    global _app, _loop
    _app = app
    try:
        _loop = asyncio.get_running_loop()
    except RuntimeError:  # at import: the server's loop is learnt when it starts (``sign_out_loop``)
        pass
    events.set_publisher(_publish_committed)


def _origin_token() -> str | None:
    """The tab whose event is running here (context variables follow work into
    the database threads), or None outside an event (a timer, an HTTP route)."""
    try:
        return EventContext.get().token or None
    except LookupError:
        return None


def _publish_committed(changes: list[Change]) -> None:
    """``services.events``' publisher, in the thread that committed: the audience
    is read there, after the write lock is released, then the pushes start on
    the event loop before the committing caller resumes (its own page update
    would otherwise delay every receiver's)."""
    loop = _loop
    if _app is None or loop is None or loop.is_closed():
        return
    origin = _origin_token()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        _spawn(publish(changes, exclude_token=origin))
        return
    try:
        targets: dict[str, audience.Target] | None = resolve(changes)
    except Exception:  # publish reads them again on the loop's read threads
        log.exception("finding the tabs for %d changes failed", len(changes))
        targets = None
    loop.call_soon_threadsafe(lambda: _spawn(publish(changes, exclude_token=origin, targets=targets)))


def register_receiver(kind: ClientKind, state_cls: type[rx.State], prefetch: Prefetch | None = None) -> None:
    """The state class whose ``_receive`` takes the pushes to tabs of ``kind``."""
    if not issubclass(state_cls, sync.Receiver):
        raise TypeError(f"{state_cls.__name__} does not take pushes: it has no _receive(changes, read_ahead)")
    _receivers[kind] = Receiver(state_cls, prefetch)


# ---------------------------------------------------------------- connections


# ---------------------------------------------------------------- pushing


def resolve(changes: list[Change]) -> dict[str, audience.Target]:
    """``tokens_for`` in its own read transaction. Blocking: call it from a worker
    thread, e.g. right after the write that produced ``changes``, to spare a hop."""
    if not changes:
        return {}
    with read_connection() as connection:
        return audience.tokens_for(connection, changes)


async def push_to_tab(token: str, kind: str, changes: list[Change]) -> None:
    """Push ``changes`` to one tab: chat and agent changes at once, queue changes
    (cards, places in line) gathered for ``QUEUE_REFRESH_SECONDS[kind]`` first, since a
    busy queue changes many times a second for every member and waiting customer."""
    if kind not in QUEUE_REFRESH_SECONDS:
        log.warning("no receiver for client kind %r", kind)
        return
    for typing in (c for c in changes if isinstance(c, Typing)):
        _stop_typing_later(token, kind, typing)
    urgent: list[Change] = [c for c in changes if not isinstance(c, QueueChanged)]
    queued = [c for c in changes if isinstance(c, QueueChanged)]
    if queued:
        if kind not in _gathering:
            _gathering[kind] = {}
            _spawn(_push_gathered(kind))
        _gathering[kind].setdefault(token, []).extend(queued)
    if urgent:
        await _push_coalesced(token, kind, urgent)


def _stop_typing_later(token: str, kind: str, typing: Typing) -> None:
    """Tell the tab when ``TYPING_SECONDS`` pass without another signal: one timer
    per tab and chat side, pushed back by each signal, so a spell of typing
    costs one expiry push, not one per keystroke signal."""
    key = (token, typing.interaction_id, typing.sender_kind)
    ends = asyncio.get_running_loop().time() + TYPING_SECONDS
    if key not in _typing_ends:
        _spawn(_stop_typing(key, kind))
    _typing_ends[key] = ends


async def _stop_typing(key: tuple[str, int, str], kind: str) -> None:
    loop = asyncio.get_running_loop()
    while (left := _typing_ends[key] - loop.time()) > 0:
        await asyncio.sleep(left)
    del _typing_ends[key]
    token, interaction_id, sender_kind = key
    await _push_coalesced(token, kind, [TypingStopped(interaction_id, sender_kind)])


async def _push_gathered(kind: str) -> None:
    """After the gathering window, one read ahead for every tab of ``kind`` that a
    queue change reached, then each tab's push."""
    await asyncio.sleep(QUEUE_REFRESH_SECONDS[kind])
    batch = {token: list(dict.fromkeys(changes)) for token, changes in _gathering.pop(kind).items()}
    receiver = _receivers.get(kind)
    if _app is None or receiver is None:
        return
    prefetched = await _prefetch(receiver, batch)
    await asyncio.gather(
        *(_push_coalesced(token, kind, changes, prefetched.get(token)) for token, changes in batch.items())
    )


async def _prefetch(receiver: Receiver, batch: dict[str, list[Change]]) -> dict[str, Any]:
    if receiver.prefetch is None:
        return {}
    try:
        return await receiver.prefetch(batch)
    except Exception:  # each tab's push reads for itself instead
        log.exception("reading ahead for %d tabs failed", len(batch))
        return {}


async def _push_coalesced(token: str, kind: str, changes: list[Change], prefetched: Any = _NOT_READ) -> None:
    """Make one client re-read from the database what ``changes`` touched.

    Pushes to one token are coalesced: while one runs, later changes are
    gathered and applied in a single follow-up (which reads ahead for itself),
    so a busy queue does not pile up a refresh per event behind the tab's
    state lock.
    """
    receiver = _receivers.get(kind)
    if _app is None or receiver is None:
        return
    if token in _pending:
        _pending[token].extend(changes)
        return
    _pending[token] = []
    try:
        while True:
            await _apply(token, receiver, changes, prefetched)
            changes, prefetched = list(dict.fromkeys(_pending[token])), _NOT_READ
            if not changes:
                break
            _pending[token] = []
    finally:
        del _pending[token]


async def _apply(token: str, receiver: Receiver, changes: list[Change], prefetched: Any, attempts: int = 2) -> None:
    if _app is None:
        return
    for attempt in range(attempts):
        try:
            if prefetched is _NOT_READ:
                prefetched = (await receiver.prefetch({token: changes})).get(token) if receiver.prefetch else None
            async with _app.modify_state(rx.BaseStateToken(ident=token, cls=receiver.state_cls)) as root:
                state = cast(sync.Receiver, await root.get_state(receiver.state_cls))
                await state._receive(changes, prefetched)
            return
        except Exception:  # one broken tab must not stop the others; a page's tick resyncs it
            if attempt == attempts - 1:
                log.exception("push to %s failed", token)
            else:
                await asyncio.sleep(0.05)


async def set_var(token: str, state_cls: type[rx.State], var: str, value) -> None:
    """Set one var of one tab's state from outside an event (e.g. a refused upload)."""
    if _app is None:
        return
    try:
        async with _app.modify_state(rx.BaseStateToken(ident=token, cls=state_cls)) as root:
            setattr(await root.get_state(state_cls), var, value)
    except Exception:  # the tab may be gone; nothing else depends on it
        log.exception("could not set %s on tab %s", var, token)


async def publish(
    changes: list[Change], *, exclude_token: str | None = None, targets: dict[str, audience.Target] | None = None
) -> None:
    """Push to every tab that must hear about ``changes`` (``targets`` if already resolved)."""
    if not changes or _app is None:
        return
    if targets is None:
        targets = await run_reading(resolve, list(dict.fromkeys(changes)))
    await asyncio.gather(
        *(
            push_to_tab(token, target.kind, list(target.changes))
            for token, target in targets.items()
            if token != exclude_token
        )
    )


# ---------------------------------------------------------------- signing out


SIGN_OUT_SECONDS = 1.0  # how often every worker looks for tabs whose sessions ended elsewhere (e.g. the CLI)


def signed_out_tabs(session: Session) -> list[str]:
    """The tabs ``services.auth.end_sessions`` left signed out, not yet cleared."""
    return list(
        session.exec(
            select(ClientConnection.token).where(
                col(ClientConnection.user_id).is_(None), ClientConnection.kind == SIGNED_OUT_TAB
            )
        )
    )


def claim_signed_out(session: Session, tokens: Iterable[str]) -> list[str]:
    """Those of ``tokens`` still waiting to be signed out, each claimed by one worker only."""
    claimed = [
        token
        for token in tokens
        if session.exec(
            delete(ClientConnection).where(
                col(ClientConnection.token) == token, col(ClientConnection.kind) == SIGNED_OUT_TAB
            )
        ).rowcount
    ]
    session.commit()
    return claimed


def _read_signed_out() -> list[str]:
    with session_scope(writer=False) as session:
        return signed_out_tabs(session)


def _claim(tokens: list[str]) -> list[str]:
    with session_scope() as session:
        return claim_signed_out(session, tokens)


async def sign_out_tabs(tokens: Iterable[str] | None = None) -> None:
    """Clear the private state of tabs whose sessions ended and send them to the
    login page (``tokens``, or every such tab still waiting: a read, and a write
    only if there are some). With Redis this reaches a tab on any worker, like a push."""
    if _app is None:
        return
    wanted = await run_reading(_read_signed_out) if tokens is None else list(tokens)
    if not wanted:
        return
    claimed = await run_blocking(_claim, wanted)
    await asyncio.gather(*(_sign_out(token) for token in claimed))


async def _sign_out(token: str) -> None:
    if _app is None or _app.event_namespace is None:
        return
    try:
        async with _app.modify_state(rx.BaseStateToken(ident=token, cls=rx.State)) as root:
            await clear_private_state(root)
        await _app.event_namespace.emit_update(StateUpdate(events=sign_out_events()), token=token)
    except Exception:  # the tab may be gone; its state can no longer be hydrated without a cookie anyway
        log.exception("could not sign out tab %s", token)


async def sign_out_loop() -> None:
    """Lifespan task: sign out the tabs whose sessions ended in another process.
    Started on the server's loop, it is where committed changes are published."""
    global _loop
    _loop = asyncio.get_running_loop()
    while True:
        try:
            await sign_out_tabs()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("signing out tabs failed")
        await asyncio.sleep(SIGN_OUT_SECONDS)


def _spawn(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(work)
    _background.add(task)
    task.add_done_callback(_background.discard)
