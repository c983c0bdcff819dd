"""bench/abuse.py's verdicts and pacing: the harness must be able to say an attack hurt."""

from __future__ import annotations

import asyncio

from bench import abuse_attacks
from bench.abuse import Result
from bench.abuse_attacks import paced
from bench.abuse_kit import Round


def quiet(**changes) -> Result:
    """An attack that did nothing the targets mind."""
    result = Result(
        attack="typing-flood",
        rss_before=200,
        rss_end=210,
        rss_after=205,
        unattacked=[Round(0.02, 0.005, 0.006)] * 3,
        attacked=[Round(0.04, 0.01, 0.02)] * 5,
    )
    for name, value in changes.items():
        setattr(result, name, value)
    return result


def test_an_attack_within_every_target_misses_none():
    assert quiet().targets() == []


def test_each_target_is_checked():
    assert quiet(rss_after=301).targets() == ["RSS +101 MB"]
    assert quiet(attacked=[Round(0.2, 0.01, 0.02)] * 5).targets() == ["start 10.0x, max 0.20 s"]
    slow_but_proportionate = Round(2.5, 0.01, 0.02)
    assert quiet(unattacked=[slow_but_proportionate] * 3, attacked=[slow_but_proportionate] * 3).targets() == [
        "start 1.0x, max 2.50 s"
    ]
    assert quiet(attacked=[Round(0.04, None, 0.02)]).targets() == ["delivery not measured or timed out"]
    assert quiet(orphans=3).targets() == ["3 orphan files"]
    assert quiet(agent_signs_in=False).targets() == ["agent locked out"]


class VirtualClock:
    """``time.monotonic`` and ``asyncio.sleep`` for the pacing loop, on a clock that
    moves only when the loop sleeps: the test judges the schedule, not the machine."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def test_paced_never_steps_faster_than_its_rate_nor_makes_up_late_steps(monkeypatch):
    clock = VirtualClock()
    monkeypatch.setattr(abuse_attacks.time, "monotonic", clock.monotonic)
    monkeypatch.setattr(abuse_attacks.asyncio, "sleep", clock.sleep)
    steps = []

    async def step() -> None:
        steps.append(clock.now)
        if len(steps) == 1:
            clock.now += 0.3  # a slow step: the ones it delayed are not sent in a burst after it

    asyncio.run(paced(0.05, 0.475, step))
    gaps = [round(b - a, 9) for a, b in zip(steps, steps[1:])]
    assert gaps == [0.3, 0.05, 0.05, 0.05]  # 0.3 s lost to the slow step, then one step per 0.05 s
