"""HTTP exports of records: a supervisor's CSV of a list, and one record's transcript.

``GET /api/export/{kind}.csv`` streams every row of the list a supervisor sees
with the page's filters (the list page's "Export CSV" link carries them), each
chunk read in its own short session on the read threads (a stalled download
holds no connection); one export per user at a time and ``MAX_EXPORTS`` in all;
``GET /api/records/{number}/transcript.txt`` is the record page's "Download
transcript", for whoever may open the record. The session is checked like every
route of api.py (``security.identify``); a record the caller may not open is a 404.
"""

from __future__ import annotations

import csv
import io
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from agent_workspace.api import _client, _session_token
from agent_workspace.db import run_reading, session_scope
from agent_workspace.models import Role
from agent_workspace.security import identify
from agent_workspace.services import auth, record_lists, record_pages
from agent_workspace.services.errors import NotFound, ServiceError
from agent_workspace.services.record_access import Viewer
from agent_workspace.services.record_lists import ListKind, ListQuery, ListRow
from agent_workspace.services.record_params import query_from_params

MAX_EXPORTS = 4  # at once, over all users: each holds a read thread while it reads a chunk
CSV_HEADER = (
    "Number",
    "Customer",
    "Customer email",
    "Queue",
    "Agent",
    "State",
    "Opened (UTC)",
    "Closed (UTC)",
    "Duration (seconds)",
    "Rating",
    "Summary",
)
# A cell a spreadsheet would run as a formula starts with one of these (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(cell: str) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading quote."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_cells(row: ListRow) -> list[str]:
    cells = [
        row.number,
        row.customer,
        row.customer_email,
        row.queue,
        row.agent,
        row.state_label,
        f"{row.opened:%Y-%m-%d %H:%M:%S}",
        f"{row.closed:%Y-%m-%d %H:%M:%S}" if row.closed else "",
        "" if row.duration_seconds is None else str(row.duration_seconds),
        "" if row.rating is None else str(row.rating),
        row.summary,
    ]
    return [neutral(cell) for cell in cells]


def csv_text(rows: list[ListRow], *, header: bool) -> str:
    """Rows as CSV text; the first chunk starts with a BOM (for spreadsheets) and the header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        buffer.write("\ufeff")
        writer.writerow(CSV_HEADER)
    writer.writerows(csv_cells(row) for row in rows)
    return buffer.getvalue()


class _Exports:
    """Who is exporting now: one export per user, ``MAX_EXPORTS`` in all (threads
    of the app and of its test clients share it, hence the lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders: dict[int, object] = {}

    def claim(self, user_id: int) -> tuple[Callable[[], None] | None, str]:
        """(release, "") when ``user_id`` may start an export now, else (None, why not).
        ``release`` frees this claim only, however often it is called."""
        with self._lock:
            if user_id in self._holders:
                return None, "Your last export is still downloading: wait for it to finish."
            if len(self._holders) >= MAX_EXPORTS:
                return None, "Too many exports are running: try again in a minute."
            claim = self._holders[user_id] = object()

        def release() -> None:
            with self._lock:
                if self._holders.get(user_id) is claim:
                    del self._holders[user_id]

        return release, ""


RUNNING = _Exports()


def _read_chunks(viewer: Viewer, query: ListQuery) -> Iterator[list[ListRow]]:
    return record_lists.export_chunks(lambda: session_scope(writer=False), viewer, query)


async def _principal(request: Request) -> auth.Principal | None:
    return await run_reading(identify, _session_token(request), _client(request))


async def _stream(
    chunks: Iterator[list[ListRow]], first: list[ListRow], release: Callable[[], None]
) -> AsyncIterator[str]:
    """The CSV, each further chunk read on the read threads; the export's place is
    released when it ends, also when the client leaves."""
    try:
        yield csv_text(first, header=True)
        while (rows := await run_reading(next, chunks, None)) is not None:
            yield csv_text(rows, header=False)
    finally:
        release()


async def export_list(request: Request) -> Response:
    """A supervisor's list as CSV, every row matching the filters."""
    principal = await _principal(request)
    if principal is None or not principal.has(Role.SUPERVISOR):
        return PlainTextResponse("Only supervisors can export lists.", status_code=403)
    kind = request.path_params["kind"]
    if kind not in {k.value for k in ListKind}:
        return PlainTextResponse("Not found", status_code=404)
    release, refused = RUNNING.claim(principal.user_id)
    if release is None:
        return PlainTextResponse(refused, status_code=429, headers={"Retry-After": "30"})
    try:
        query = query_from_params(ListKind(kind), {key: value for key, value in request.query_params.items() if value})
        chunks = _read_chunks(Viewer.of(principal.user_id, principal.roles), query)
        first = await run_reading(next, chunks)  # a refused query answers 400 before anything streams
    except BaseException as error:
        release()
        if isinstance(error, ServiceError):
            return PlainTextResponse(str(error), status_code=400)
        raise
    stream = _stream(chunks, first, release)
    weakref.finalize(stream, release)  # also when the response never started streaming
    return StreamingResponse(
        stream,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{kind}s-{date.today():%Y%m%d}.csv"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _transcript(viewer: Viewer, number: str) -> tuple[str, str]:
    with session_scope(writer=False) as session:
        return record_pages.transcript_of(session, viewer, number)


async def record_transcript(request: Request) -> Response:
    """One record's transcript as text, for whoever may open the record (404 for anyone else)."""
    principal = await _principal(request)
    number = request.path_params["number"][:20]
    if principal is None or not any(principal.has(role) for role in (Role.WORKSPACE_USER, Role.SUPERVISOR)):
        return PlainTextResponse("Not found", status_code=404)
    try:
        filename, text = await run_reading(_transcript, Viewer.of(principal.user_id, principal.roles), number)
    except NotFound:
        return PlainTextResponse("Not found", status_code=404)
    return PlainTextResponse(
        text,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


ROUTES = [
    Route("/api/export/{kind}.csv", export_list, methods=["GET"]),
    Route("/api/records/{number}/transcript.txt", record_transcript, methods=["GET"]),
]
