"""The session check shared by the websocket middleware and the HTTP routes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session, create_engine, select

from agent_workspace import security
from agent_workspace.migrations import alembic_config
from agent_workspace.models import AuditLog, AuthSession, utcnow
from agent_workspace.services import auth
from tests.factories import BROWSER, make_user

THIEF = auth.Client(user_agent="curl/8.5.0", address="203.0.113.9")


def _sign_in(session: Session, user_id: int) -> str:
    """A ticket as the login event leaves it, redeemed by BROWSER."""
    ticket = f"ticket-{user_id}"
    session.add(
        AuthSession(
            ticket_hash=auth.hash_token(ticket),
            ticket_expires_at=utcnow() + timedelta(seconds=60),
            user_id=user_id,
            expires_at=utcnow() + timedelta(hours=1),
        )
    )
    session.commit()
    return auth.redeem_ticket(session, ticket=ticket, client=BROWSER)


def test_identify_refuses_a_copied_token_and_ends_the_session(session: Session) -> None:
    user = make_user(session, "alice")
    token = _sign_in(session, user.id)
    assert security.identify(token, BROWSER).user_id == user.id

    assert security.identify(token, THIEF) is None
    assert security.identify(token, BROWSER) is None  # the rightful browser is signed out too
    entries = session.exec(select(AuditLog).where(AuditLog.action == "session.revoked_other_client")).all()
    assert [(e.target_kind, e.target_id) for e in entries] == [("user", user.id)]
    assert security.identify(None, BROWSER) is None


def test_client_address_trusts_forwarded_for_only_behind_configured_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    headers = {"x-forwarded-for": "198.51.100.1, 203.0.113.5"}
    assert security.client_address("10.0.0.2", headers) == "10.0.0.2"
    monkeypatch.setattr(security, "get_config", lambda: SimpleNamespace(trusted_proxy_hops=1))
    assert security.client_address("10.0.0.2", headers) == "203.0.113.5"
    assert security.client_address("10.0.0.2", {}) == "10.0.0.2"


def test_upgrade_ends_sessions_opened_before_browser_binding(tmp_path: Path) -> None:
    """Such sessions carry no binding to check, so their users sign in again."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0005")
    engine = create_engine(url)
    with Session(engine) as session:
        # Raw SQL: the model has columns of later revisions.
        user_id = session.execute(
            text(
                "INSERT INTO user (username, display_name, email, password_hash, roles, capacity, presence,"
                " presence_changed_at, active, password_changed_at, created_at) VALUES ('alice', 'Alice', '', 'x',"
                " 'workspace_user', 4, 'offline', '2026-01-01 00:00:00', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        ).lastrowid
        for token_hash, ticket_hash, revoked in (
            ("live", None, None),
            (None, "pending", None),
            ("ended", None, "2026-01-01 00:00:00"),
        ):
            session.execute(
                text(
                    "INSERT INTO auth_session (token_hash, ticket_hash, user_id, created_at, expires_at, revoked_at)"
                    " VALUES (:token, :ticket, :user, '2026-01-01 00:00:00', '2999-01-01 00:00:00', :revoked)"
                ),
                {"token": token_hash, "ticket": ticket_hash, "user": user_id, "revoked": revoked},
            )
        session.commit()

    command.upgrade(alembic_config(url), "head")

    with Session(engine) as session:
        rows = {row.token_hash or row.ticket_hash: row for row in session.exec(select(AuthSession))}
        assert rows["live"].revoked_at is not None
        assert rows["pending"].revoked_at is None  # redeemed later, it gets a binding
        assert rows["ended"].revoked_at.year == 2026
        assert all(row.user_agent_hash is None and row.address_hash is None for row in rows.values())
    engine.dispose()
