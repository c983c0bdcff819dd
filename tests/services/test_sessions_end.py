"""Logout, password change, role removal and deactivation end the user's sessions
and unregister their tabs in the same transaction (issue 17: sessions end everywhere)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlmodel import Session, select

from agent_workspace import realtime
from agent_workspace.models import AuditLog, AuthSession, ClientConnection, QueueMember, Role, User
from agent_workspace.services import audience, auth
from agent_workspace.services.errors import NotFound, ValidationError
from agent_workspace.services.events import AgentChanged, QueueChanged
from tests.factories import BROWSER

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", fast)
    monkeypatch.setattr(auth, "_DUMMY_HASH", fast.hash("timing-equaliser"))


def _user(session: Session, username: str, roles=(Role.WORKSPACE_USER,)) -> User:
    return auth.create_user(session, username=username, password=PASSWORD, roles=list(roles))


def _sign_in(session: Session, username: str) -> str:
    ticket, _ = auth.login(session, username=username, password=PASSWORD)
    return auth.redeem_ticket(session, ticket=ticket, client=BROWSER)


def _tabs(session: Session, user: User, *tokens: str) -> None:
    for token in tokens:
        audience.register_client(session, token=token, kind="agent", user_id=user.id)


def _live_sessions(session: Session, user: User) -> int:
    return len(
        session.exec(select(AuthSession).where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))).all()
    )


def _tab_rows(session: Session) -> dict[str, tuple[str, int | None]]:
    session.expire_all()
    return {row.token: (row.kind, row.user_id) for row in session.exec(select(ClientConnection))}


@pytest.fixture
def alice(session: Session) -> User:
    return _user(session, "alice", roles=(Role.WORKSPACE_USER, Role.SUPERVISOR))


@pytest.fixture
def bob(session: Session) -> User:
    return _user(session, "bob")


def test_logout_ends_every_session_and_tab_of_the_user_and_no_one_elses(
    session: Session, alice: User, bob: User
) -> None:
    first, second, bobs = _sign_in(session, "alice"), _sign_in(session, "alice"), _sign_in(session, "bob")
    _tabs(session, alice, "alice-tab-1", "alice-tab-2")
    _tabs(session, bob, "bob-tab")

    ended = auth.logout(session, token=first)

    assert sorted(ended) == ["alice-tab-1", "alice-tab-2"]
    assert auth.principal_for_token(session, first, client=BROWSER) is None
    assert auth.principal_for_token(session, second, client=BROWSER) is None  # the other browser too
    assert auth.principal_for_token(session, bobs, client=BROWSER) is not None
    rows = _tab_rows(session)
    assert rows["alice-tab-1"] == rows["alice-tab-2"] == (auth.SIGNED_OUT_TAB, None)
    assert rows["bob-tab"] == ("agent", bob.id)
    assert auth.logout(session, token=first) == []  # twice: harmless, nothing more ended


def test_a_signed_out_tab_hears_no_change_of_its_former_user(session: Session, alice: User, queue) -> None:
    session.add(QueueMember(queue_id=queue.id, user_id=alice.id))
    session.commit()
    token = _sign_in(session, "alice")
    _tabs(session, alice, "alice-tab")
    changes = [AgentChanged(alice.id), QueueChanged(queue.id)]
    assert set(audience.tokens_for(session, changes)) == {"alice-tab"}

    auth.logout(session, token=token)

    assert audience.tokens_for(session, changes) == {}


def test_password_change_ends_sessions_and_tabs(session: Session, alice: User) -> None:
    _sign_in(session, "alice")
    _tabs(session, alice, "alice-tab")
    auth.set_password(session, username="alice", password="a brand new password")
    assert _live_sessions(session, alice) == 0
    assert _tab_rows(session)["alice-tab"] == (auth.SIGNED_OUT_TAB, None)


def test_deactivation_ends_sessions_and_tabs_and_refuses_sign_in(session: Session, alice: User) -> None:
    token = _sign_in(session, "alice")
    _tabs(session, alice, "alice-tab")

    assert auth.deactivate(session, username="Alice") == ["alice-tab"]

    assert auth.principal_for_token(session, token, client=BROWSER) is None
    assert _tab_rows(session)["alice-tab"] == (auth.SIGNED_OUT_TAB, None)
    with pytest.raises(ValidationError):
        auth.login(session, username="alice", password=PASSWORD)
    assert auth.deactivate(session, username="alice") == []  # already inactive
    actions = session.exec(select(AuditLog.action).where(AuditLog.target_id == alice.id)).all()
    assert actions.count("user.deactivated") == 1


def test_losing_a_role_ends_sessions_and_tabs(session: Session, alice: User) -> None:
    _sign_in(session, "alice")
    _tabs(session, alice, "alice-tab")

    assert auth.set_roles(session, username="alice", roles=[Role.WORKSPACE_USER]) == ["alice-tab"]

    assert _live_sessions(session, alice) == 0
    session.refresh(alice)
    assert auth.roles_of(alice) == {Role.WORKSPACE_USER}


def test_only_gaining_a_role_keeps_sessions_and_tabs(session: Session, bob: User) -> None:
    _sign_in(session, "bob")
    _tabs(session, bob, "bob-tab")
    assert auth.set_roles(session, username="bob", roles=[Role.WORKSPACE_USER, Role.SUPERVISOR]) == []
    assert _live_sessions(session, bob) == 1
    assert _tab_rows(session)["bob-tab"] == ("agent", bob.id)


def test_role_changes_refuse_bad_input_and_change_nothing(session: Session, bob: User) -> None:
    _sign_in(session, "bob")
    with pytest.raises(ValidationError, match="Unknown role"):
        auth.set_roles(session, username="bob", roles=["root"])
    with pytest.raises(NotFound):
        auth.set_roles(session, username="nobody", roles=[])
    with pytest.raises(NotFound):
        auth.deactivate(session, username="nobody")
    session.refresh(bob)
    assert bob.roles == Role.WORKSPACE_USER and bob.active
    assert _live_sessions(session, bob) == 1


def test_signed_out_tabs_are_claimed_once(session: Session, alice: User) -> None:
    token = _sign_in(session, "alice")
    _tabs(session, alice, "alice-tab-1", "alice-tab-2")
    auth.logout(session, token=token)

    assert sorted(realtime.signed_out_tabs(session)) == ["alice-tab-1", "alice-tab-2"]
    assert realtime.claim_signed_out(session, ["alice-tab-1"]) == ["alice-tab-1"]
    assert realtime.claim_signed_out(session, ["alice-tab-1", "alice-tab-2"]) == [
        "alice-tab-2"
    ]  # another worker's turn
    assert realtime.signed_out_tabs(session) == []
    assert _tab_rows(session) == {}
