"""The delivery worker: every backend process works through the outbox on a lifespan task.

It claims due emails (``services.outbox``, safe across workers and processes),
hands each SMTP conversation to the mail threads (``db.run_mailing``) with no
transaction open, records the answer in a short transaction and tells the
author's tabs. A pass runs when this process queues an email (``wake``) and
every ``POLL_SECONDS`` (emails queued by another process, retries that came due).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from agent_workspace.db import MAIL_THREADS, run_blocking, run_mailing, run_reading, session_scope
from agent_workspace.services import email, outbox
from agent_workspace.services.email import Delivery, SmtpSettings

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0

_wake: asyncio.Event | None = None
_in_flight: set[asyncio.Task] = set()


def wake() -> None:
    """An email was just queued in this process: deliver it now, not at the next poll."""
    if _wake is not None:
        _wake.set()


def _has_due(now: datetime | None) -> bool:
    with session_scope(writer=False) as session:
        return outbox.has_due(session, now=now)


def _claim(limit: int, now: datetime | None) -> list[Delivery]:
    with session_scope() as session:
        return outbox.claim_due(session, limit=limit, now=now)


def _record(delivery: Delivery, outcome: email.Outcome, now: datetime | None) -> None:
    with session_scope() as session:
        outbox.record_outcome(session, delivery, outcome, now=now)


async def claim(limit: int, *, now: datetime | None = None) -> list[Delivery]:
    """Up to ``limit`` due emails for this worker (none without a due one: a read first, no write lock)."""
    if limit <= 0 or not await run_reading(_has_due, now):
        return []
    return await run_blocking(_claim, limit, now)


async def deliver_one(delivery: Delivery, smtp: SmtpSettings, *, now: datetime | None = None) -> None:
    """The SMTP conversation on a mail thread, then its outcome in a transaction of its own."""
    outcome = await run_mailing(email.deliver, delivery, smtp)
    await run_blocking(_record, delivery, outcome, now)


async def deliver_due(smtp: SmtpSettings, *, now: datetime | None = None, limit: int = MAIL_THREADS) -> int:
    """One pass, waiting for every email it claimed: what ``run`` does, for tests and the CLI.
    Returns how many it tried."""
    if not smtp.configured:
        return 0
    deliveries = await claim(limit, now=now)
    await asyncio.gather(*(deliver_one(d, smtp, now=now) for d in deliveries))
    return len(deliveries)


async def _deliver(delivery: Delivery, smtp: SmtpSettings) -> None:
    try:
        await deliver_one(delivery, smtp)
    except Exception:  # the claim goes stale and another pass retries it
        log.exception("delivering email %s failed", delivery.email_id)
    finally:
        if (task := asyncio.current_task()) is not None:
            _in_flight.discard(task)
        wake()  # a mail thread is free: claim the next one


async def run() -> None:
    """For the life of the process: as many SMTP conversations at once as there are mail threads,
    so one slow server answer does not hold back the others."""
    global _wake
    _wake = asyncio.Event()
    while True:
        _wake.clear()
        try:
            smtp = SmtpSettings.from_settings()
            if smtp.configured:
                for delivery in await claim(MAIL_THREADS - len(_in_flight)):
                    task = asyncio.create_task(_deliver(delivery, smtp))
                    _in_flight.add(task)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("email delivery pass failed")
        try:
            await asyncio.wait_for(_wake.wait(), POLL_SECONDS)
        except TimeoutError:
            pass
