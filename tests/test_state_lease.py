"""The scaled mode's state locks, on a real Redis: an event that outlives
``redis_lock_expiration`` keeps its lock and its save, and the next event waits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from reflex.istate.manager.redis import StateManagerRedis
from reflex.istate.manager.token import BaseStateToken
from reflex.utils.exceptions import LockExpiredError

from agent_workspace import state_lease
from agent_workspace.state.chat_slots import SLOT_STATES
from agent_workspace.state.views import MessageView

LOCK_MS = 300
SLOT = SLOT_STATES[0]


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url("redis://127.0.0.1:6379/0")
    yield client
    await client.aclose()


def manager(cls: type[StateManagerRedis], redis: Redis) -> StateManagerRedis:
    return cls(redis=redis, token_expiration=60, lock_expiration=LOCK_MS, lock_warning_threshold=LOCK_MS // 2)


class Events:
    """Events on one tab, and the order in which they ran under its lock."""

    def __init__(self, states: StateManagerRedis) -> None:
        self.states = states
        self.token = BaseStateToken(ident=uuid.uuid4().hex, cls=SLOT)
        self.ran: list[str] = []
        self.first_holds = asyncio.Event()

    async def event(self, body: str, held_s: float = 0) -> None:
        """An event that holds the tab's lock ``held_s`` seconds and adds ``body``."""
        async with self.states.modify_state(self.token) as root:
            slot = await root.get_state(SLOT)
            self.ran.append(f"{body} starts")
            self.first_holds.set()
            await asyncio.sleep(held_s)
            slot.messages = [*slot.messages, MessageView(body=body)]
            self.ran.append(f"{body} ends")

    async def slow_then_quick(self, held_s: float) -> asyncio.Task:
        """A slow event, and a quick one sent while it holds the lock; returns the slow one."""
        slow = asyncio.create_task(self.event("slow", held_s))
        await self.first_holds.wait()
        await self.event("quick")
        return slow

    async def stored(self) -> list[str]:
        slot = await (await self.states.get_state(self.token)).get_state(SLOT)
        return [m.body for m in slot.messages]

    async def clean(self) -> None:
        await self.states.redis.delete(*await self.states.redis.keys(f"{self.token.ident}*"))


async def test_an_event_that_outlives_the_lock_keeps_it_and_the_next_one_waits(redis):
    tab = Events(manager(state_lease.LeasedStateManagerRedis, redis))
    try:
        slow = await tab.slow_then_quick(held_s=4 * LOCK_MS / 1000)
        await slow  # saved: no LockExpiredError
        assert tab.ran == ["slow starts", "slow ends", "quick starts", "quick ends"]
        assert await tab.stored() == ["slow", "quick"]
    finally:
        await tab.clean()


async def assert_the_slow_event_loses_its_save(tab: Events, held_s: float) -> None:
    """The quick event ran on the state before the slow one, whose save is refused."""
    try:
        slow = await tab.slow_then_quick(held_s)
        with pytest.raises(LockExpiredError):
            await slow
        assert tab.ran == ["slow starts", "quick starts", "quick ends", "slow ends"]
        assert await tab.stored() == ["quick"]
    finally:
        await tab.clean()


async def test_without_the_lease_the_slow_event_loses_its_save(redis):
    """What the lease is for: Reflex's own manager lets the lock lapse."""
    await assert_the_slow_event_loses_its_save(Events(manager(StateManagerRedis, redis)), held_s=4 * LOCK_MS / 1000)


async def test_a_lock_held_past_the_longest_hold_lapses(redis, monkeypatch):
    """One hung event cannot lock a tab for ever: renewals stop after MAX_HOLD_SECONDS."""
    monkeypatch.setattr(state_lease, "MAX_HOLD_SECONDS", 2 * LOCK_MS / 1000)
    tab = Events(manager(state_lease.LeasedStateManagerRedis, redis))
    await assert_the_slow_event_loses_its_save(tab, held_s=8 * LOCK_MS / 1000)


def test_the_app_in_the_scaled_mode_takes_the_leased_manager(monkeypatch):
    """``install`` swaps Reflex's Redis manager for the leased one with its settings,
    and leaves the embedded mode's memory manager alone."""
    from agent_workspace.agent_workspace import app

    memory = app.state_manager
    state_lease.install(app)
    assert app.state_manager is memory

    monkeypatch.setattr(app, "_state_manager", manager(StateManagerRedis, Redis.from_url("redis://127.0.0.1:6379/0")))
    state_lease.install(app)
    assert type(app.state_manager) is state_lease.LeasedStateManagerRedis
    assert app.state_manager.lock_expiration == LOCK_MS
