"""A bare websocket client that speaks Reflex's event protocol, as an attacker would."""

from __future__ import annotations

import json
import threading
import time
import uuid

import socketio
from reflex.utils.format import format_event_handler

from agent_workspace.state.auth import AuthState

NAMESPACE = "/_event"
# Sessions are bound to the User-Agent that redeemed the ticket: a client that
# uses a session cookie must present the same one (see tests/e2e/ws_callers.py, ``cookie_for``).
USER_AGENT = "AgentWorkspace-SecurityTests/1.0"


class EventClient:
    def __init__(
        self,
        base_url: str,
        *,
        cookie: str | None = None,
        user_agent: str = USER_AGENT,
        headers: dict[str, str] | None = None,
        origin: str | None = None,
        token: str | None = None,
    ):
        """``headers``: extra handshake headers (X-Forwarded-For); ``origin``: the
        Origin header (websocket-client sends the server's own by default)."""
        self.token = token or str(uuid.uuid4())  # ``token``: another tab's, as whoever learnt it from its URL would
        self.deltas: list[dict] = []
        self.received: list[str] = []  # every update as it arrived, for checks on what leaked
        self._lock = threading.Lock()
        self.sio = socketio.Client(reconnection=False, websocket_extra_options={"origin": origin} if origin else {})
        self.sio.on("event", self._on_event, namespace=NAMESPACE)
        headers = {"User-Agent": user_agent, **(headers or {})}
        if cookie:
            headers["Cookie"] = cookie
        self.sio.connect(
            f"{base_url}?token={self.token}",
            socketio_path="/_event",
            transports=["websocket"],
            namespaces=[NAMESPACE],
            headers=headers,
        )

    def _on_event(self, data):
        with self._lock:
            self.received.append(json.dumps(data))
            self.deltas.append(data.get("delta") or {})

    def send(self, handler, payload: dict | None = None, *, path: str = "/workspace") -> None:
        name = handler if isinstance(handler, str) else format_event_handler(handler)
        self.sio.emit(
            "event",
            {"name": name, "payload": payload or {}, "router_data": {"pathname": path, "query": {}, "asPath": path}},
            namespace=NAMESPACE,
        )

    def states_touched(self) -> set[str]:
        with self._lock:
            return {name for delta in self.deltas for name in delta}

    def latest(self, state) -> dict:
        """A state's vars as this client last heard them (deltas merged in order)."""
        name = state.get_full_name()
        merged: dict = {}
        with self._lock:
            for delta in self.deltas:
                merged.update(delta.get(name, {}))
        return {key.removesuffix("_rx_state_"): value for key, value in merged.items()}

    def wait_for_state(self, state_name: str, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if state_name in self.states_touched():
                return True
            time.sleep(0.05)
        return False

    def mark(self) -> int:
        """A point in the stream of deltas, for ``wait_for_value(..., after=mark)``."""
        with self._lock:
            return len(self.deltas)

    def wait_for_value(self, state, var: str, value, *, after: int = 0, timeout: float = 15) -> None:
        """Wait until a delta after ``after`` sets ``state.var`` to ``value``."""
        key, name = f"{var}_rx_state_", state.get_full_name()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if any(delta.get(name, {}).get(key, object()) == value for delta in self.deltas[after:]):
                    return
            time.sleep(0.02)
        raise AssertionError(f"{state.__name__}.{var} never became {value!r}")

    def wait_for_text(self, text: str, *, after: int = 0, timeout: float = 15) -> None:
        """Wait until an update after ``after`` contains ``text`` (e.g. a toast)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if any(text in update for update in self.received[after:]):
                    return
            time.sleep(0.02)
        raise AssertionError(f"no update contained {text!r}")

    def drain(self) -> None:
        """Wait until the server has handled every event sent so far. One client's
        events run in order, so the answer to a public probe sent last comes after
        them all (refused events send nothing to wait for)."""
        mark = self.mark()
        self.send(AuthState.check_session)
        self.wait_for_value(AuthState, "checked", True, after=mark)

    def close(self) -> None:
        self.sio.disconnect()
