"""HTTP exports of records: a supervisor's CSV of a list, and one record's transcript.

``GET /api/export/{kind}.csv`` streams every row of the list a supervisor sees
with the page's filters (the list page's "Export CSV" link carries them);
``GET /api/records/{number}/transcript.txt`` is the record page's "Download
transcript", for whoever may open the record. The session is checked like every
route of api.py (``security.identify``); a record the caller may not open is a 404.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import date
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from agent_workspace.api import _client, _session_token
from agent_workspace.db import session_scope
from agent_workspace.models import Role
from agent_workspace.security import identify
from agent_workspace.services import auth, record_lists, record_pages
from agent_workspace.services.errors import NotFound, ServiceError, ValidationError
from agent_workspace.services.record_access import Viewer
from agent_workspace.services.record_lists import ListKind, ListQuery, ListRow, Scope, SortColumn

SEARCH_CHARS = record_lists.MAX_SEARCH_LENGTH
ROWS_PER_CHUNK = 500
# The states a list of each kind can be filtered by: value -> label.
STATES_OF = {
    ListKind.INTERACTION: {str(value): label for value, label in record_lists.INTERACTION_STATE_LABELS.items()},
    ListKind.CASE: record_lists.RECORD_STATE_LABELS,
    ListKind.INCIDENT: record_lists.RECORD_STATE_LABELS,
}
CSV_HEADER = ("Number", "Customer", "Customer email", "Queue", "Agent", "State", "Opened (UTC)", "Closed (UTC)", "Duration (seconds)", "Rating", "Summary")
# A cell a spreadsheet would run as a formula starts with one of these (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _day(params: Mapping[str, str], name: str) -> date | None:
    text = params.get(name, "")
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{name}: a date as YYYY-MM-DD.") from None


def _row_id(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name, "")
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise ValidationError(f"{name}: a number.")
    return int(text)


def list_query(kind: ListKind, params: Mapping[str, str], *, page: int = 1, page_size: int = 25) -> ListQuery:
    """The list a page (or an export link) asks for with these parameters, checked.

    ``scope``, ``state``, ``queue``, ``agent``, ``from``, ``to``, ``q``, ``sort``,
    ``desc`` ("1"/"0"); any of them left out takes the list's default.
    """
    scope, sort, state = params.get("scope", Scope.MY_QUEUES.value), params.get("sort", SortColumn.OPENED.value), params.get("state", "")
    if scope not in {s.value for s in Scope}:
        raise ValidationError("scope: mine, my_queues or all.")
    if sort not in {c.value for c in SortColumn}:
        raise ValidationError("sort: one of " + ", ".join(c.value for c in SortColumn) + ".")
    if state and state not in STATES_OF[kind]:
        raise ValidationError("state: one of " + ", ".join(STATES_OF[kind]) + ".")
    if params.get("desc", "1") not in ("0", "1"):
        raise ValidationError("desc: 0 or 1.")
    text = params.get("q", "")
    if len(text) > SEARCH_CHARS:
        raise ValidationError(f"q: at most {SEARCH_CHARS} characters.")
    date_from, date_to = _day(params, "from"), _day(params, "to")
    if date_from and date_to and date_from > date_to:
        raise ValidationError("from must be on or before to.")
    return ListQuery(
        kind=kind,
        scope=Scope(scope),
        state=state,
        queue_id=_row_id(params, "queue"),
        agent_id=_row_id(params, "agent"),
        date_from=date_from,
        date_to=date_to,
        text=text.strip(),
        sort=SortColumn(sort),
        descending=params.get("desc", "1") == "1",
        page=page,
        page_size=page_size,
    )


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


def csv_chunks(rows: Iterator[ListRow]) -> Iterator[str]:
    """The CSV text in pieces of ROWS_PER_CHUNK rows, the header (after a BOM, for spreadsheets) first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(CSV_HEADER)
    count = 0
    for row in rows:
        writer.writerow(csv_cells(row))
        count += 1
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _exported(viewer: Viewer, query: ListQuery) -> Iterator[str]:
    """The export, read in one read transaction held while the response streams."""
    with session_scope(writer=False) as session:
        yield from csv_chunks(record_lists.export_rows(session, viewer, query))


async def _principal(request: Request) -> auth.Principal | None:
    return await asyncio.to_thread(identify, _session_token(request), _client(request))


async def _stream(chunks: Iterator[str], first: str) -> AsyncIterator[str]:
    """Each further chunk is read off the event loop; a client that leaves ends the read."""
    try:
        yield first
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            yield chunk
    finally:
        await asyncio.to_thread(chunks.close)


async def export_list(request: Request) -> Response:
    """A supervisor's list as CSV, every row matching the filters."""
    principal = await _principal(request)
    if principal is None or not (principal.has(Role.SUPERVISOR) or principal.has(Role.ADMIN)):
        return PlainTextResponse("Only supervisors can export lists.", status_code=403)
    kind = request.path_params["kind"]
    if kind not in {k.value for k in ListKind}:
        return PlainTextResponse("Not found", status_code=404)
    try:
        query = list_query(ListKind(kind), {key: request.query_params.get(key, "") for key in request.query_params if request.query_params.get(key)})
        chunks = _exported(Viewer.of(principal.user_id, principal.roles), query)
        first = await asyncio.to_thread(next, chunks)  # a refused query answers 400 before anything streams
    except ServiceError as error:
        return PlainTextResponse(str(error), status_code=400)
    return StreamingResponse(
        _stream(chunks, first),
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
    if principal is None or not any(principal.has(role) for role in (Role.WORKSPACE_USER, Role.SUPERVISOR, Role.ADMIN)):
        return PlainTextResponse("Not found", status_code=404)
    try:
        filename, text = await asyncio.to_thread(_transcript, Viewer.of(principal.user_id, principal.roles), number)
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
