"""Who may frame what: the header on every response, whatever answers it."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from agent_workspace.frame_policy import NOT_FRAMED, FramePolicy, embed_policy

ORIGINS = ("https://shop.example.com", "https://www.example.com")


async def _page(_request) -> PlainTextResponse:
    return PlainTextResponse("<html>", headers={"Content-Security-Policy": "default-src 'none'"})


def _client() -> httpx.AsyncClient:
    inner = Starlette(routes=[Route("/{path:path}", _page)])
    app = FramePolicy(inner, embed_paths=["/widget"], origins=ORIGINS)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_the_widget_page_may_be_framed_by_the_app_and_the_named_sites_only():
    async with _client() as client:
        for path in ("/widget", "/widget/"):
            response = await client.get(path)
            assert response.headers.get_list("content-security-policy") == [
                "default-src 'none'",  # the route's own policy stays: the browser enforces both
                "frame-ancestors 'self' https://shop.example.com https://www.example.com",
            ]
            assert "x-frame-options" not in response.headers


async def test_every_other_response_is_never_framed():
    async with _client() as client:
        for path in (
            "/",
            "/chat",
            "/workspace",
            "/supervisor",
            "/login",
            "/widget.js",
            "/widgets",
            "/kb/KB0001",
            "/api/health",
        ):
            response = await client.get(path)
            assert NOT_FRAMED in response.headers.get_list("content-security-policy"), path
            assert response.headers["x-frame-options"] == "DENY", path


def test_without_named_sites_only_the_app_frames_the_widget():
    assert embed_policy(()) == "frame-ancestors 'self'"
