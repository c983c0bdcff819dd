"""Talking to the app like a browser, over its websocket.

Shared by the scale-out tests (``tests/scaleout``) and the load and abuse
generators (``bench/``):

- ``WsClient``: an asyncio client of Reflex's websocket protocol (Engine.IO 4 /
  Socket.IO 5 over a plain websocket, namespace ``/_event``), written on
  ``wsproto`` because python-socketio's asyncio client needs aiohttp, which
  the project does not install. It sends the same ``event`` messages the
  pages send and hands every ``delta`` to a callback with its arrival time.
- ``state_delta``: one state's vars in an update.
- ``session_cookie``: a signed-in agent's cookie, bound to ``WsClient``'s User-Agent.
"""

from __future__ import annotations

import asyncio
import json
import time
import traceback
import uuid
from collections.abc import Callable

NAMESPACE = "/_event"
# Sessions are bound to the browser that redeemed them: every WsClient presents
# this User-Agent and session_cookie() binds the session to it.
USER_AGENT = "AgentWorkspace-ScaleOut/1.0"


def handler_name(handler) -> str:
    from reflex.utils.format import format_event_handler

    return handler if isinstance(handler, str) else format_event_handler(handler)


class ProtocolError(RuntimeError):
    pass


class WsClient:
    """One browser tab, as the server sees it: a client token and a websocket."""

    def __init__(self, *, on_update: Callable[[dict, float], None] | None = None, keep: bool = False):
        self.token = str(uuid.uuid4())
        self.on_update = on_update
        self.keep = keep
        self.updates: list[tuple[float, dict]] = []
        self.path = "/"
        self.closed = asyncio.Event()
        self._connected = asyncio.Event()
        self._error: str | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task | None = None
        self.bytes_in = 0
        self.callback_errors = 0
        self.answer_pings = True  # False: a frozen page, whose socket the server drops after its ping timeout
        self.handshake: dict = {}  # Engine.IO's open packet: the server's ping interval and timeout

    async def connect(
        self,
        port: int,
        *,
        cookie: str | None = None,
        path: str = "/",
        host: str = "127.0.0.1",
        timeout: float = 15,
        bind: str | None = None,
    ) -> WsClient:
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import Request

        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("this client only talks to 127.0.0.1")
        self.path = path
        self._ws = WSConnection(ConnectionType.CLIENT)
        # ``bind``: a local address such as 127.0.0.2, so the server sees another client address.
        self._reader, self._writer = await asyncio.open_connection(host, port, local_addr=(bind, 0) if bind else None)
        target = f"{NAMESPACE}/?EIO=4&transport=websocket&token={self.token}"
        headers = [("User-Agent", USER_AGENT)] + ([("Cookie", cookie)] if cookie else [])
        self._writer.write(self._ws.send(Request(host=f"{host}:{port}", target=target, extra_headers=headers)))
        self._task = asyncio.create_task(self._read_loop())
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            await self.close()
            raise ProtocolError(f"no Socket.IO connect within {timeout} s ({self._error})") from None
        if self._error:
            raise ProtocolError(self._error)
        return self

    def _send_text(self, text: str) -> None:
        from wsproto.events import TextMessage

        if self._writer is None or self.closed.is_set():
            raise ProtocolError("the socket is closed")
        self._writer.write(self._ws.send(TextMessage(data=text)))

    async def _read_loop(self) -> None:
        from wsproto.events import AcceptConnection, CloseConnection, Ping, RejectConnection, TextMessage

        buffer: list[str] = []
        try:
            while True:
                data = await self._reader.read(262144)
                if not data:
                    break
                self.bytes_in += len(data)
                self._ws.receive_data(data)
                for event in self._ws.events():
                    if isinstance(event, AcceptConnection):
                        pass
                    elif isinstance(event, RejectConnection):
                        self._error = f"websocket refused: {event.status_code}"
                        self._connected.set()
                        return
                    elif isinstance(event, TextMessage):
                        buffer.append(event.data)
                        if event.message_finished:
                            self._packet("".join(buffer))
                            buffer = []
                    elif isinstance(event, Ping):
                        self._writer.write(self._ws.send(event.response()))
                    elif isinstance(event, CloseConnection):
                        try:
                            self._writer.write(self._ws.send(event.response()))
                        except Exception:  # noqa: BLE001
                            pass
                        return
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception as error:  # noqa: BLE001
            self._error = f"{type(error).__name__}: {error}"
        finally:
            self.closed.set()
            self._connected.set()

    def _packet(self, text: str) -> None:
        now = time.time()
        kind = text[:1]
        if kind == "0":  # Engine.IO open
            self.handshake = json.loads(text[1:])
            self._send_text(f"40{NAMESPACE},")
        elif kind == "2":  # Engine.IO ping
            if self.answer_pings:
                self._send_text("3")
        elif kind == "4":
            body = text[1:]
            if body.startswith("0"):
                self._connected.set()
            elif body.startswith("4"):
                self._error = f"connect refused: {body}"
                self._connected.set()
            elif body.startswith("2"):
                payload = body[1:]
                if payload.startswith(NAMESPACE):
                    payload = payload[len(NAMESPACE) + 1 :]
                while payload and payload[0].isdigit():  # an ack id
                    payload = payload[1:]
                message = json.loads(payload)
                if message and message[0] == "event" and len(message) > 1:
                    update = message[1] if isinstance(message[1], dict) else json.loads(message[1])
                    if self.keep:
                        self.updates.append((now, update))
                    if self.on_update is not None:
                        try:
                            self.on_update(update, now)
                        except Exception:  # a bug in a callback must not kill the socket
                            self.callback_errors += 1
                            if self.callback_errors == 1:
                                traceback.print_exc()

    async def send(self, handler, payload: dict | None = None, *, path: str | None = None) -> None:
        path = path or self.path
        event = {
            "name": handler_name(handler),
            "payload": payload or {},
            "router_data": {"pathname": path, "query": {}, "asPath": path},
        }
        self._send_text(f"42{NAMESPACE}," + json.dumps(["event", event]))
        await self._writer.drain()

    async def close(self) -> None:
        from wsproto.events import CloseConnection

        if self._writer is not None and not self.closed.is_set():
            try:
                self._writer.write(self._ws.send(CloseConnection(code=1000)))
                await self._writer.drain()
            except Exception:  # noqa: BLE001
                pass
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except BaseException:  # noqa: BLE001
                pass
        if self._writer is not None:
            self._writer.close()
        self.closed.set()


def state_delta(update: dict, state_cls) -> dict:
    """The vars of one state class in an update, without Reflex's ``_rx_state_`` suffix."""
    delta = (update or {}).get("delta") or {}
    values = delta.get(state_cls.get_full_name()) or {}
    return {key.removesuffix("_rx_state_"): value for key, value in values.items()}


def session_cookie(engine, username: str, password: str) -> str:
    """A signed-in agent's ``aw_session`` cookie, minted straight from the auth
    service and bound to the User-Agent that ``WsClient`` presents."""
    from sqlmodel import Session

    from agent_workspace.security import SESSION_COOKIE
    from agent_workspace.services import auth

    with Session(engine, expire_on_commit=False) as session:
        ticket, _ = auth.login(session, username=username, password=password)
        token = auth.redeem_ticket(
            session, ticket=ticket, client=auth.Client(user_agent=USER_AGENT, address="127.0.0.1")
        )
    return f"{SESSION_COOKIE}={token}"
