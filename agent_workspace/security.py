"""Deny-by-default authorization of every websocket event.

Reflex lets any client call any public handler of any state class. This
middleware runs before every event (background ones included): it finds the
state class the handler belongs to and lets the event through only if that
class was registered here with a rule the caller satisfies. A state class
nobody registered is refused for everyone, so a handler added later without a
rule cannot leak.

The caller is identified by the HttpOnly session cookie carried on the
websocket handshake (server-side headers, never an event argument), checked
against the database on every event, so a logout or a password change takes
effect at once. The same check serves the HTTP routes (api.py): a cookie that
arrives from another browser than the one it was issued to revokes its session.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, TypeVar

from reflex.config import get_config
from reflex.constants import RouteVar
from reflex.middleware import Middleware
from reflex.state import (
    BaseState,
    FrontendEventExceptionState,
    OnLoadInternalState,
    State,
    StateUpdate,
    UpdateVarsInternalState,
)

from agent_workspace.db import run_reading, session_scope
from agent_workspace.models import Role
from agent_workspace.services import auth

if TYPE_CHECKING:
    from reflex.app import App
    from reflex_base.event import Event

SESSION_COOKIE = "aw_session"
log = logging.getLogger(__name__)


class Access(StrEnum):
    PUBLIC = "public"  # anonymous customers and the login page
    WORKSPACE = Role.WORKSPACE_USER.value
    SUPERVISOR = Role.SUPERVISOR.value
    ADMIN = Role.ADMIN.value


_RULES: dict[str, Access] = {}
_REFLEX_INTERNAL = (State, OnLoadInternalState, UpdateVarsInternalState, FrontendEventExceptionState)
StateT = TypeVar("StateT", bound=type[BaseState])


def access(level: Access):
    """Class decorator: who may call this state's event handlers."""

    def register(cls: StateT) -> StateT:
        _RULES[cls.get_full_name()] = level
        return cls

    return register


def rule_for(state_full_name: str) -> Access | None:
    if state_full_name in {cls.get_full_name() for cls in _REFLEX_INTERNAL}:
        return Access.PUBLIC
    return _RULES.get(state_full_name)


def session_token_from_headers(headers: dict[str, str]) -> str | None:
    raw = headers.get("cookie", "")
    if not raw:
        return None
    try:
        jar = SimpleCookie(raw)
    except CookieError:
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel else None


def session_token_of(state: BaseState) -> str | None:
    return session_token_from_headers(state.router_data.get(RouteVar.HEADERS, {}) or {})


def client_address(peer: str, headers: Mapping[str, str]) -> str:
    """The client's address for an HTTP request, resolved the way Reflex resolves
    it for the websocket (X-Forwarded-For only through trusted proxies), so both
    see the same address."""
    hops = get_config().trusted_proxy_hops
    if hops:
        forwarded = [ip.strip() for ip in headers.get("x-forwarded-for", "").split(",") if ip.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return peer


def client_from(headers: Mapping[str, str], address: str) -> auth.Client:
    return auth.Client(user_agent=headers.get("user-agent", ""), address=address)


def client_of(state: BaseState) -> auth.Client:
    """The browser behind the current event: the websocket handshake's headers and address."""
    data = state.router_data
    return client_from(data.get(RouteVar.HEADERS, {}) or {}, str(data.get(RouteVar.CLIENT_IP, "")))


def identify(token: str | None, client: auth.Client) -> auth.Principal | None:
    """The principal behind a session token presented by ``client`` (blocking).

    A live token from another client than the one it was issued to was copied:
    refused, and its session revoked for every holder.
    """
    if not token:
        return None
    try:
        with session_scope(writer=False) as session:
            return auth.principal_for_token(session, token, client=client)
    except auth.WrongClient:
        with session_scope() as session:
            revoked = auth.revoke_copied(session, token=token, client=client)
        if revoked:
            log.warning("a session token arrived from another client (%s); session revoked", client.address)
        return None


async def current_principal(state: BaseState) -> auth.Principal | None:
    """The logged-in user of the client that sent the current event, or None."""
    token = session_token_of(state)
    if not token:
        return None
    return await run_reading(identify, token, client_of(state))


def permits(rule: Access | None, principal: auth.Principal | None) -> bool:
    if rule is None:
        return False
    if rule == Access.PUBLIC:
        return True
    if principal is None:
        return False
    return principal.has(rule.value)


class DenyByDefault(Middleware):
    """Drop every event whose state class has no rule the caller satisfies."""

    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        state_name, _, handler = event.name.rpartition(".")
        rule = rule_for(state_name)
        if rule == Access.PUBLIC:
            return None
        principal = await current_principal(state) if rule is not None else None
        if permits(rule, principal):
            return None
        log.warning("refused event %s (rule=%s, user=%s)", event.name, rule, principal and principal.username)
        return StateUpdate()
