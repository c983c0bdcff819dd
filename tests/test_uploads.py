"""The upload limit at the ASGI level: how many bytes of a body the server pulls in.

The app behind the guard parses the multipart form the way Reflex's upload
endpoint does (``await request.form()``); the client's body is a generator that
counts what was taken from it, so the numbers are exact (over real HTTP, socket
buffers blur them: see tests/e2e/test_upload_limit.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agent_workspace.uploads import NOT_CONNECTED, PartCounter, UploadLimit, multipart_boundary

CHUNK = 8_192
LIMIT = 12 * CHUNK
BOUNDARY = "b0undary"
MESSAGE = "Upload too large: the limit is 0.1 MB per upload."


async def _parse(request: Request) -> JSONResponse:
    form = await request.form()
    sizes = [len(await part.read()) for part in form.getlist("files")]
    return JSONResponse({"sizes": sizes})


async def _connected(token: str) -> bool:
    """Stands in for Reflex's token manager: the tabs of ``_headers`` are connected."""
    return token.startswith("live-")


def _headers() -> dict[str, str]:
    """A multipart upload from a connected tab of its own (each spends its own budget)."""
    return {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Reflex-Client-Token": f"live-{uuid.uuid4()}"}


def _client() -> httpx.AsyncClient:
    inner = Starlette(routes=[Route("/_upload", _parse, methods=["POST"]), Route("/other", _parse, methods=["POST"])])
    guard = UploadLimit(inner, max_body=LIMIT, message=MESSAGE, error_vars={}, connected=_connected)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=guard), base_url="http://test")


class Body:
    """A multipart body of one file of ``size`` bytes (a whole number of chunks), sent in chunks, counting what was pulled."""

    def __init__(self, size: int):
        self.size = size
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="f.txt"\r\n\r\n'.encode()
        for piece in [head, *([b"x" * CHUNK] * (self.size // CHUNK)), f"\r\n--{BOUNDARY}--\r\n".encode()]:
            self.pulled += len(piece)
            yield piece


async def test_a_declared_length_over_the_limit_is_refused_without_reading_the_body():
    body = Body(10 * LIMIT)
    async with _client() as client:
        response = await client.post(
            "/_upload", content=body, headers={**_headers(), "Content-Length": str(10 * LIMIT)}
        )
    assert (response.status_code, response.text) == (413, MESSAGE)
    assert response.headers["connection"] == "close"
    assert body.pulled == 0


async def test_a_tab_that_is_not_connected_is_refused_before_its_body_is_read():
    for token in (f"made-up-{uuid.uuid4()}", ""):  # a token no websocket holds, and none at all
        body = Body(LIMIT // 2)
        async with _client() as client:
            response = await client.post("/_upload", content=body, headers={**_headers(), "Reflex-Client-Token": token})
        assert (response.status_code, response.text) == (403, NOT_CONNECTED)
        assert body.pulled == 0


async def test_a_tab_past_its_upload_budget_is_refused():
    headers = _headers()
    async with _client() as client:
        answers = [(await client.post("/_upload", content=Body(CHUNK), headers=headers)).status_code for _ in range(11)]
    assert answers == [200] * 10 + [429]  # Budget.UPLOAD: 10 a tab per 10 minutes


async def test_a_body_without_a_length_is_cut_off_at_the_limit():
    body = Body(100 * LIMIT)
    async with _client() as client:
        response = await client.post("/_upload", content=body, headers=_headers())
    assert (response.status_code, response.text) == (413, MESSAGE)
    assert LIMIT < body.pulled <= LIMIT + CHUNK  # the server took one chunk past the limit, no more


async def test_an_upload_within_the_limit_reaches_the_app_whole():
    body = Body(LIMIT - 2 * CHUNK)
    async with _client() as client:
        response = await client.post("/_upload", content=body, headers=_headers())
    assert response.status_code == 200
    assert response.json() == {"sizes": [LIMIT - 2 * CHUNK]}


async def test_other_routes_are_not_limited():
    async with _client() as client:
        response = await client.post("/other", content=Body(3 * LIMIT), headers=_headers())
    assert response.json() == {"sizes": [3 * LIMIT]}


# ---------------------------------------------------------------- files per upload

MAX_FILES = 5
TOO_MANY = "Too many files: at most 5 per upload."


class Parts:
    """A multipart body of ``count`` small files (and Reflex's arguments field), one chunk per part."""

    def __init__(self, count: int, *, with_args: bool = False):
        self.count = count
        self.with_args = with_args
        self.pulled = 0
        self.total = sum(len(piece) for piece in self._pieces())

    def _pieces(self) -> list[bytes]:
        pieces = (
            [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="__reflex_event_args"\r\n\r\n{{}}\r\n'.encode()]
            if self.with_args
            else []
        )
        pieces += [
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="f{n}.txt"\r\n\r\nfile {n}\r\n'.encode()
            for n in range(self.count)
        ]
        return [*pieces, f"--{BOUNDARY}--\r\n".encode()]

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._pieces():
            self.pulled += len(piece)
            yield piece


def _counting_client() -> httpx.AsyncClient:
    inner = Starlette(routes=[Route("/_upload", _parse, methods=["POST"])])
    guard = UploadLimit(
        inner,
        max_body=LIMIT,
        message=MESSAGE,
        error_vars={},
        max_files=MAX_FILES,
        too_many_message=TOO_MANY,
        connected=_connected,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=guard), base_url="http://test")


async def test_a_body_with_too_many_files_is_cut_off_within_two_parts_of_the_limit():
    body = Parts(200)
    async with _counting_client() as client:
        response = await client.post("/_upload", content=body, headers=_headers())
    assert (response.status_code, response.text) == (413, TOO_MANY)
    one_part = len(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="f10.txt"\r\n\r\nfile 10\r\n'
    )
    # Five files, Reflex's arguments field, and the part that makes the count certain (it may be the closing line).
    assert body.pulled <= (MAX_FILES + 3) * one_part < body.total  # the app never saw the rest


async def test_as_many_files_as_allowed_and_the_arguments_field_reach_the_app():
    async with _counting_client() as client:
        response = await client.post("/_upload", content=Parts(MAX_FILES, with_args=True), headers=_headers())
    assert response.status_code == 200
    assert response.json() == {"sizes": [6] * MAX_FILES}


async def test_one_part_too_many_is_refused():
    async with _counting_client() as client:
        response = await client.post("/_upload", content=Parts(MAX_FILES + 1, with_args=True), headers=_headers())
    assert (response.status_code, response.text) == (413, TOO_MANY)


def test_a_delimiter_split_across_chunks_is_counted_once():
    body = b"".join(Parts(3)._pieces())
    counter = PartCounter(BOUNDARY)
    for byte in range(len(body)):
        counter.feed(body[byte : byte + 1])
    assert counter.delimiters == 4  # three parts and the closing line
    assert multipart_boundary(f'multipart/form-data; boundary="{BOUNDARY}"') == BOUNDARY
    assert multipart_boundary("application/json") == ""
