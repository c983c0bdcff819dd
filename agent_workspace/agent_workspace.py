"""The Reflex app: pages, the authorization middleware, HTTP routes, the upload limit, background sweeps."""

from __future__ import annotations

import asyncio
import logging
import os
import time

import reflex as rx

from agent_workspace import mailer, realtime, routes, state_lease
from agent_workspace.api import build_api
from agent_workspace.components import connection
from agent_workspace.config import public_site, settings, upload_quotas, widget_origins
from agent_workspace.db import run_blocking, session_scope
from agent_workspace.frame_policy import frame_policy
from agent_workspace.pages.chat import chat
from agent_workspace.pages.index import index
from agent_workspace.pages.kb_article import ArticlePageState, kb_article
from agent_workspace.pages.login import login
from agent_workspace.pages.record import record
from agent_workspace.pages.records import cases, incidents, interactions
from agent_workspace.pages.supervisor import supervisor
from agent_workspace.pages.widget import widget
from agent_workspace.pages.workspace import workspace
from agent_workspace.security import DenyByDefault
from agent_workspace.services import (
    absence,
    attachment_storage,
    attachments,
    audience,
    availability,
    chat_files,
    knowledge,
    lockout,
    routing,
)
from agent_workspace.state.auth import AuthState, LoginState
from agent_workspace.state.customer import CustomerChatState
from agent_workspace.state.left_messages import LeftMessagesState
from agent_workspace.state.records import RecordListState, RecordPageState
from agent_workspace.state.supervisor import SupervisorState
from agent_workspace.state.tools import ToolsState
from agent_workspace.state.widget import WidgetState
from agent_workspace.state.workspace import WorkspaceState
from agent_workspace.uploads import upload_limit

log = logging.getLogger(__name__)
SWEEP_SECONDS = 2.0
STALE_CLIENT_SECONDS = 15 * 60
# The largest event a person makes is an agent's email: 50,000 characters, at most
# 200 KB of UTF-8 in any script. Public fields are far smaller and are sized again
# by their handlers (state/customer_limits.py).
EVENT_MAX_BYTES = 256 * 1024
# An open socket keeps its agent present (absence.see_open_tabs), so a page that
# stopped answering the socket's pings (frozen, or a laptop shut with its
# connection left open) is dropped this long after a ping, not after Reflex's 120 s.
SOCKET_PING_TIMEOUT_SECONDS = 20


def _sweep(open_before: frozenset[int] | None) -> frozenset[int]:
    config = settings()
    with session_scope() as session:
        open_now = availability.open_queue_ids(session)
        routing.sweep(
            session,
            presence_grace_seconds=config.presence_grace_seconds,
            # The first run drains every open queue: it may have opened while the app was down.
            hours_turned=open_now if open_before is None else open_now ^ open_before,
        )
        audience.forget_stale_clients(session, older_than_seconds=STALE_CLIENT_SECONDS)
        return open_now


FORGET_FAILURES_SECONDS = 300
OPEN_TABS_SEEN_SECONDS = 15  # as often as a visible workspace's heartbeat


def _see_open_tabs(tokens: list[str]) -> None:
    with session_scope() as session:
        absence.see_open_tabs(session, tokens)


def open_tabs() -> list[str]:
    """The tabs whose websocket this process holds open (Reflex's token map)."""
    namespace = app.event_namespace
    return list(namespace.token_to_sid) if namespace is not None else []


def _forget_old_login_failures() -> None:
    with session_scope() as session:
        lockout.forget_old_failures(session)


async def sweeper() -> None:
    """Offer timeouts, presence expiry, queues opening and closing by their business
    hours, and queue draining, from stored timestamps and schedules; files a
    crash left without their attachment row, and failed logins too old to count;
    the tabs whose websocket is open are seen (``absence.see_open_tabs``)."""
    open_before: frozenset[int] | None = None
    forgotten_at: float = -FORGET_FAILURES_SECONDS
    tabs_seen_at: float = -OPEN_TABS_SEEN_SECONDS
    while True:
        try:
            if time.monotonic() - tabs_seen_at >= OPEN_TABS_SEEN_SECONDS:
                tabs_seen_at = time.monotonic()
                await run_blocking(_see_open_tabs, open_tabs())
            open_before = await run_blocking(_sweep, open_before)
            await run_blocking(attachment_storage.sweep_orphans_when_due)  # at start-up, then every few minutes
            if time.monotonic() - forgotten_at >= FORGET_FAILURES_SECONDS:
                forgotten_at = time.monotonic()
                await run_blocking(_forget_old_login_failures)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sweep failed")
        await asyncio.sleep(SWEEP_SECONDS)


