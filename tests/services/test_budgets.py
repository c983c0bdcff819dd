"""Budgets of the public surface: per tab and per address, refused attempts included."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from agent_workspace.services import budgets
from agent_workspace.services.budgets import ALLOWANCES, Budget, OverBudget

ADDRESS = "203.0.113.7"


@pytest.fixture(autouse=True)
def fresh_counts(monkeypatch):
    monkeypatch.delenv("REFLEX_REDIS_URL", raising=False)
    budgets.reset()
    yield
    budgets.reset()


async def spend_all(budget: Budget, *, token: str, address: str = ADDRESS, times: int) -> list[str]:
    """What each of ``times`` attempts got: "" when allowed, else the refusal."""
    answers = []
    for _ in range(times):
        try:
            await budgets.spend(budget, token=token, address=address)
            answers.append("")
        except OverBudget as refused:
            answers.append(str(refused))
    return answers


async def test_a_tab_over_its_budget_is_refused_with_a_clear_message_and_its_neighbours_are_not():
    allowed = ALLOWANCES[Budget.REQUEST].per_tab
    answers = await spend_all(Budget.REQUEST, token="tab-a", times=allowed + 3)

    assert answers[:allowed] == [""] * allowed
    assert answers[allowed:] == ["Slow down: too many attempts from this page. Try again in a few minutes."] * 3
    assert await spend_all(Budget.REQUEST, token="tab-b", times=1) == [""]  # same address, another tab
    assert await spend_all(Budget.SEND, token="tab-a", times=1) == [""]  # budgets are apart


async def test_an_address_is_allowed_as_many_tabs_as_chats_and_then_fresh_tabs_get_nothing(monkeypatch):
    monkeypatch.setenv("AW_CHATS_PER_ADDRESS", "2")
    allowed = ALLOWANCES[Budget.SEND].per_tab
    for tab in ("tab-a", "tab-b"):
        assert await spend_all(Budget.SEND, token=tab, times=allowed) == [""] * allowed

    fresh = [f"tab-{uuid.uuid4().hex}" for _ in range(5)]  # a script with a new token for every event
    refusals = [await spend_all(Budget.SEND, token=tab, times=1) for tab in fresh]

    assert refusals == [["Slow down: too many requests came from your network. Try again in a few seconds."]] * 5
    assert await spend_all(Budget.SEND, token=fresh[0], address="198.51.100.1", times=1) == [""]


async def test_a_tab_refused_spends_nothing_of_its_address(monkeypatch):
    monkeypatch.setenv("AW_CHATS_PER_ADDRESS", "2")
    allowed = ALLOWANCES[Budget.RATE].per_tab
    await spend_all(Budget.RATE, token="noisy", times=allowed + 50)

    assert await spend_all(Budget.RATE, token="quiet", times=allowed) == [""] * allowed


async def test_every_address_of_one_ipv6_subscriber_spends_from_one_budget(monkeypatch):
    monkeypatch.setenv("AW_CHATS_PER_ADDRESS", "1")
    allowed = ALLOWANCES[Budget.UPLOAD].per_tab
    assert await spend_all(Budget.UPLOAD, token="a", address="2001:db8:1:2::1", times=allowed) == [""] * allowed

    assert (await spend_all(Budget.UPLOAD, token="b", address="2001:db8:1:2:ffff::9", times=1))[0].startswith(
        "Slow down"
    )
    assert await spend_all(Budget.UPLOAD, token="c", address="2001:db8:1:3::1", times=1) == [""]
    assert budgets.network_of("::ffff:198.51.100.4") == "198.51.100.4"
    assert budgets.network_of("x" * 10_000) == "x" * 64


def _redis_reachable() -> bool:
    try:
        import redis

        redis.Redis(socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


@pytest.mark.skipif(not _redis_reachable(), reason="no Redis on localhost")
async def test_with_redis_every_worker_spends_from_the_same_budget(monkeypatch, tmp_path):
    monkeypatch.setenv("REFLEX_REDIS_URL", "redis://localhost:6379/0")
    monkeypatch.setenv("AW_DATABASE_URL", f"sqlite:///{tmp_path / uuid.uuid4().hex}.db")  # this run's own key prefix
    allowed = ALLOWANCES[Budget.LOGIN].per_tab
    assert await spend_all(Budget.LOGIN, token="tab", times=allowed - 1) == [""] * (allowed - 1)

    budgets.reset()  # as another worker process: a new limiter on the same store
    assert await spend_all(Budget.LOGIN, token="tab", times=2) == [
        "",
        "Slow down: too many attempts from this page. Try again in a few minutes.",
    ]

    monkeypatch.setenv("AW_DATABASE_URL", f"sqlite:///{tmp_path / uuid.uuid4().hex}.db")
    budgets.reset()  # another deployment on the same Redis counts apart
    assert await spend_all(Budget.LOGIN, token="tab", times=1) == [""]


async def test_an_address_makes_as_many_chat_requests_as_aw_chats_per_address_says(monkeypatch):
    """The README's knob: 3 requests per address, however many tabs ask."""
    monkeypatch.setenv("AW_CHATS_PER_ADDRESS", "3")
    answers = [(await spend_all(Budget.REQUEST, token=f"tab-{n}", times=1))[0] for n in range(5)]
    assert answers[:3] == ["", "", ""]
    assert all(answer.startswith("Slow down: too many requests came from your network") for answer in answers[3:])


async def test_many_keys_do_not_make_every_hit_walk_them_all(monkeypatch):
    """limits' own memory storage sweeps every key after each hit; ours at most every 10 s."""
    sweeps = []
    original = budgets._MemoryStorage._MemoryStorage__expire_events

    async def counted(self):
        sweeps.append(1)
        await original(self)

    monkeypatch.setattr(budgets._MemoryStorage, "_MemoryStorage__expire_events", counted)
    for n in range(2_000):
        await budgets.spend(Budget.EVENT, token=f"tab-{n}", address=f"198.51.{n // 250}.{n % 250}")
        await asyncio.sleep(0)  # a sweep that was started runs to its end, as between events
    assert len(sweeps) <= 1
