"""The login lockout and the reverse-proxy settings, over the real websocket and HTTP.

A second server (backend only: no frontend build) runs as it would behind one
reverse proxy terminating TLS: ``AW_TRUSTED_PROXY_HOPS=1`` and an https
``AW_PUBLIC_URL``. Its clients say who they are with X-Forwarded-For, as the
proxy would, so one test can play an attacker and the agent from different
addresses. The shared app (no proxy configured) shows the header is ignored.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import socketio
from sqlmodel import col, select

from agent_workspace.models import AuthSession, LoginAttempt
from agent_workspace.services import auth, budgets, lockout
from agent_workspace.state.auth import LoginState
from tests.e2e.conftest import RunningApp, World, _free_port
from tests.e2e.ws_client import USER_AGENT, EventClient

PUBLIC_URL = "https://aw.example.test"
PASSWORD = "correct-horse-battery"
WRONG = "not the password"


class BackendOnlyApp(RunningApp):
    """``reflex run --env prod --backend-only``: the websocket and the HTTP routes, no pages."""

    def command(self) -> list[str]:
        return [
            "reflex",
            "run",
            "--env",
            "prod",
            "--backend-only",
            "--backend-port",
            str(self.port),
            "--backend-host",
            "127.0.0.1",
        ]

    ready = (("/api/health", 180),)


@pytest.fixture(scope="module")
def proxied_app(app_server: RunningApp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The app as it runs behind a TLS-terminating proxy (one hop), with address binding on."""
    data_dir = tmp_path_factory.mktemp("proxied-app")
    port = _free_port()
    env = {
        **app_server.env,
        "AW_DATA_DIR": str(data_dir),
        "AW_DATABASE_URL": f"sqlite:///{data_dir / 'proxied.db'}",
        "AW_PUBLIC_URL": PUBLIC_URL,
        "AW_TRUSTED_PROXY_HOPS": "1",
        "AW_SESSION_BIND_ADDRESS": "1",
    }
    app = BackendOnlyApp(f"http://127.0.0.1:{port}", data_dir, env, app_server.mailbox)
    result = app.cli("db", "upgrade")
    assert result.returncode == 0, result.stderr
    try:
        app.start()
        yield app
    except Exception:
        print((data_dir / "server.log").read_text()[-5000:])
        raise
    finally:
        app.stop()


@pytest.fixture
def proxied_world(proxied_app: RunningApp) -> Iterator[World]:
    world = World(proxied_app)
    yield world
    world.engine.dispose()


def _address() -> str:
    """A documentation address (RFC 3849) in a /64 of this call's own (an IPv6
    address counts as its /64), so tests never share counters."""
    return f"2001:db8:{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}::1"


def _browser(app: RunningApp, address: str | None = None, *, origin: str | None = PUBLIC_URL) -> EventClient:
    """A client behind the proxy: the proxy appends the client's address to X-Forwarded-For."""
    headers = {"X-Forwarded-For": address} if address else {}
    return EventClient(app.base_url, headers=headers, origin=origin)


def _attempt(client: EventClient, username: str, password: str) -> str:
    """Submit the login form; the error it shows, or the sign-in link on success."""
    mark = client.mark()
    client.send(LoginState.login, {"form": {"username": username, "password": password}}, path="/login")
    client.drain()
    with client._lock:
        received = client.received[mark:]
    link = next((m.group(1) for text in received if (m := re.search(r"/api/session/([A-Za-z0-9_-]+)", text))), None)
    if link:
        return f"/api/session/{link}"
    errors = [
        delta[LoginState.get_full_name()]["error_rx_state_"]
        for delta in client.deltas[mark:]
        if "error_rx_state_" in delta.get(LoginState.get_full_name(), {})
    ]
    return errors[-1] if errors else ""


def _attempt_from(app: RunningApp, address: str, username: str, password: str) -> str:
    """One attempt from a new tab: a guesser opens as many as they like, so the
    per-tab budget does not stop them; the lockout must."""
    client = _browser(app, address)
    try:
        return _attempt(client, username, password)
    finally:
        client.close()


def _age_failures(world: World, by: timedelta) -> None:
    """Let time pass for the counters (the server reads the stored times)."""
    with world.session() as session:
        for attempt in session.exec(select(LoginAttempt)):
            attempt.at -= by  # in Python: SQLite cannot subtract an interval from its stored text
        session.commit()


