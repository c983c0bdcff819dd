"""Scaled mode: a tab's state lock in Redis lasts as long as the event that holds it.

Reflex's Redis state manager locks a tab's state for ``redis_lock_expiration``
(10 s by default). An event that outlives its lock has already sent its delta to
the browser when Reflex's fenced save refuses it (``LockExpiredError``), and an
event that took the lock meanwhile ran on the state before it: the page shows what
the server forgot. A started chat the tab's state never held never hears its
agent's replies; a chat slot emptied on the page but not on the server shows the
next chat with the last one's messages. On two busy cores an event can wait that
long for the database, so here the holder renews its own lock while it works, as
a lease: a process that dies stops renewing and its locks still lapse after
``redis_lock_expiration``, and a holder stuck past ``MAX_HOLD_SECONDS`` stops
renewing too, so that one hung event cannot lock a tab for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx
from redis.exceptions import RedisError
from reflex.istate.manager.redis import StateManagerRedis

log = logging.getLogger(__name__)

MAX_HOLD_SECONDS = 120.0
RENEWALS_PER_EXPIRATION = 3  # a renewal may be late twice before the lock lapses

# Extend the lock only while it is still ours: a lock that lapsed and was taken
# by another holder is theirs, and their expiry is theirs to keep.
_RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class LeasedStateManagerRedis(StateManagerRedis):
    """Reflex's Redis state manager whose locks are renewed while held."""

    @contextlib.asynccontextmanager
    async def _lock(self, token: Any, event_name: str | None = None) -> AsyncIterator[bytes]:
        async with super()._lock(token, event_name=event_name) as lock_id:
            renewal = asyncio.create_task(self._renew(self._lock_key(token), lock_id))
            try:
                yield lock_id
            finally:
                renewal.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewal

    async def _renew(self, lock_key: bytes, lock_id: bytes) -> None:
        """Push the lock's expiry back every third of it, until the holder is done,
        the lock is no longer ours, or ``MAX_HOLD_SECONDS`` passed."""
        loop = asyncio.get_running_loop()
        every = self.lock_expiration / 1000 / RENEWALS_PER_EXPIRATION
        give_up_at = loop.time() + MAX_HOLD_SECONDS
        while loop.time() + every < give_up_at:
            await asyncio.sleep(every)
            try:
                if not await self.redis.eval(_RENEW_SCRIPT, 1, lock_key, lock_id, self.lock_expiration):  # type: ignore[misc]
                    return
            except RedisError:  # the next renewal may get through; the fenced save has the last word
                log.warning("renewing the state lock %s failed", lock_key, exc_info=True)
        log.warning("state lock %s held over %.0f s: no longer renewed", lock_key, MAX_HOLD_SECONDS)


def install(app: rx.App) -> None:
    """Give ``app`` the leased manager in place of Reflex's, with the same settings
    (at import, before the server's event processing takes the manager)."""
    manager = app.state_manager
    if type(manager) is StateManagerRedis:
        settings = {f.name: getattr(manager, f.name) for f in dataclasses.fields(manager) if f.init}
        # mypy reads Reflex's overridden methods as abstract; the class is concrete (as Reflex's is).
        app._state_manager = LeasedStateManagerRedis(**settings)  # type: ignore[abstract]
