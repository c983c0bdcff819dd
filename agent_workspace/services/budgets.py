"""How much any one tab and any one address may ask of the public surface.

Every public action spends from two budgets before it does any work: its
tab's (the Reflex client token) and its address's. Refused attempts spend
too (an invalid form, a message the chat refuses), so trying costs the same
as succeeding and a flood is cut off however it is made. An address may act
for as many tabs as it may start chats (``AW_CHATS_PER_ADDRESS`` per 10
minutes), so one knob scales every address budget.

Counted with the ``limits`` library (sliding window counters: two numbers a
key): in this process's memory in the embedded default, in Redis when
``REFLEX_REDIS_URL`` is set, so every worker spends from the same budget.
Keys are hashes under a prefix of this deployment's database, so two apps
(or two test runs) sharing a Redis never meet.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import os
import time
from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from agent_workspace.config import database_url, settings
from agent_workspace.services.errors import ValidationError

log = logging.getLogger(__name__)


class Budget(StrEnum):
    REQUEST = "request"  # a chat started or a message left: what AW_CHATS_PER_ADDRESS counts
    SEND = "send"  # a chat message sent or retried
    TYPING = "typing"
    RATE = "rate"  # the post-chat survey
    UPLOAD = "upload"  # one upload request (its files are counted by the upload quota)
    LOGIN = "login"  # a sign-in attempt, whatever the username
    EVENT = "event"  # any event of a public state, spent by the middleware before its handler
    LAUNCHER = "launcher"  # the chat widget's availability poll (a host page, not a tab, spends it)


@dataclass(frozen=True)
class Allowance:
    per_tab: int
    seconds: int  # the window both counts run over
    # The address's count, as a multiple of AW_CHATS_PER_ADDRESS; None: as many tabs'
    # worth as the address may open chats (per_tab times AW_CHATS_PER_ADDRESS).
    per_address_chats: int | None = None

    def items(self) -> tuple[RateLimitItem, RateLimitItem]:
        """The tab's limit and the address's."""
        chats = max(1, settings().chats_per_address)
        per_address = chats * (self.per_tab if self.per_address_chats is None else self.per_address_chats)
        return _per(self.per_tab, self.seconds), _per(per_address, self.seconds)


# A person typing, reading and chatting stays far inside these; a script does not.
ALLOWANCES = {
    Budget.REQUEST: Allowance(per_tab=5, seconds=600, per_address_chats=1),  # AW_CHATS_PER_ADDRESS itself
    Budget.EVENT: Allowance(per_tab=240, seconds=60),  # any public event: the pages tick every 10-15 s
    Budget.SEND: Allowance(per_tab=20, seconds=10),  # the chat itself stores at most 10 per 10 s
    Budget.TYPING: Allowance(per_tab=60, seconds=60),  # pages report typing at most every 1.5 s
    Budget.RATE: Allowance(per_tab=5, seconds=600),
    Budget.UPLOAD: Allowance(per_tab=10, seconds=600),
    Budget.LOGIN: Allowance(per_tab=10, seconds=300),
    Budget.LAUNCHER: Allowance(per_tab=12, seconds=60),  # launchers ask every 30 s and when the page is shown again
}


class OverBudget(ValidationError):
    """Too many attempts from this tab or this address: refused before any work."""


def _per(amount: int, seconds: int) -> RateLimitItem:
    if seconds % 60:
        return RateLimitItemPerSecond(amount, seconds, namespace="aw")
    return RateLimitItemPerMinute(amount, seconds // 60, namespace="aw")


def _key(kind: str, value: str) -> str:
    """A fixed-size key whatever the client sent, and no token or address in Redis."""
    return f"{kind}-{hashlib.sha256(value.encode()).hexdigest()[:24]}"


def _wait_words(seconds: int) -> str:
    return "a few seconds" if seconds <= 30 else "a minute" if seconds <= 90 else "a few minutes"


class _Counter:
    """The limiter and its storage, made in the event loop that first spends
    (asyncio storages belong to one loop)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.limiter: SlidingWindowCounterRateLimiter | None = None

    def get(self) -> SlidingWindowCounterRateLimiter:
        loop = asyncio.get_running_loop()
        if self.limiter is None or self.loop is not loop:
            self.loop, self.limiter = loop, SlidingWindowCounterRateLimiter(_storage())
        return self.limiter


class _MemoryStorage(MemoryStorage):
    """``limits``' memory storage, sweeping expired keys at most every
    ``SWEEP_SECONDS``: its own sweep walks every key after every hit that finds no
    sweep running, on the event loop, so a hit costs more with every key. A key past
    its expiry still reads as empty; the sweep only gives its memory back."""

    STORAGE_SCHEME = ["async+aw-memory"]
    SWEEP_SECONDS = 10.0
    _swept_at = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:
        if time.monotonic() - self._swept_at >= self.SWEEP_SECONDS and (not self.timer or self.timer.done()):
            self._swept_at = time.monotonic()
            # limits' private sweep, by its mangled name (mypy knows it unmangled)
            self.timer = asyncio.create_task(self._MemoryStorage__expire_events())  # type: ignore[attr-defined]


def _storage():
    redis_url = os.environ.get("REFLEX_REDIS_URL", "")
    if not redis_url:
        return _MemoryStorage(wrap_exceptions=True)
    prefix = "aw-budget-" + hashlib.sha256(database_url().encode()).hexdigest()[:12]
    return storage_from_string(f"async+{redis_url}", implementation="redispy", key_prefix=prefix, wrap_exceptions=True)


_counter = _Counter()


async def spend(budget: Budget, *, token: str, address: str) -> None:
    """Spend one attempt of ``budget`` for this tab and this address, or raise
    ``OverBudget`` (a message fit to show). Call it first, before any clean-up
    or database work. A tab over its budget spends nothing of its address's, so
    one noisy tab does not silence its neighbours; an address over its budget
    makes no count for a new tab, so fresh tokens from one address add nothing
    to remember."""
    allowance = ALLOWANCES[budget]
    tab_item, address_item = allowance.items()
    tab = (budget.value, _key("tab", token))
    network = (budget.value, _key("address", network_of(address)))
    wait = _wait_words(allowance.seconds)
    limiter = _counter.get()
    try:
        if not await limiter.test(tab_item, *tab):
            raise OverBudget(f"Slow down: too many attempts from this page. Try again in {wait}.")
        if address and not await limiter.hit(address_item, *network):
            raise OverBudget(f"Slow down: too many requests came from your network. Try again in {wait}.")
        if not await limiter.hit(tab_item, *tab):  # another event of this tab spent the last one meanwhile
            raise OverBudget(f"Slow down: too many attempts from this page. Try again in {wait}.")
    except StorageError:  # the counters' store is down: the chat's own limits still hold
        _store_down(budget)


_last_store_warning = 0.0


def _store_down(budget: Budget) -> None:
    """Say once a minute, not once per event, that the budgets' store is down."""
    global _last_store_warning
    if time.monotonic() - _last_store_warning >= 60:
        _last_store_warning = time.monotonic()
        log.exception("spending the %s budget failed; allowed (said at most once a minute)", budget.value)


def network_of(address: str) -> str:
    """Whom an address budget belongs to: an IPv4 address, or an IPv6 /64 (one
    subscriber's, which they can fill with fresh addresses at will)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def reset() -> None:
    """Forget every count (tests; the memory store lives as long as the process)."""
    _counter.limiter = None
