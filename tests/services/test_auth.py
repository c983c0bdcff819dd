"""Accounts, passwords, login tickets, bearer tokens and rate limits on a real database."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import update
from sqlmodel import Session, col, select

from agent_workspace.models import AuditLog, AuthSession, LoginAttempt, QueueMember, Role, User, utcnow
from agent_workspace.services import auth
from agent_workspace.services.errors import Conflict, NotFound, ValidationError
from tests.factories import BROWSER, make_queue
from tests.services.helpers import count, fresh, use_fast_argon2

PASSWORD = "correct horse battery"
PRODUCTION_HASHER = auth._hasher


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_argon2(monkeypatch)


@pytest.fixture
def alice(session: Session) -> User:
    return auth.create_user(
        session,
        username="alice",
        password=PASSWORD,
        display_name="Alice Martin",
        roles=[Role.WORKSPACE_USER, Role.SUPERVISOR],
        capacity=3,
    )


def sign_in(session: Session, username: str = "alice", password: str = PASSWORD, address: str = "") -> str:
    """Password check, then the one-time ticket traded for the bearer token."""
    ticket, _principal = auth.login(session, username=username, password=password, client_address=address)
    return auth.redeem_ticket(session, ticket=ticket, client=BROWSER)


# ------------------------------------------------------------------ accounts


def test_production_hashing_is_argon2id_with_real_costs() -> None:
    assert PRODUCTION_HASHER.type.name == "ID"
    assert PRODUCTION_HASHER.time_cost >= 2 and PRODUCTION_HASHER.memory_cost >= 19 * 1024  # OWASP minimum
    assert auth._DUMMY_HASH.startswith("$argon2id$")


def test_passwords_are_stored_as_argon2id_hashes(session: Session, alice: User) -> None:
    row = fresh(session, User, alice.id)
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    assert PasswordHasher().verify(row.password_hash, PASSWORD)
    # Same password, another user: another salt, another hash.
    bob = auth.create_user(session, username="bob", password=PASSWORD)
    assert fresh(session, User, bob.id).password_hash != row.password_hash


def test_create_user_normalises_and_stores_roles_and_queues(session: Session) -> None:
    general = make_queue(session, "General")
    make_queue(session, "Billing")
    user = auth.create_user(
        session,
        username="  Carol.D ",
        password=PASSWORD,
        roles=["supervisor", "workspace_user", "supervisor"],
        capacity=20,
        queues=["General"],
        email=" carol@example.com ",
    )
    row = fresh(session, User, user.id)
    assert row.username == "carol.d"
    assert row.display_name == "carol.d"
    assert row.email == "carol@example.com"
    assert row.roles == "supervisor,workspace_user"
    assert auth.roles_of(row) == {"supervisor", "workspace_user"}
    assert row.capacity == 20
    members = session.exec(select(QueueMember.queue_id).where(QueueMember.user_id == user.id)).all()
    assert members == [general.id]


def test_a_display_name_loses_bidi_overrides_and_invisible_characters(session: Session) -> None:
    """An agent's name shows to customers: it cannot reorder or hide text around it."""
    user = auth.create_user(session, username="eve", password=PASSWORD, display_name="Eve\u202e  nimda\u200b\n")
    assert fresh(session, User, user.id).display_name == "Eve nimda"
    with pytest.raises(ValidationError):
        auth.create_user(session, username="eve2", password=PASSWORD, display_name="x" * 121)


def test_create_user_refuses_a_duplicate_username(session: Session, alice: User) -> None:
    for username in ("alice", " ALICE "):
        with pytest.raises(Conflict, match="alice"):
            auth.create_user(session, username=username, password=PASSWORD)
    session.rollback()
    assert count(session, User) == 1


def test_create_user_refuses_an_unknown_role_by_name(session: Session) -> None:
    with pytest.raises(ValidationError, match="'superhero'"):
        auth.create_user(session, username="bob", password=PASSWORD, roles=["workspace_user", "superhero"])
    session.rollback()
    assert count(session, User) == 0


