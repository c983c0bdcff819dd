"""Size and file-count limits on Reflex's upload endpoint that hold while the body is read.

Reflex's ``/_upload`` lets Starlette parse (and spool to disk) the whole
multipart body before a handler sees the files, so a handler's size check
comes after the server has taken in whatever the client chose to send. This
ASGI middleware sits in front of it: a declared Content-Length over the limit
gets 413 before a byte of the body is read, and a body without a declared
length (chunked) is counted as it streams and cut off once past the limit.
The multipart parts are counted as they stream too (one ``bytes.count`` per
chunk): a body with more files than an upload may carry is cut off at the
first part too many, before Starlette makes a temporary file for each (it
would take 1,000).

Before any of that, the request must name a tab whose websocket is connected
(to any worker: Reflex's token manager is Redis-backed in scale-out), and it
spends the upload budget of that tab and of its address; a made-up
``reflex-client-token`` is refused, so nothing is kept for it.

Reflex's upload call in the browser drops error responses silently, so the
refusal is also written into the uploading tab's state, where the page shows it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import reflex as rx
from reflex.config import get_config
from reflex.constants import Endpoint
from reflex.event import EventHandler
from reflex.utils.format import format_event_handler
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent_workspace import realtime
from agent_workspace.security import client_address
from agent_workspace.services import budgets
from agent_workspace.services.budgets import Budget

NOT_CONNECTED = "This page is not connected: reload it and upload again."


@dataclass(frozen=True)
class ErrorVar:
    """Where a refused upload's message goes: a var of the handler's state."""

    state_cls: type[rx.State]
    var: str


_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^\s;]+))', re.IGNORECASE)


class PartCounter:
    """Counts the delimiter lines of a multipart body fed to it chunk by chunk
    (a delimiter split across two chunks is counted once)."""

    def __init__(self, boundary: str):
        self.delimiter = b"--" + boundary.encode("latin-1")
        self.tail = b""
        self.delimiters = 0

    def feed(self, chunk: bytes) -> int:
        window = self.tail + chunk
        self.delimiters += window.count(self.delimiter)
        # Shorter than a delimiter, so never counted twice.
        self.tail = window[-(len(self.delimiter) - 1) :] if len(self.delimiter) > 1 else b""
        return self.delimiters


async def tab_connected(token: str) -> bool:
    """Whether a websocket of the tab ``token`` is connected to any worker of this app."""
    app = realtime._app
    namespace = app.event_namespace if app is not None else None
    return namespace is not None and await namespace._token_manager.is_token_connected(token)


def multipart_boundary(content_type: str) -> str:
    """The boundary of a multipart body, or "" for any other body."""
    if not content_type.lower().startswith("multipart/"):
        return ""
    found = _BOUNDARY.search(content_type)
    return (found.group(1) or found.group(2)) if found else ""


class UploadLimit:
    """ASGI middleware: POSTs to the upload endpoint may carry at most ``max_body``
    bytes and, if ``max_files`` is given, at most that many files."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        message: str,
        error_vars: dict[str, ErrorVar],
        max_files: int | None = None,
        too_many_message: str = "",
        connected: Callable[[str], Awaitable[bool]] = tab_connected,
    ):
        self.app = app
        self.connected = connected
        self.max_body = max_body
        self.message = message
        self.error_vars = error_vars
        # Reflex's page may send one more part before the files: the handler's bound arguments.
        self.max_parts = None if max_files is None else max_files + 1
        self.too_many_message = too_many_message
        self.path = get_config().prepend_backend_path(str(Endpoint.UPLOAD))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        token = headers.get("reflex-client-token", "")
        # First, before the tab's state is touched: a token nobody is connected with gets nothing kept for it.
        if not token or not await self.connected(token):
            await _answer(send, 403, NOT_CONNECTED)
            return
        peer = (scope.get("client") or ("", 0))[0]
        try:
            await budgets.spend(Budget.UPLOAD, token=token, address=client_address(peer, headers))
        except budgets.OverBudget as over:
            await self._refuse(send, headers, str(over), status=429)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await self._refuse(send, headers, self.message)
            return

        boundary = multipart_boundary(headers.get("content-type", ""))
        parts = PartCounter(boundary) if boundary and self.max_parts is not None else None
        received, refusal = 0, ""

        async def counted_receive() -> Message:
            nonlocal received, refusal
            if refusal:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_body:
                    refusal = self.message
                # A body of n parts has n + 1 delimiter lines, the closing one included.
                elif parts is not None and self.max_parts is not None and parts.feed(chunk) > self.max_parts + 1:
                    refusal = self.too_many_message
                if refusal:  # the app sees a client that went away, and stops reading
                    return {"type": "http.disconnect"}
            return message

        async def quiet_send(message: Message) -> None:
            if not refusal:
                await send(message)

        try:
            await self.app(scope, counted_receive, quiet_send)
        except Exception:
            if not refusal:
                raise  # a failure on a body we cut off is answered by the 413 below
        if refusal:
            await self._refuse(send, headers, refusal)

    async def _refuse(self, send: Send, headers: dict[str, str], message: str, status: int = 413) -> None:
        """Answer ``status`` and tell the tab (whose websocket is connected: checked first)."""
        await _answer(send, status, message)
        await self._tell_tab(headers.get("reflex-client-token", ""), headers.get("reflex-event-handler", ""), message)

    async def _tell_tab(self, token: str, handler: str, message: str) -> None:
        """Show the refusal where the page shows upload errors."""
        target = self.error_vars.get(handler)
        if not token or target is None:
            return
        # The 413 has gone out; a tab that cannot be told still sees nothing stored.
        await realtime.set_var(token, target.state_cls, target.var, message)


async def _answer(send: Send, status: int, message: str) -> None:
    body = message.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),  # do not read the rest of the body to reuse the connection
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def upload_limit(
    *,
    max_body: int,
    message: str,
    error_vars: dict[EventHandler, str],
    max_files: int | None = None,
    too_many_message: str = "",
) -> Callable[[ASGIApp], ASGIApp]:
    """An ``api_transformer`` that puts UploadLimit in front of the app.

    ``error_vars`` maps each upload handler to the var of its state that shows upload errors.
    """
    targets = {format_event_handler(handler): _error_var(handler, var) for handler, var in error_vars.items()}

    def transform(app: ASGIApp) -> ASGIApp:
        return UploadLimit(
            app,
            max_body=max_body,
            message=message,
            error_vars=targets,
            max_files=max_files,
            too_many_message=too_many_message,
        )

    return transform


def _error_var(handler: EventHandler, var: str) -> ErrorVar:
    if handler.state is None or not issubclass(handler.state, rx.State):
        raise TypeError(f"{handler.fn.__qualname__} is not an event handler of an rx.State.")
    return ErrorVar(handler.state, var)
