"""The newcomers' outlook cache: shared by every visitor, yet never blind to a queue
added after it was read (its form would offer no availability and no message)."""

from __future__ import annotations

import asyncio
import time

import pytest

from agent_workspace.services import availability
from agent_workspace.state import customer_reads


class Reads(list):
    """Each read of the outlooks; ``known`` is what the database holds."""

    known: set[int]


@pytest.fixture
def reads(monkeypatch) -> Reads:
    done = Reads()
    done.known = {1}

    async def fake_read(fn, **_kwargs):
        assert fn is availability.queue_outlooks
        done.append(set(done.known))
        return {queue_id: object() for queue_id in done.known}

    monkeypatch.setattr(customer_reads, "run_query", fake_read)
    monkeypatch.setattr(customer_reads, "_outlooks", (0.0, {}))
    return done


def test_visitors_share_one_read_while_it_is_fresh(reads) -> None:
    listed_at = time.time()
    for _visitor in range(5):
        asyncio.run(customer_reads.newcomer_outlooks(1, listed_at))
    assert len(reads) == 1


def test_a_queue_added_after_the_read_is_read_again_at_once(reads) -> None:
    asyncio.run(customer_reads.newcomer_outlooks(1, time.time()))
    reads.known.add(2)
    listed_at = time.time()  # a new tab lists queue 2
    found = asyncio.run(customer_reads.newcomer_outlooks(2, listed_at))
    assert 2 in found and len(reads) == 2


def test_a_queue_gone_since_the_read_does_not_read_again(reads) -> None:
    listed_at = time.time()  # the tab listed queue 3, which is removed before anyone reads
    asyncio.run(customer_reads.newcomer_outlooks(1, listed_at))
    for _attempt in range(5):
        asyncio.run(customer_reads.newcomer_outlooks(3, listed_at))
    assert len(reads) == 1
