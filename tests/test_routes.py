"""Signing in goes back to the private page the visitor asked for, and never off the site."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session
from starlette.testclient import TestClient

from agent_workspace import routes
from agent_workspace.api import build_api
from agent_workspace.services import auth
from tests.factories import BROWSER
from tests.services.helpers import use_fast_argon2


@pytest.mark.parametrize(
    "path",
    [
        "/workspace",
        "/supervisor",
        "/interactions",
        "/cases",
        "/incidents",
        "/interaction/IMS0001028",
        "/case/cs1001",
        "/incident/INC0001002",
    ],
)
def test_our_private_pages_are_places_to_come_back_to(path: str) -> None:
    assert routes.return_path(path) == path
    assert routes.login_path(path).startswith("/login?next=%2F")


@pytest.mark.parametrize(
    "path",
    [
        "//evil.example/workspace",
        "https://evil.example/",
        "/\\evil.example",
        "/workspace/../../evil",
        "/chat",
        "/login",
        "/api/logout",
        "/interaction/IMS1?x=1",
        "/interaction/" + "9" * 40,
        "",
        None,
        7,
        ["/workspace"],
        "/workspace\n",
    ],
)
def test_anything_else_is_not(path: object) -> None:
    assert routes.return_path(path) is None
    assert routes.login_path(path if isinstance(path, str) else None) == "/login"


@pytest.fixture
def ticket(session: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    use_fast_argon2(monkeypatch)
    auth.create_user(session, username="ann", password="correct-horse-battery", roles=["workspace_user"], queues=[])
    yield auth.login(session, username="ann", password="correct-horse-battery")[0]


def _redeem(ticket: str, **params: str) -> str:
    with TestClient(build_api(), client=(BROWSER.address, 50000), headers={"user-agent": BROWSER.user_agent}) as http:
        response = http.get(f"/api/session/{ticket}", params=params, follow_redirects=False)
    assert response.status_code == 303 and "aw_session=" in response.headers["set-cookie"]
    return response.headers["location"]


def test_a_sign_in_goes_on_to_the_record_it_was_asked_for(ticket: str) -> None:
    assert _redeem(ticket, next="/interaction/IMS0001028") == "/interaction/IMS0001028"


@pytest.mark.parametrize("next_", ["//evil.example", "https://evil.example/x", "/chat"])
def test_a_sign_in_never_leaves_for_another_site(ticket: str, next_: str) -> None:
    assert _redeem(ticket, next=next_) == "/workspace"