@pytest.mark.parametrize("capacity", [0, -1, 21, 100])
def test_create_user_refuses_a_bad_capacity(session: Session, capacity: int) -> None:
    with pytest.raises(ValidationError, match="capacity"):
        auth.create_user(session, username="bob", password=PASSWORD, capacity=capacity)
    session.rollback()
    assert count(session, User) == 0


@pytest.mark.parametrize("username", ["", "a", "-bob", "bob smith", "bob@example", "x" * 65, "böb"])
def test_create_user_refuses_a_bad_username(session: Session, username: str) -> None:
    with pytest.raises(ValidationError, match="username"):
        auth.create_user(session, username=username, password=PASSWORD)
    session.rollback()
    assert count(session, User) == 0


def test_create_user_refuses_a_short_password(session: Session) -> None:
    with pytest.raises(ValidationError, match="8 characters"):
        auth.create_user(session, username="bob", password="1234567")
    session.rollback()
    assert count(session, User) == 0


def test_create_user_refuses_an_unknown_queue(session: Session) -> None:
    with pytest.raises(NotFound, match="Nowhere"):
        auth.create_user(session, username="bob", password=PASSWORD, queues=["Nowhere"])
    session.rollback()
    assert count(session, User) == 0


# ------------------------------------------------------------------ login


def test_login_yields_a_one_time_ticket_and_the_principal(session: Session, alice: User) -> None:
    ticket, principal = auth.login(session, username=" Alice ", password=PASSWORD)

    assert principal.user_id == alice.id
    assert principal.username == "alice" and principal.display_name == "Alice Martin"
    assert principal.roles == {"workspace_user", "supervisor"}
    assert principal.has(Role.SUPERVISOR) and not principal.has(Role.ADMIN)
    row = session.exec(select(AuthSession).where(AuthSession.user_id == alice.id)).one()
    # Only hashes are stored.
    assert row.ticket_hash == hashlib.sha256(ticket.encode()).hexdigest()
    assert row.token_hash is None
    assert timedelta(seconds=55) < row.ticket_expires_at - utcnow() <= timedelta(seconds=60)
    assert timedelta(hours=11, minutes=59) < row.expires_at - utcnow() <= timedelta(hours=12)


def test_wrong_password_and_unknown_user_get_the_same_answer(session: Session, alice: User) -> None:
    with pytest.raises(ValidationError) as wrong_password:
        auth.login(session, username="alice", password="not the password")
    with pytest.raises(ValidationError) as unknown_user:
        auth.login(session, username="mallory", password=PASSWORD)
    assert str(wrong_password.value) == str(unknown_user.value) == "Wrong username or password."
    assert count(session, AuthSession) == 0
    assert count(session, LoginAttempt) == 2


def test_an_inactive_user_cannot_log_in(session: Session, alice: User) -> None:
    alice.active = False
    session.add(alice)
    session.commit()
    with pytest.raises(ValidationError, match="Wrong username or password."):
        auth.login(session, username="alice", password=PASSWORD)
    assert count(session, AuthSession) == 0


# ------------------------------------------------------------------ tickets and tokens