async def warm_knowledge_index() -> None:
    """Build the Agent Assist index at start-up, so no agent's first search waits for it."""
    try:
        await asyncio.to_thread(knowledge.get_index)
    except Exception:
        log.exception("building the knowledge index failed; it is built on first search")


app = rx.App(stylesheets=["/styles.css"])
state_lease.install(app)  # scaled mode: a tab's state lock lasts as long as its event
connection.install(app)  # our "Reconnecting…" banner instead of Reflex's raw toast
assert app.sio is not None  # Reflex makes the socket server with an App that has states
# A websocket frame over EVENT_MAX_BYTES is refused and its socket closed before
# Reflex parses it (Reflex's default is 1 MB). Uploads go over HTTP with their own limit.
app.sio.eio.max_http_buffer_size = EVENT_MAX_BYTES
if "REFLEX_SOCKET_TIMEOUT" not in os.environ:
    app.sio.eio.ping_timeout = SOCKET_PING_TIMEOUT_SECONDS
if (
    not public_site().configured
):  # no public URL named: the websocket takes the page's own origin (python-socketio's rule)
    app.sio.eio.cors_allowed_origins = None
# Our HTTP routes beside Reflex's, and the upload size and file-count limits in front of all of them.
app.api_transformer = [
    build_api(),
    upload_limit(
        max_body=attachments.upload_body_limit(),
        message=attachments.upload_too_large(),
        # rx.event handlers, typed as mypy cannot follow (see the Reflex note in pyproject.toml)
        error_vars={ToolsState.upload: "error", CustomerChatState.upload: "upload_error"},  # type: ignore[dict-item]
        max_files=upload_quotas().files_per_upload,
        too_many_message=chat_files.upload_too_many(),
    ),
    # Outermost: every response, the compiled pages' HTML included, says who may frame it.
    frame_policy(embed_paths=[routes.WIDGET], origins=widget_origins()),
]
app.add_middleware(DenyByDefault())
app.register_lifespan_task(sweeper)
app.register_lifespan_task(realtime.sign_out_loop)  # tabs whose sessions ended (logout, CLI) are cleared
app.register_lifespan_task(mailer.run)  # the outbox: emails are sent here, never in a request
app.register_lifespan_task(warm_knowledge_index)
realtime.bind(app)

app.add_page(index, route=routes.HOME, title="Agent Workspace")
app.add_page(login, route=routes.LOGIN, title="Sign in · Agent Workspace", on_load=LoginState.load)
app.add_page(
    workspace,
    route=routes.WORKSPACE,
    title="Inbox · Agent Workspace",
    on_load=[AuthState.require_login, WorkspaceState.on_load, LeftMessagesState.load],
)
app.add_page(
    supervisor,
    route=routes.SUPERVISOR,
    title="Supervisor · Agent Workspace",
    on_load=[AuthState.require_login, SupervisorState.load],
)
# The queue a link names (?queue=) starts the form on it: the widget's "open in a new tab" link.
app.add_page(
    chat, route=routes.CHAT, title="Chat with support", on_load=[CustomerChatState.on_load, WidgetState.choose_queue]
)
app.add_page(
    widget,
    route=routes.WIDGET,
    title="Chat with support",
    on_load=[CustomerChatState.on_load, WidgetState.choose_queue],
)
app.add_page(kb_article, route=routes.KB_ARTICLE, title="Knowledge article", on_load=ArticlePageState.load)
for route, page, title in (
    (routes.INTERACTIONS, interactions, "Interactions"),
    (routes.CASES, cases, "Cases"),
    (routes.INCIDENTS, incidents, "Incidents"),
):
    app.add_page(
        page, route=route, title=f"{title} · Agent Workspace", on_load=[AuthState.require_login, RecordListState.load]
    )
for route in (routes.INTERACTION_RECORD, routes.CASE_RECORD, routes.INCIDENT_RECORD):
    app.add_page(
        record, route=route, title="Record · Agent Workspace", on_load=[AuthState.require_login, RecordPageState.load]
    )
