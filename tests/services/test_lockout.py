"""The login lockout on a real database: backoff per (username, address), a budget
per address, and the password checked outside every transaction."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from agent_workspace import db
from agent_workspace.models import AuthSession, LoginAttempt, Role, User, utcnow
from agent_workspace.services import auth, lockout
from agent_workspace.services.errors import ValidationError
from agent_workspace.state import auth as auth_state
from tests.services.helpers import count, use_fast_argon2

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_argon2(monkeypatch)


@pytest.fixture
def alice(session: Session) -> User:
    return auth.create_user(session, username="alice", password=PASSWORD, roles=[Role.WORKSPACE_USER])


ATTACKER = "203.0.113.66"
HOME = "192.0.2.10"  # the agent's usual address


def _fail(session: Session, *, username: str = "alice", address: str = ATTACKER) -> None:
    with pytest.raises(ValidationError, match="Wrong username or password."):
        auth.login(session, username=username, password="wrong password", client_address=address)


def _age_failures(session: Session, by: timedelta) -> None:
    """Move every recorded failure back in time, as if ``by`` had passed."""
    for attempt in session.exec(select(LoginAttempt)):
        attempt.at -= by
    session.commit()


def test_an_attacker_at_one_address_does_not_lock_the_agent_out(session: Session, alice: User) -> None:
    for _ in range(lockout.FREE_FAILURES):
        _fail(session)
    # The attacker's address now waits, even with the right password ...
    with pytest.raises(lockout.TooManyAttempts, match=r"Too many failed attempts\. Try again in 1 second\."):
        auth.login(session, username="alice", password=PASSWORD, client_address=ATTACKER)
    # ... while the agent signs in from their own address (and from none at all).
    assert auth.login(session, username="alice", password=PASSWORD, client_address=HOME)[0]
    assert auth.login(session, username="alice", password=PASSWORD)[0]
    assert count(session, AuthSession) == 2


def test_each_failure_past_the_free_ones_doubles_the_wait(session: Session, alice: User) -> None:
    for _ in range(lockout.FREE_FAILURES):
        _fail(session)
    for seconds in (1, 2, 4, 8):
        with pytest.raises(lockout.TooManyAttempts, match=rf"Try again in {seconds} seconds?\."):
            auth.login(session, username="alice", password="wrong password", client_address=ATTACKER)
        _age_failures(session, timedelta(seconds=seconds, milliseconds=100))
        _fail(session)  # the wait is over: one more guess is checked (and fails)
    # Refused attempts are not stored: only the checked ones count.
    assert count(session, LoginAttempt) == lockout.FREE_FAILURES + 4


def test_the_wait_is_capped_and_then_forgotten(session: Session, alice: User) -> None:
    for _ in range(40):
        session.add(LoginAttempt(username="alice", client_address=ATTACKER))
    session.commit()
    with pytest.raises(lockout.TooManyAttempts, match=r"Try again in 15 minutes\."):
        auth.login(session, username="alice", password=PASSWORD, client_address=ATTACKER)
    _age_failures(session, lockout.BACKOFF_MAX + timedelta(seconds=1))
    _fail(session)  # the cap is over: one guess, and the next one waits the cap again
    with pytest.raises(lockout.TooManyAttempts, match=r"Try again in 15 minutes\."):
        auth.login(session, username="alice", password=PASSWORD, client_address=ATTACKER)
    _age_failures(session, lockout.FAILURE_MEMORY)
    assert auth.login(session, username="alice", password=PASSWORD, client_address=ATTACKER)[0]


def test_backoff_sequence() -> None:
    assert [lockout.backoff(n).total_seconds() for n in range(lockout.FREE_FAILURES + 3)] == [0, 0, 0, 0, 0, 1, 2, 4]
    assert lockout.backoff(10_000) == lockout.BACKOFF_MAX


def test_a_success_forgets_the_failures_of_that_username_and_address_only(session: Session, alice: User) -> None:
    for _ in range(lockout.FREE_FAILURES - 1):
        _fail(session, address=HOME)
    _fail(session, address=ATTACKER)
    assert auth.login(session, username="alice", password=PASSWORD, client_address=HOME)[0]
    remaining = session.exec(select(LoginAttempt.client_address)).all()
    assert remaining == [ATTACKER]
    for _ in range(lockout.FREE_FAILURES - 1):
        _fail(session, address=HOME)  # a typo-prone agent starts afresh after each success
    assert auth.login(session, username="alice", password=PASSWORD, client_address=HOME)[0]


def test_one_address_guessing_many_usernames_runs_out_of_budget(session: Session, alice: User) -> None:
    auth.create_user(session, username="mallory", password=PASSWORD)  # the attacker's own account
    for attempt in range(lockout.MAX_FAILED_PER_ADDRESS - 1):
        _fail(session, username=f"guess{attempt}")
    # Signing in to an account of one's own does not refill the address's budget.
    assert auth.login(session, username="mallory", password=PASSWORD, client_address=ATTACKER)[0]
    _fail(session, username="one-more")
    with pytest.raises(lockout.TooManyAttempts, match=r"Try again in 5 minutes\."):
        auth.login(session, username="alice", password=PASSWORD, client_address=ATTACKER)
    # Other addresses are not affected.
    assert auth.login(session, username="alice", password=PASSWORD, client_address=HOME)[0]
    _age_failures(session, lockout.ADDRESS_WINDOW)
    assert auth.login(session, username="mallory", password=PASSWORD, client_address=ATTACKER)[0]


def test_the_address_budget_holds_for_long_addresses(session: Session, alice: User) -> None:
    """The attempt is stored with the address cut to 64 characters; the count must match it."""
    address = "2001:0db8:85a3:0000:0000:8a2e:0370:7334%" + "interface-zone-name-x" * 2
    assert len(address) > 64
    for attempt in range(lockout.MAX_FAILED_PER_ADDRESS):
        _fail(session, username=f"guess{attempt}", address=address)
    with pytest.raises(lockout.TooManyAttempts):
        auth.login(session, username="alice", password=PASSWORD, client_address=address)


def test_an_ipv6_attacker_cannot_escape_the_backoff_within_their_64(session: Session, alice: User) -> None:
    for host in range(lockout.FREE_FAILURES):
        _fail(session, address=f"2001:db8:1:2::{host + 1:x}")
    with pytest.raises(lockout.TooManyAttempts):
        auth.login(session, username="alice", password=PASSWORD, client_address="2001:db8:1:2:ffff::9")
    assert auth.login(session, username="alice", password=PASSWORD, client_address="2001:db8:1:3::1")[0]


def test_a_refused_attempt_checks_no_password(session: Session, alice: User, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(lockout.FREE_FAILURES):
        _fail(session)
    checked = []
    monkeypatch.setattr(auth, "password_matches", lambda *args: checked.append(args) or True)
    with pytest.raises(lockout.TooManyAttempts):
        auth.login(session, username="alice", password=PASSWORD, client_address=ATTACKER)
    assert checked == []


def test_failures_that_landed_during_the_password_check_refuse_it(session: Session, alice: User) -> None:
    """Guesses checked at the same time all pass the read step; the write step counts them again."""
    for _ in range(lockout.FREE_FAILURES - 1):
        _fail(session)
    check = auth.begin_login(session, username="alice", client_address=ATTACKER)
    session.commit()
    _fail(session)  # a concurrent guess finished first: the 5th failure
    ok = auth.password_matches(check, PASSWORD)
    assert ok
    with pytest.raises(lockout.TooManyAttempts):
        auth.finish_login(session, check=check, ok=ok)
    assert count(session, AuthSession) == 0
    assert count(session, LoginAttempt) == lockout.FREE_FAILURES + 1  # counted like a failure


def test_a_password_changed_during_the_check_is_not_accepted(session: Session, alice: User) -> None:
    check = auth.begin_login(session, username="alice", client_address=HOME)
    session.commit()
    auth.set_password(session, username="alice", password="a brand new password")
    with pytest.raises(ValidationError, match="Wrong username or password."):
        auth.finish_login(session, check=check, ok=auth.password_matches(check, PASSWORD))
    assert count(session, AuthSession) == 0


def test_the_login_page_checks_the_password_outside_any_transaction(
    database_url: str, session: Session, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While argon2 runs, no other writer waits: the write turn is free and no connection is checked out."""
    seen = []
    real = auth.password_matches

    def turn_is_free() -> bool:
        """Asked from another thread: the write turn is reentrant for its holder."""
        with ThreadPoolExecutor(1) as other:
            return other.submit(
                lambda: db._sqlite_write_turn.acquire(blocking=False) and not db._sqlite_write_turn.release()
            ).result()

    def watched(check, password):
        seen.append((turn_is_free(), db.get_engine().pool.checkedout(), db.get_engine(writer=False).pool.checkedout()))
        return real(check, password)

    monkeypatch.setattr(auth, "password_matches", watched)
    ticket = asyncio.run(auth_state.sign_in(username="alice", password=PASSWORD, client_address=HOME))
    assert ticket and seen == [(True, 0, 0)]
    with pytest.raises(ValidationError):
        asyncio.run(auth_state.sign_in(username="alice", password="wrong password", client_address=HOME))
    assert len(seen) == 2 and seen[1] == (True, 0, 0)
    assert count(session, LoginAttempt) == 1