def test_a_ticket_is_redeemable_exactly_once(session: Session, alice: User) -> None:
    ticket, _ = auth.login(session, username="alice", password=PASSWORD)

    token = auth.redeem_ticket(session, ticket=ticket, client=BROWSER)

    assert token and token != ticket
    row = session.exec(select(AuthSession).where(AuthSession.user_id == alice.id)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.ticket_hash is None and row.ticket_expires_at is None
    with pytest.raises(NotFound):
        auth.redeem_ticket(session, ticket=ticket, client=BROWSER)
    assert auth.principal_for_token(session, token, client=BROWSER).user_id == alice.id


@pytest.mark.parametrize("ticket", ["", "not-a-ticket", "x" * 201])
def test_an_unknown_ticket_is_refused(session: Session, alice: User, ticket: str) -> None:
    auth.login(session, username="alice", password=PASSWORD)
    with pytest.raises(NotFound):
        auth.redeem_ticket(session, ticket=ticket, client=BROWSER)


def test_a_ticket_expires_after_a_minute(session: Session, alice: User) -> None:
    ticket, _ = auth.login(session, username="alice", password=PASSWORD)
    session.execute(update(AuthSession).values(ticket_expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()

    with pytest.raises(NotFound):
        auth.redeem_ticket(session, ticket=ticket, client=BROWSER)


def test_a_ticket_still_works_just_before_it_expires(session: Session, alice: User) -> None:
    ticket, _ = auth.login(session, username="alice", password=PASSWORD)
    session.execute(update(AuthSession).values(ticket_expires_at=utcnow() + timedelta(seconds=2)))
    session.commit()
    assert auth.redeem_ticket(session, ticket=ticket, client=BROWSER)


def test_principal_for_token(session: Session, alice: User) -> None:
    token = sign_in(session)
    principal = auth.principal_for_token(session, token, client=BROWSER)
    assert principal is not None and principal.user_id == alice.id
    assert principal.roles == {"workspace_user", "supervisor"}

    assert auth.principal_for_token(session, None, client=BROWSER) is None
    assert auth.principal_for_token(session, "", client=BROWSER) is None
    assert auth.principal_for_token(session, "unknown-token", client=BROWSER) is None
    assert auth.principal_for_token(session, "x" * 201, client=BROWSER) is None
    # The ticket is not a token.
    ticket, _ = auth.login(session, username="alice", password=PASSWORD)
    assert auth.principal_for_token(session, ticket, client=BROWSER) is None


def test_an_expired_session_has_no_principal(session: Session, alice: User) -> None:
    token = sign_in(session)
    session.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert auth.principal_for_token(session, token, client=BROWSER) is None


def test_a_deactivated_user_loses_the_session(session: Session, alice: User) -> None:
    token = sign_in(session)
    session.execute(update(User).where(col(User.id) == alice.id).values(active=False))
    session.commit()
    assert auth.principal_for_token(session, token, client=BROWSER) is None


def test_logout_revokes_immediately(session: Session, alice: User) -> None:
    token = sign_in(session)
    other = sign_in(session)

    auth.logout(session, token=token)

    assert auth.principal_for_token(session, token, client=BROWSER) is None
    assert (
        auth.principal_for_token(session, other, client=BROWSER) is None
    )  # issue 17: logout ends every session of the user
    auth.logout(session, token=token)  # twice: harmless
    auth.logout(session, token="never-issued")
    revoked = session.exec(select(AuthSession).where(col(AuthSession.revoked_at).is_not(None))).all()
    assert len(revoked) == 2


def test_set_password_revokes_every_session(session: Session, alice: User) -> None:
    tokens = [sign_in(session) for _ in range(2)]
    pending_ticket, _ = auth.login(session, username="alice", password=PASSWORD)
    bob = auth.create_user(session, username="bob", password=PASSWORD)
    bob_token = sign_in(session, "bob")

    auth.set_password(session, username=" Alice ", password="a brand new password")

    assert all(auth.principal_for_token(session, t, client=BROWSER) is None for t in tokens)
    with pytest.raises(NotFound):
        auth.redeem_ticket(session, ticket=pending_ticket, client=BROWSER)
    assert auth.principal_for_token(session, bob_token, client=BROWSER).user_id == bob.id
    with pytest.raises(ValidationError):
        auth.login(session, username="alice", password=PASSWORD)
    assert sign_in(session, password="a brand new password")
    row = fresh(session, User, alice.id)
    assert PasswordHasher().verify(row.password_hash, "a brand new password")


# ------------------------------------------------------------------ sessions bound to the browser


def test_redeeming_binds_the_session_to_that_browser(session: Session, alice: User) -> None:
    token = sign_in(session)
    ticket, _ = auth.login(session, username="alice", password=PASSWORD)
    bound_token = auth.redeem_ticket(session, ticket=ticket, client=BROWSER, bind_address=True)

    rows = {row.token_hash: row for row in session.exec(select(AuthSession))}
    plain, bound = rows[auth.hash_token(token)], rows[auth.hash_token(bound_token)]
    assert plain.user_agent_hash == hashlib.sha256(BROWSER.user_agent.encode()).hexdigest()
    assert plain.address_hash is None  # addresses are bound only when asked
    assert bound.address_hash == hashlib.sha256(BROWSER.address.encode()).hexdigest()
    assert BROWSER.user_agent not in {plain.user_agent_hash, bound.user_agent_hash}


def test_a_token_from_another_browser_is_refused_and_ends_the_session(session: Session, alice: User) -> None:
    token = sign_in(session)
    other_session = sign_in(session)
    thief = auth.Client(user_agent="Mozilla/5.0 (Windows NT 10.0) Firefox/128.0", address=BROWSER.address)

    with pytest.raises(auth.WrongClient):
        auth.principal_for_token(session, token, client=thief)
    assert auth.principal_for_token(session, token, client=BROWSER).user_id == alice.id  # nothing changed yet

    assert auth.revoke_copied(session, token=token, client=thief) is True

    # The copy and the original are both finished; the user's other session is not.
    assert auth.principal_for_token(session, token, client=thief) is None
    assert auth.principal_for_token(session, token, client=BROWSER) is None
    assert auth.principal_for_token(session, other_session, client=BROWSER).user_id == alice.id
    entry = session.exec(select(AuditLog).where(AuditLog.action == "session.revoked_other_client")).one()
    assert (entry.actor_kind, entry.target_kind, entry.target_id) == ("system", "user", alice.id)
    detail = json.loads(entry.detail)
    assert detail["mismatch"] == ["user_agent"]
    assert detail["user_agent"] == thief.user_agent and detail["address"] == thief.address
    # Another event of the same copy: nothing more to revoke, no second audit row.
    assert auth.revoke_copied(session, token=token, client=thief) is False
    assert len(session.exec(select(AuditLog).where(AuditLog.action == "session.revoked_other_client")).all()) == 1


def test_revoke_copied_leaves_the_rightful_browser_alone(session: Session, alice: User) -> None:
    token = sign_in(session)
    assert auth.revoke_copied(session, token=token, client=BROWSER) is False
    assert auth.revoke_copied(session, token="never-issued", client=BROWSER) is False
    assert auth.principal_for_token(session, token, client=BROWSER).user_id == alice.id


def test_the_address_counts_only_for_sessions_bound_to_it(session: Session, alice: User) -> None:
    roaming = auth.Client(user_agent=BROWSER.user_agent, address="198.51.100.7")
    token = sign_in(session)
    assert auth.principal_for_token(session, token, client=roaming).user_id == alice.id

    ticket, _ = auth.login(session, username="alice", password=PASSWORD)
    bound = auth.redeem_ticket(session, ticket=ticket, client=BROWSER, bind_address=True)
    assert auth.principal_for_token(session, bound, client=BROWSER).user_id == alice.id
    with pytest.raises(auth.WrongClient):
        auth.principal_for_token(session, bound, client=roaming)
    assert auth.revoke_copied(session, token=bound, client=roaming)
    entry = session.exec(select(AuditLog).where(AuditLog.action == "session.revoked_other_client")).one()
    assert json.loads(entry.detail)["mismatch"] == ["address"]


def test_a_missing_user_agent_is_a_different_browser(session: Session, alice: User) -> None:
    token = sign_in(session)
    with pytest.raises(auth.WrongClient):
        auth.principal_for_token(session, token, client=auth.Client(user_agent="", address=BROWSER.address))


def test_set_password_refusals(session: Session, alice: User) -> None:
    before = fresh(session, User, alice.id).password_hash
    with pytest.raises(ValidationError):
        auth.set_password(session, username="alice", password="short")
    with pytest.raises(NotFound):
        auth.set_password(session, username="nobody", password="long enough password")
    session.rollback()
    assert fresh(session, User, alice.id).password_hash == before
