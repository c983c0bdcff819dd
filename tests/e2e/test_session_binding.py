"""A session cookie works only in the browser it was issued to.

Each test signs an agent in through the real login page (so the cookie is the
one /api/session set, bound to Chromium's User-Agent), copies the cookie into
another client and shows that client gets nothing, changes nothing, and that
the session is over for the original browser too.
"""

from __future__ import annotations

import json
import time

import httpx
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import col, select

from agent_workspace.models import AuditLog, AuthSession, User
from agent_workspace.security import SESSION_COOKIE
from agent_workspace.services.auth import hash_token
from agent_workspace.state.auth import AuthState
from agent_workspace.state.workspace import WorkspaceState
from tests.e2e.conftest import agent_page, unique
from tests.e2e.test_interaction_tools import chat_pair
from tests.e2e.ws_client import EventClient

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _session_cookie(context: BrowserContext) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == SESSION_COOKIE)


def _user(world, username: str) -> User:
    with world.session() as session:
        return session.exec(select(User).where(User.username == username)).one()


def _wait_for_revocation(world, user_id: int, timeout: float = 15) -> list[dict]:
    """The audit details of the user's sessions revoked for arriving from another client."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with world.session() as session:
            rows = session.exec(
                select(AuditLog).where(AuditLog.action == "session.revoked_other_client", AuditLog.target_id == user_id)
            ).all()
        if rows:
            return [json.loads(row.detail) for row in rows]
        time.sleep(0.1)
    raise AssertionError("the session was not revoked")


def _owner_of(world, context: BrowserContext) -> int:
    with world.session() as session:
        return session.exec(
            select(AuthSession.user_id).where(AuthSession.token_hash == hash_token(_session_cookie(context)))
        ).one()


def _live_sessions(world, user_id: int) -> int:
    with world.session() as session:
        return len(
            session.exec(
                select(AuthSession).where(AuthSession.user_id == user_id, col(AuthSession.revoked_at).is_(None))
            ).all()
        )


def _signed_out(page: Page) -> None:
    """The original browser's session is over: its next page load lands on the login form."""
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("heading", name="Inbox")).to_have_count(0)


def test_a_cookie_copied_into_another_browser_is_refused_and_ends_the_session(app_server, world, browser, new_context):
    username, password = world.agent(queues=[world.queue()])
    original = agent_page(new_context, app_server.base_url, username, password, available=False)
    user = _user(world, username)
    assert _live_sessions(world, user.id) == 1

    thief = browser.new_context(user_agent=FIREFOX)
    try:
        thief.add_cookies([c for c in original.context.cookies() if c["name"] == SESSION_COOKIE])
        page = thief.new_page()
        page.goto(f"{app_server.base_url}/workspace")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        expect(page.get_by_role("heading", name="Inbox")).to_have_count(0)
        expect(page.get_by_text(user.display_name)).to_have_count(0)
    finally:
        thief.close()

    [detail] = _wait_for_revocation(world, user.id)
    assert detail["mismatch"] == ["user_agent"] and detail["user_agent"] == FIREFOX
    assert _live_sessions(world, user.id) == 0
    _signed_out(original)
    assert _user(world, username).presence == user.presence


def test_a_cookie_copied_to_a_websocket_client_is_refused(app_server, world, new_context):
    username, password = world.agent(queues=[world.queue()])
    original = agent_page(new_context, app_server.base_url, username, password, available=False)
    user = _user(world, username)
    cookie = f"{SESSION_COOKIE}={_session_cookie(original.context)}"
    browser_agent = original.evaluate("navigator.userAgent")

    # Control: the binding is to the User-Agent, so a client presenting the
    # browser's own (the documented limit) is let in; the session is untouched.
    twin = EventClient(app_server.base_url, cookie=cookie, user_agent=browser_agent)
    try:
        twin.send(WorkspaceState.on_load)
        assert twin.wait_for_state(WorkspaceState.get_full_name())
    finally:
        twin.close()
    assert _live_sessions(world, user.id) == 1

    thief = EventClient(app_server.base_url, cookie=cookie, user_agent="python-socketio/5.18")
    try:
        thief.send(WorkspaceState.on_load)
        thief.send(WorkspaceState.event_handlers["set_presence"], {"label": "Available"})
        thief.drain()
        touched = thief.states_touched()
        auth_view = thief.latest(AuthState)
    finally:
        thief.close()
    assert WorkspaceState.get_full_name() not in touched
    assert auth_view["signed_in"] is False and auth_view["username"] == ""

    [detail] = _wait_for_revocation(world, user.id)
    assert detail["user_agent"] == "python-socketio/5.18"
    assert _user(world, username).presence == "offline"  # set_presence never ran
    _signed_out(original)


def test_a_copied_cookie_downloads_nothing(app_server, world, new_context, tmp_path):
    _queue, agent, customer, _name = chat_pair(app_server, world, new_context)
    notes = tmp_path / "notes.txt"
    notes.write_text(f"private {unique('note')}\n")
    customer.locator("#customer-attachments input[type=file]").set_input_files(notes)
    customer.get_by_role("button", name="Upload files").click()
    link = agent.get_by_role("log", name="Conversation").get_by_role("link", name="notes.txt")
    expect(link).to_be_visible()
    url = app_server.base_url + link.get_attribute("href")
    assert agent.request.get(url).text() == notes.read_text()  # the agent's own browser

    cookie = f"{SESSION_COOKIE}={_session_cookie(agent.context)}"
    stolen = httpx.get(url, headers={"Cookie": cookie, "User-Agent": "curl/8.5.0"})
    assert stolen.status_code == 404 and "private" not in stolen.text

    user_id = _owner_of(world, agent.context)
    [detail] = _wait_for_revocation(world, user_id)
    assert detail["user_agent"] == "curl/8.5.0"
    assert agent.request.get(url).status == 404  # the original session ended with the copy
