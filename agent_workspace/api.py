"""HTTP routes beside the websocket: session cookie, logout, downloads, health.

Mounted with ``rx.App(api_transformer=...)``. The session cookie is set here
because a websocket event cannot set an HttpOnly cookie; the browser then
carries it on every websocket handshake, where security.py reads it. The
session is bound to the browser that redeems the ticket here; every route
that reads the cookie checks that binding through ``security.identify``.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from agent_workspace import realtime, routes
from agent_workspace.config import public_site, settings
from agent_workspace.db import session_scope
from agent_workspace.models import Presence, stored_id
from agent_workspace.security import SESSION_COOKIE, client_address, client_from, identify, session_token_from_headers
from agent_workspace.services import attachments, auth, conversations, routing
from agent_workspace.services.errors import NotFound, ServiceError
from agent_workspace.services.transcripts import transcript_text
from agent_workspace.state.chat_cookies import CHAT_COOKIE
from agent_workspace.widget_api import launcher_availability


def _client(request: Request) -> auth.Client:
    peer = request.client.host if request.client else ""
    return client_from(request.headers, client_address(peer, request.headers))


def _session_token(request: Request) -> str | None:
    return session_token_from_headers({"cookie": request.headers.get("cookie", "")})


def _secure_cookies(request: Request) -> bool:
    """TLS may end at a reverse proxy, so the public URL says whether browsers use https."""
    return public_site().secure_cookies or request.url.scheme == "https"


def _redeem(ticket: str, client: auth.Client) -> str:
    with session_scope() as session:
        return auth.redeem_ticket(session, ticket=ticket, client=client, bind_address=settings().session_bind_address)


async def start_session(request: Request) -> Response:
    """Trade the one-time ticket from the login event for the HttpOnly session cookie,
    bound to this browser, and go on to the page the visitor asked for (``?next=``,
    only our own private pages) or the Inbox."""
    try:
        token = await asyncio.to_thread(_redeem, request.path_params["ticket"], _client(request))
    except ServiceError as error:
        return RedirectResponse(f"/login?error={quote(str(error))}", status_code=303)
    response = RedirectResponse(
        routes.return_path(request.query_params.get("next")) or routes.WORKSPACE, status_code=303
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings().session_hours * 3600,
        httponly=True,
        samesite="strict",
        secure=_secure_cookies(request),
        path="/",
    )
    return response


def _logout(token: str, client: auth.Client) -> list[str]:
    """Only the session's own browser logs out; a copy is revoked (and audited) by identify.
    Returns the user's tabs to sign out. The agent goes Offline: a signed-out
    agent is offered no chat (its offers go back to the line at once)."""
    principal = identify(token, client)
    if principal is None:
        return []
    with session_scope() as session:
        tokens = auth.logout(session, token=token)
        routing.set_presence(session, user_id=principal.user_id, presence=Presence.OFFLINE)
        return tokens


async def logout(request: Request) -> Response:
    """Revoke the session and drop the cookie (SameSite=strict: no cross-site logout)."""
    token = _session_token(request)
    if token:
        tokens = await asyncio.to_thread(_logout, token, _client(request))
        await realtime.sign_out_tabs(tokens)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_secure_cookies(request))
    return response


def _transcript(public_id: str) -> tuple[str, str]:
    with session_scope(writer=False) as session:
        item = conversations.interaction_by_public_id(session, public_id)
        return item.number or "chat", transcript_text(session, interaction_id=stored_id(item))


async def customer_transcript(request: Request) -> Response:
    """The customer's own transcript; the unguessable chat id is the capability."""
    try:
        number, text = await asyncio.to_thread(_transcript, request.path_params["public_id"])
    except ServiceError:
        return PlainTextResponse("Not found", status_code=404)
    return PlainTextResponse(
        text,
        headers={"Content-Disposition": f'attachment; filename="{number}-transcript.txt"'},
    )


INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


def _authorize_download(
    public_id: str, session_token: str | None, chat_key: str | None, client: auth.Client
) -> tuple[str, str, str]:
    """(path, content type, filename) if the caller may have the file; NotFound otherwise."""
    principal = identify(session_token, client)
    with session_scope() as session:
        customer_interaction_id = None
        if chat_key:
            try:
                customer_interaction_id = conversations.interaction_by_public_id(session, chat_key).id
            except ServiceError:
                customer_interaction_id = None
        attachment, path = attachments.open_attachment(session, public_id=public_id)
        allowed = attachments.can_download(
            session,
            attachment=attachment,
            user_id=principal.user_id if principal else None,
            roles=set(principal.roles) if principal else set(),
            customer_interaction_id=customer_interaction_id,
        )
        if not allowed:
            raise NotFound("No such file.")
        attachments.record_download(
            session,
            attachment=attachment,
            actor_kind="agent" if principal else "customer",
            actor_id=principal.user_id if principal else None,
        )
        return str(path), attachment.content_type, attachment.filename


async def download_attachment(request: Request) -> Response:
    """Serve a file only to those ``attachments.can_download`` names (the chat's customer, who may view its record)."""
    try:
        path, content_type, filename = await asyncio.to_thread(
            _authorize_download,
            request.path_params["public_id"],
            _session_token(request),
            request.cookies.get(CHAT_COOKIE),
            _client(request),
        )
    except ServiceError:
        return PlainTextResponse("Not found", status_code=404)
    disposition = "inline" if content_type in INLINE_TYPES else "attachment"
    return FileResponse(
        path,
        media_type=content_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
        },
    )


async def health(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def build_api() -> Starlette:
    from agent_workspace import exports  # it reads the session through this module's helpers

    return Starlette(
        routes=[
            Route("/api/session/{ticket}", start_session, methods=["GET"]),
            Route("/api/logout", logout, methods=["GET"]),
            Route("/api/transcript/{public_id}", customer_transcript, methods=["GET"]),
            Route("/api/attachments/{public_id}", download_attachment, methods=["GET"]),
            Route("/api/health", health, methods=["GET"]),
            Route("/api/widget/availability", launcher_availability, methods=["GET"]),
            *exports.ROUTES,
        ]
    )
