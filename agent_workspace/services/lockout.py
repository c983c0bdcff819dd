"""Failed-login counting that slows a guesser without locking the real agent out.

Failures are counted per (username, address): after ``FREE_FAILURES`` of them
each further attempt from that address for that username waits twice as long
as the one before (1 s, 2 s, 4 s ... up to ``BACKOFF_MAX``). An attacker at one
address therefore slows down only themselves: the agent signing in from their
own address has their own, untouched counter (an IPv6 address counts as its
/64). A separate budget per address (``MAX_FAILED_PER_ADDRESS`` in
``ADDRESS_WINDOW``, any usernames) stops one address from spraying many
accounts. A successful login forgets that (username, address)'s failures; the
address budget is never reset by a success, or an attacker could clear it by
signing in to an account of their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from agent_workspace.models import LoginAttempt, utcnow
from agent_workspace.services.budgets import network_of
from agent_workspace.services.errors import Forbidden

FREE_FAILURES = 5
BACKOFF_START = timedelta(seconds=1)
BACKOFF_MAX = timedelta(minutes=15)
# A (username, address)'s failures are forgotten after this long without a new one
# counting; longer than BACKOFF_MAX, or the cap would never be reached.
FAILURE_MEMORY = timedelta(hours=1)
MAX_FAILED_PER_ADDRESS = 20
ADDRESS_WINDOW = timedelta(minutes=5)
# Longest username and address stored (the login form cuts input to these).
USERNAME_CHARS = 64
ADDRESS_CHARS = 64


def client_key(address: str) -> str:
    """Whose counters an address spends: an IPv6 address counts as its /64, which
    its owner can fill with fresh addresses at will (as the public budgets do)."""
    return network_of(address)[:ADDRESS_CHARS]


class TooManyAttempts(Forbidden):
    """Refused before the password is looked at: this client must wait first."""


@dataclass(frozen=True)
class Failures:
    """Recent failed logins that bear on one attempt."""

    here: int  # for this username from this address, within FAILURE_MEMORY
    last_here: datetime | None
    from_address: int  # for any username from this address, within ADDRESS_WINDOW
    oldest_from_address: datetime | None


def recent_failures(session: Session, *, username: str, client_address: str) -> Failures:
    """Two indexed counts: this (username, address) and this address."""
    now = utcnow()
    here, last_here = session.exec(
        select(func.count(), func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username,
            LoginAttempt.client_address == client_address,
            LoginAttempt.at >= now - FAILURE_MEMORY,
        )
    ).one()
    from_address, oldest = 0, None
    if client_address:
        from_address, oldest = session.exec(
            select(func.count(), func.min(LoginAttempt.at)).where(
                LoginAttempt.client_address == client_address, LoginAttempt.at >= now - ADDRESS_WINDOW
            )
        ).one()
    return Failures(here=here, last_here=last_here, from_address=from_address, oldest_from_address=oldest)


def backoff(failures: int) -> timedelta:
    """How long after the last failure the next attempt may come, for ``failures`` of them."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES, 30)  # 2**30 s is far past the cap
    return min(BACKOFF_START * 2**doublings, BACKOFF_MAX)


def wait_before_next(failures: Failures, now: datetime | None = None) -> timedelta:
    """How long this client must still wait (zero: it may try now)."""
    now = now or utcnow()
    waits = [timedelta(0)]
    if failures.last_here is not None:
        waits.append(failures.last_here + backoff(failures.here) - now)
    if failures.from_address >= MAX_FAILED_PER_ADDRESS and failures.oldest_from_address is not None:
        waits.append(failures.oldest_from_address + ADDRESS_WINDOW - now)
    return max(waits)


def _in_words(wait: timedelta) -> str:
    seconds = math.ceil(wait.total_seconds())
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def refusal(failures: Failures) -> TooManyAttempts | None:
    """The error saying how long to wait, if this client must wait first."""
    wait = wait_before_next(failures)
    if wait <= timedelta(0):
        return None
    return TooManyAttempts(f"Too many failed attempts. Try again in {_in_words(wait)}.")


def refuse_if_waiting(failures: Failures) -> None:
    if (error := refusal(failures)) is not None:
        raise error


def record_failure(session: Session, *, username: str, client_address: str) -> None:
    session.add(LoginAttempt(username=username, client_address=client_address))


def forget_failures(session: Session, *, username: str, client_address: str) -> None:
    """After a successful login this (username, address) starts afresh."""
    session.execute(
        delete(LoginAttempt).where(
            col(LoginAttempt.username) == username, col(LoginAttempt.client_address) == client_address
        )
    )


def forget_old_failures(session: Session, *, now: datetime | None = None) -> int:
    """Delete failures older than ``FAILURE_MEMORY``: they count for nothing any
    more, and a guessing flood must not leave rows behind for ever."""
    cutoff = (now or utcnow()) - FAILURE_MEMORY
    return session.exec(delete(LoginAttempt).where(col(LoginAttempt.at) < cutoff)).rowcount or 0