def test_password_checks_beyond_the_waiting_room_are_told_busy_at_once(
    database_url: str, session: Session, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flood from many addresses cannot queue thousands of hashes ahead of the agent's."""
    monkeypatch.setattr(auth_state, "MAX_CHECKS_WAITING", 2)
    release = threading.Event()
    real = auth.password_matches

    def held(check, password):  # the first two checks hold their places until the others were answered
        release.wait(10)
        return real(check, password)

    monkeypatch.setattr(auth, "password_matches", held)

    async def flood() -> list[str]:
        attempts = [
            asyncio.ensure_future(
                auth_state.sign_in(username="alice", password=PASSWORD, client_address=f"192.0.2.{n}")
            )
            for n in range(4)
        ]
        answered: set[asyncio.Future] = set()
        while len(answered) < 2:
            done, _ = await asyncio.wait(set(attempts) - answered, return_when=asyncio.FIRST_COMPLETED)
            answered |= done
        release.set()
        results = await asyncio.gather(*attempts, return_exceptions=True)
        return ["ticket" if isinstance(r, str) else str(r) for r in results]

    answers = asyncio.run(flood())
    assert answers.count("ticket") == 2
    assert answers.count("Many sign-ins are being checked right now. Try again in a few seconds.") == 2


def test_failures_too_old_to_count_are_deleted(session: Session) -> None:
    """A guessing flood leaves no rows for ever: the sweeper forgets what counts for nothing."""
    now = utcnow()
    session.add(
        LoginAttempt(username="old", client_address="192.0.2.1", at=now - lockout.FAILURE_MEMORY - timedelta(seconds=1))
    )
    session.add(LoginAttempt(username="new", client_address="192.0.2.1", at=now - timedelta(minutes=5)))
    session.commit()
    assert lockout.forget_old_failures(session, now=now) == 1
    assert [a.username for a in session.exec(select(LoginAttempt))] == ["new"]
