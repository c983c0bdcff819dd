"""Reads every customer tab of this process shares, so a crowd of visitors costs
one read: the queues' outlooks for newcomers, waiting customers' places in line."""

from __future__ import annotations

import time

from agent_workspace.services import availability, customer_views
from agent_workspace.services.events import Change, QueueChanged
from agent_workspace.state.common import run_query

OUTLOOK_CACHE_SECONDS = 2.0  # every visitor's form reads the same figures: one read per process per spell

_outlooks: tuple[float, dict[int, availability.Outlook]] = (0.0, {})


async def newcomer_outlooks(queue_id: int, listed_at: float) -> dict[int, availability.Outlook]:
    """Every queue's outlook for someone about to start a chat, read at most once
    per ``OUTLOOK_CACHE_SECONDS`` in this process however many visitors look; and
    again if the read predates the tab's list of queues (``listed_at``, wall clock)
    and misses ``queue_id``: a queue added since. A queue removed since is missing
    from newer reads too, so asking for it does not read again."""
    global _outlooks
    read_at, found = _outlooks
    if time.time() - read_at >= OUTLOOK_CACHE_SECONDS or (queue_id not in found and read_at < listed_at):
        read_at = time.time()
        found = await run_query(availability.queue_outlooks)
        _outlooks = (read_at, found)
    return found


async def prefetch_places(batch: dict[str, list[Change]]) -> dict[str, customer_views.Place]:
    """For tabs that only heard their queue move, their places in line, read once
    for all of them: every waiting customer's tab hears each change of their queue.
    Like the agents' inbox, each counts only if newer than the tab's own read (``sync.customer.read``)."""
    tokens = [token for token, changes in batch.items() if all(isinstance(c, QueueChanged) for c in changes)]
    if not tokens:
        return {}
    return await run_query(customer_views.places_of_clients, tokens=tokens)