def _failures_of(world: World, username: str) -> list[str]:
    with world.session() as session:
        return list(session.exec(select(LoginAttempt.client_address).where(LoginAttempt.username == username)))


# ------------------------------------------------------------------ lockout


def test_an_attacker_hammering_a_username_does_not_lock_the_agent_out(proxied_app, proxied_world):
    username, password = proxied_world.agent(queues=[])
    attacker = _address()
    answers = [_attempt_from(proxied_app, attacker, username, f"{WRONG} {n}") for n in range(lockout.FREE_FAILURES + 5)]
    assert answers[: lockout.FREE_FAILURES] == ["Wrong username or password."] * lockout.FREE_FAILURES
    assert all(a.startswith("Too many failed attempts. Try again in") for a in answers[lockout.FREE_FAILURES :])
    # Even the right password is refused from the attacker's address ...
    assert _attempt_from(proxied_app, attacker, username, password).startswith("Too many failed attempts.")
    # ... while the agent, from their own address, signs in at once.
    assert _attempt_from(proxied_app, _address(), username, password).startswith("/api/session/")
    # Refused attempts were not even checked: only the free failures are stored.
    assert len(_failures_of(proxied_world, username)) == lockout.FREE_FAILURES


def test_the_wait_doubles_with_each_failure_and_says_how_long(proxied_app, proxied_world):
    username, _ = proxied_world.agent(queues=[])
    attacker = _address()
    for _ in range(lockout.FREE_FAILURES):
        assert _attempt_from(proxied_app, attacker, username, WRONG) == "Wrong username or password."
    for seconds in (1, 2, 4):
        unit = "second" if seconds == 1 else "seconds"
        assert (
            _attempt_from(proxied_app, attacker, username, WRONG)
            == f"Too many failed attempts. Try again in {seconds} {unit}."
        )
        _age_failures(proxied_world, timedelta(seconds=seconds, milliseconds=200))
        assert _attempt_from(proxied_app, attacker, username, WRONG) == "Wrong username or password."
    assert _attempt_from(proxied_app, attacker, username, WRONG) == "Too many failed attempts. Try again in 8 seconds."


def test_one_address_guessing_many_usernames_runs_out_of_budget(proxied_app, proxied_world):
    username, password = proxied_world.agent(queues=[])
    sprayer = _address()
    for _ in range(lockout.MAX_FAILED_PER_ADDRESS):
        assert (
            _attempt_from(proxied_app, sprayer, f"guess-{uuid.uuid4().hex[:8]}", WRONG) == "Wrong username or password."
        )
    assert (
        _attempt_from(proxied_app, sprayer, username, password) == "Too many failed attempts. Try again in 5 minutes."
    )
    # Another address of the same /64 is the same subscriber.
    same_network = sprayer.removesuffix("::1") + "::beef"
    assert (
        _attempt_from(proxied_app, same_network, username, password)
        == "Too many failed attempts. Try again in 5 minutes."
    )
    assert _attempt_from(proxied_app, _address(), username, password).startswith("/api/session/")


def test_one_tab_spends_its_login_budget_before_any_password_is_checked(proxied_app, proxied_world):
    username, password = proxied_world.agent(queues=[])
    tab_budget = budgets.ALLOWANCES[budgets.Budget.LOGIN].per_tab
    client = _browser(proxied_app, _address())
    try:
        for _ in range(tab_budget):
            assert _attempt(client, f"guess-{uuid.uuid4().hex[:8]}", WRONG) == "Wrong username or password."
        assert _attempt(client, username, password).startswith("Slow down: too many attempts from this page.")
        # Oversized fields are refused, and counted, before anything else.
        assert _attempt(client, "x" * 10_000, WRONG).startswith("Slow down")
    finally:
        client.close()
    assert len(_failures_of(proxied_world, username)) == 0


def test_an_oversized_username_is_refused_with_a_clear_message(proxied_app, proxied_world):
    client = _browser(proxied_app, _address())
    try:
        answer = _attempt(client, "x" * 1_000, WRONG)
        assert answer.startswith("The username") and "too long" in answer.lower(), answer
        assert _attempt(client, ["not", "text"], WRONG) == "The username must be text."
    finally:
        client.close()


# ------------------------------------------------------------------ behind a proxy


