"""Who may show the app's pages in a frame (clickjacking defence).

An ASGI middleware in front of everything the server answers, the compiled
frontend's HTML included (one port in production): the chat widget's page
may be framed by the app itself and by the sites named in
``AW_WIDGET_ORIGINS`` (``Content-Security-Policy: frame-ancestors``, which
browsers check against every ancestor of the frame); every other response says
``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` (for browsers that
predate CSP), so the agent and supervisor pages, the login and /chat are never
framed. The header is added beside any policy a route sets itself: a browser
enforces every policy it gets.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NOT_FRAMED = "frame-ancestors 'none'"


def embed_policy(origins: Collection[str]) -> str:
    return " ".join(["frame-ancestors", "'self'", *origins])


class FramePolicy:
    """Adds the framing headers to every HTTP response: ``embed_paths`` may be
    framed by ``origins``, nothing else by anyone."""

    def __init__(self, app: ASGIApp, *, embed_paths: Collection[str], origins: Collection[str]):
        self.app = app
        self.embed_paths = frozenset(path.rstrip("/") for path in embed_paths)
        self.embed = embed_policy(origins)

    def policy_for(self, path: str) -> str:
        return self.embed if path.rstrip("/") in self.embed_paths else NOT_FRAMED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.policy_for(scope["path"])

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append("Content-Security-Policy", policy)
                if policy == NOT_FRAMED:
                    headers["X-Frame-Options"] = "DENY"
            await send(message)

        await self.app(scope, receive, send_with_policy)


def frame_policy(*, embed_paths: Collection[str], origins: Collection[str]):
    """The middleware as an ``rx.App(api_transformer=...)`` entry."""
    return lambda app: FramePolicy(app, embed_paths=embed_paths, origins=origins)
