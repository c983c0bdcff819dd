"""The chat widget's public HTTP route: what its launcher says about availability.

The launcher sits on the host site before any chat (and before the iframe)
exists, so it asks this small JSON route, every 30 s and when its page is
shown again. Public, so it is sized and counted like the websocket: a request
larger than a launcher's is refused before any work, and each one spends the
launcher budget of its page and of its address. Every launcher of this
process shares one read of the queues per ``LAUNCHER_CACHE_SECONDS``, and the
answer may be cached as long. Host sites in ``AW_WIDGET_ORIGINS`` may read it
cross-origin (no credentials: it says the same to everyone).
"""

from __future__ import annotations

import asyncio
import re
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from agent_workspace.config import widget_origins
from agent_workspace.models import stored_id
from agent_workspace.security import client_address
from agent_workspace.services import availability, budgets, queue_visibility, widget
from agent_workspace.state.common import run_query
from agent_workspace.state.outlook import outlook_view, valid_time_zone

LAUNCHER_CACHE_SECONDS = 5.0
MAX_QUERY_BYTES = 256  # a launcher sends a queue id, a time zone and a page id
_PAGE_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
_QUEUE_ID = re.compile(r"[0-9]{1,12}")  # ASCII digits only (str.isdecimal takes any script's)
ALL_QUEUES = "Support"  # the name a launcher for every queue gives the team
HOST_ORIGINS = frozenset(widget_origins())  # read once, like the frame policy (agent_workspace.py)

_launcher_reads: tuple[float, dict[int, availability.Outlook], dict[int, str]] = (float("-inf"), {}, {})
_refreshing = asyncio.Lock()


def _read_queues(session) -> tuple[dict[int, availability.Outlook], dict[int, str]]:
    names = {stored_id(q): q.name for q in queue_visibility.public_queues(session)}
    return availability.queue_outlooks(session, queue_ids=list(names)), names


def _fresh() -> bool:
    return time.monotonic() - _launcher_reads[0] < LAUNCHER_CACHE_SECONDS


async def _queues() -> tuple[dict[int, availability.Outlook], dict[int, str]]:
    """The shared read; when it is stale, one request reads again and the ones
    arriving meanwhile wait for that read instead of making their own."""
    global _launcher_reads
    if not _fresh():
        async with _refreshing:
            if not _fresh():
                read_at = time.monotonic()
                outlooks, names = await run_query(_read_queues)
                _launcher_reads = (read_at, outlooks, names)
    return _launcher_reads[1], _launcher_reads[2]


def _answer(body: dict, status: int, request: Request, **headers: str) -> Response:
    origin = request.headers.get("origin", "")
    if origin in HOST_ORIGINS:
        headers["Access-Control-Allow-Origin"] = origin
    return JSONResponse(body, status_code=status, headers={"Vary": "Origin", **headers})


async def launcher_availability(request: Request) -> Response:
    """``?queue=<id>`` (none: every queue), ``tz=<IANA zone>``, ``page=<the launcher's random id>``."""
    if len(request.scope.get("query_string", b"")) > MAX_QUERY_BYTES or request.headers.get(
        "content-length", "0"
    ) not in ("", "0"):
        return _answer({"error": "Request too large."}, 413, request)
    page = request.query_params.get("page", "")
    if not _PAGE_ID.fullmatch(page):
        return _answer({"error": "A launcher names its page."}, 400, request)
    peer = request.client.host if request.client else ""
    try:
        await budgets.spend(budgets.Budget.LAUNCHER, token=page, address=client_address(peer, request.headers))
    except budgets.OverBudget as refusal:
        return _answer({"error": str(refusal)}, 429, request, **{"Retry-After": "60"})
    queue = request.query_params.get("queue", "")
    if queue and not _QUEUE_ID.fullmatch(queue):
        return _answer({"error": "No such queue."}, 400, request)
    outlooks, names = await _queues()
    queue_id = int(queue) if queue else None
    found = widget.launcher_outlook(outlooks, queue_id)  # active queues only, like names: read together
    if found is None:
        return _answer({"error": "No such queue."}, 404, request)
    view = outlook_view(
        found,
        queue_name=names[queue_id] if queue_id is not None else ALL_QUEUES,
        time_zone=valid_time_zone(request.query_params.get("tz", "")),
        waiting=False,
    )
    return _answer(
        {"status": view.status, "text": widget.launcher_text(view.headline, can_leave_message=view.can_leave_message)},
        200,
        request,
        **{"Cache-Control": f"public, max-age={int(LAUNCHER_CACHE_SECONDS)}"},
    )