def test_forwarded_for_is_ignored_without_a_configured_proxy(app_server, world):
    username, _ = world.agent(queues=[])
    client = EventClient(app_server.base_url, headers={"X-Forwarded-For": "203.0.113.50"})
    try:
        assert _attempt(client, username, WRONG) == "Wrong username or password."
    finally:
        client.close()
    assert _failures_of(world, username) == ["127.0.0.1"]


def test_forwarded_for_names_the_client_behind_the_configured_proxy(proxied_app, proxied_world):
    username, password = proxied_world.agent(queues=[])
    address = _address()
    client = _browser(proxied_app, f"203.0.113.99, {address}")  # a spoofed entry, then the proxy's own
    try:
        assert _attempt(client, username, WRONG) == "Wrong username or password."
        link = _attempt(client, username, password)
    finally:
        client.close()
    assert link.startswith("/api/session/"), link
    assert _failures_of(proxied_world, username) == []  # the success forgot that address's failure
    # The HTTP route resolves the address the same way: the session is bound to it.
    response = httpx.get(
        f"{proxied_app.base_url}{link}",
        headers={"User-Agent": USER_AGENT, "X-Forwarded-For": f"203.0.113.98, {address}"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/workspace"
    with proxied_world.session() as session:
        bound = session.exec(select(AuthSession.address_hash).where(col(AuthSession.token_hash).is_not(None))).all()
    assert auth.hash_token(address) in bound


def test_the_session_cookie_is_secure_when_the_public_url_is_https(proxied_app, proxied_world, app_server, world):
    for app, world_, expect_secure in ((proxied_app, proxied_world, True), (app_server, world, False)):
        username, password = world_.agent(queues=[])
        client = _browser(app, _address(), origin=PUBLIC_URL if expect_secure else None)
        try:
            link = _attempt(client, username, password)
        finally:
            client.close()
        assert link.startswith("/api/session/"), link
        response = httpx.get(f"{app.base_url}{link}", headers={"User-Agent": USER_AGENT}, follow_redirects=False)
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("aw_session=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert ("Secure" in cookie) is expect_secure, cookie


def test_only_the_public_origin_may_open_the_websocket(proxied_app):
    with pytest.raises(socketio.exceptions.ConnectionError):
        _browser(proxied_app, _address(), origin="https://evil.example")
    with pytest.raises(socketio.exceptions.ConnectionError):
        _browser(proxied_app, _address(), origin=None)  # websocket-client sends the server's own http origin
    _browser(proxied_app, _address(), origin=PUBLIC_URL).close()


def test_cross_origin_requests_are_allowed_only_for_the_public_origin(proxied_app):
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "content-type"}
    evil = httpx.options(f"{proxied_app.base_url}/api/health", headers={"Origin": "https://evil.example", **preflight})
    assert evil.status_code == 400 and "access-control-allow-origin" not in evil.headers
    ours = httpx.options(f"{proxied_app.base_url}/api/health", headers={"Origin": PUBLIC_URL, **preflight})
    assert ours.status_code == 200 and ours.headers["access-control-allow-origin"] == PUBLIC_URL
    simple = httpx.get(f"{proxied_app.base_url}/api/health", headers={"Origin": "https://evil.example"})
    assert simple.status_code == 200 and "access-control-allow-origin" not in simple.headers


@pytest.fixture(scope="module")
def unnamed_app(app_server: RunningApp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """``make run`` as on a laptop or a LAN: no AW_PUBLIC_URL, opened on whatever host and port."""
    data_dir = tmp_path_factory.mktemp("unnamed-app")
    env = {k: v for k, v in app_server.env.items() if k != "AW_PUBLIC_URL"}
    env.update({"AW_DATA_DIR": str(data_dir), "AW_DATABASE_URL": f"sqlite:///{data_dir / 'unnamed.db'}"})
    app = BackendOnlyApp(f"http://127.0.0.1:{_free_port()}", data_dir, env, app_server.mailbox)
    assert app.cli("db", "upgrade").returncode == 0
    try:
        app.start()
        yield app
    finally:
        app.stop()


def test_without_a_public_url_the_websocket_takes_the_pages_own_origin(unnamed_app):
    port = unnamed_app.base_url.rsplit(":", 1)[1]
    EventClient(unnamed_app.base_url, origin=None).close()  # the page's own origin, as a browser sends it
    EventClient(f"http://localhost:{port}", origin=f"http://localhost:{port}").close()  # another name for the host
    with pytest.raises(socketio.exceptions.ConnectionError):
        EventClient(unnamed_app.base_url, origin="https://evil.example")  # another site's page
