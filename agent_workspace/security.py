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

A tab's private state (the agent-level states, and the signed-in name) belongs
to the user who loaded it (``_uid``). Reflex's public ``hydrate`` sends a
token's whole state tree to whoever presents the token, and the token travels
in the websocket URL: so before a hydrate, and before any event of a private
state, private state held for another user than the cookie's (or for anyone,
when there is no valid cookie) is cleared. A refused event from a tab that was
signed in clears it too and sends the tab to the login page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextvars import ContextVar
from enum import StrEnum
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, TypeVar

import reflex as rx
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
from reflex_base.event import Event as ReflexEvent
from reflex_base.event.context import EventContext

from agent_workspace.db import read_connection, run_reading, session_scope
from agent_workspace.models import Role
from agent_workspace.services import auth, budgets

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
# The internal events that send the tab's whole state tree to the client.
_HYDRATE_EVENTS = frozenset(f"{State.get_full_name()}.{name}" for name in ("hydrate", "hydrate_and_load"))
StateT = TypeVar("StateT", bound=type[BaseState])
# The states that hold one user's data (by full name), and for each the state
# whose ``_uid`` says which user.
_PRIVATE: dict[str, type[BaseState]] = {}
_OWNER_OF: dict[str, type[BaseState]] = {}


def access(level: Access, *, private: bool | None = None, owner: type[BaseState] | None = None):
    """Class decorator: who may call this state's event handlers.

    ``private`` (default: every non-public state) marks a state that holds the
    signed-in user's data, cleared when the tab's user changes or signs out;
    its ``owner`` is the state whose ``_uid`` names that user (default: itself).
    """

    def register(cls: StateT) -> StateT:
        _RULES[cls.get_full_name()] = level
        holds_user_data = level != Access.PUBLIC if private is None else private
        if holds_user_data:
            hold_private(cls, owner=owner or cls)
        return cls

    return register


def hold_private(cls: type[BaseState], *, owner: type[BaseState]) -> None:
    """Mark ``cls`` as holding the data of the user named by ``owner._uid``."""
    _PRIVATE[cls.get_full_name()] = cls
    _OWNER_OF[cls.get_full_name()] = owner


def rule_for(state_full_name: str) -> Access | None:
    if state_full_name in {cls.get_full_name() for cls in _REFLEX_INTERNAL}:
        return Access.PUBLIC
    return _RULES.get(state_full_name)


def cookie_from_headers(headers: Mapping[str, str], name: str) -> str | None:
    raw = headers.get("cookie", "")
    if not raw:
        return None
    try:
        jar = SimpleCookie(raw)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def session_token_from_headers(headers: dict[str, str]) -> str | None:
    return cookie_from_headers(headers, SESSION_COOKIE)


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
        with read_connection() as connection:
            return auth.principal_on(connection, token, client=client)
    except auth.WrongClient:
        with session_scope() as session:
            revoked = auth.revoke_copied(session, token=token, client=client)
        if revoked:
            log.warning("a session token arrived from another client (%s); session revoked", client.address)
        return None


# The principal the middleware found for the event being handled (its txid), so
# the handler's own checks (``WorkspaceState._me``) cost no second database read.
_event_principal: ContextVar[tuple[str, str, auth.Principal | None] | None] = ContextVar(
    "aw_event_principal", default=None
)


def _event_id() -> str | None:
    try:
        return EventContext.get().txid
    except LookupError:  # outside an event (an HTTP route, a test)
        return None


async def current_principal(state: BaseState) -> auth.Principal | None:
    """The logged-in user of the client that sent the current event, or None."""
    token = session_token_of(state)
    if not token:
        return None
    known, event_id = _event_principal.get(), _event_id()
    if known is not None and event_id is not None and known[:2] == (event_id, token):
        return known[2]
    principal = await run_reading(identify, token, client_of(state))
    if event_id is not None:
        _event_principal.set((event_id, token, principal))
    return principal


# ---------------------------------------------------------------- private state of a tab


def clear_fields(state: BaseState) -> None:
    """Put one state's vars back to their defaults, except browser storage (the
    page's own preferences, re-read from the browser at every hydrate)."""
    cls = state.__class__  # the state's own class also through a background event's proxy
    for name, field in cls.__fields__.items():
        if field._owner is cls and not cls._is_client_storage(field):
            setattr(state, name, field.default_value())


async def clear_private_state(state: BaseState) -> None:
    """Forget every private state of ``state``'s tab (any state of the tab's tree)."""
    for cls in _PRIVATE.values():
        clear_fields(await state.get_state(cls))


async def _owners(state: BaseState, classes: list[type[BaseState]]) -> set[int]:
    """The users whose data the private states ``classes`` of this tab hold."""
    owners = set()
    for cls in classes:
        owner = _OWNER_OF[cls.get_full_name()]
        uid = getattr(await state.get_state(owner), "_uid", 0)
        if uid:
            owners.add(uid)
    return owners


async def _forget_other_users(state: BaseState) -> None:
    """Before a hydrate: private state of anyone but the cookie's user is cleared,
    so the snapshot holds nothing of theirs. The tree is loaded whole for a hydrate
    anyway; the session is looked up only if some state holds a user."""
    owners = await _owners(state, list(_PRIVATE.values()))
    if not owners:
        return
    principal = await current_principal(state)
    if principal is None or owners != {principal.user_id}:
        await clear_private_state(state)


# Public states whose data belongs to the holder of a cookie: full name -> (class,
# cookie name, the var holding the cookie's value, the backend var set once it is known).
_COOKIE_BOUND: dict[str, tuple[type[BaseState], str, str, str]] = {}


def bound_to_cookie(cls: type[BaseState], *, cookie: str, var: str, held: str) -> None:
    """Mark a public state as holding the data of whoever presents ``cookie``
    (the customer's chat key): a hydrate by a client without it replays nothing."""
    _COOKIE_BOUND[cls.get_full_name()] = (cls, cookie, var, held)


async def _forget_other_cookie_holders(state: BaseState) -> None:
    """Before a hydrate: a cookie-bound state that holds data (``held`` set) for
    another cookie than the one this handshake carries is put back to its defaults,
    the cookie's value included, so a tab token alone learns neither the data nor
    the key. The rightful tab finds its chat again from its cookie on reload."""
    headers = state.router_data.get(RouteVar.HEADERS, {}) or {}
    for cls, cookie, var, held in _COOKIE_BOUND.values():
        bound = await state.get_state(cls)
        if getattr(bound, held) and cookie_from_headers(headers, cookie) != getattr(bound, var):
            clear_fields(bound)
            setattr(bound, var, "")


def sign_out_events() -> list[ReflexEvent]:
    """What a signed-out tab is told to do: show the login form."""
    return ReflexEvent.from_event_type(rx.redirect("/login"))


async def _within_public_budget(state: BaseState) -> bool:
    """Any event of a public state (hydration included) spends from its tab's and
    its address's event budget before anything else runs: a flood of events that
    every handler would refuse still costs its sender, not the server."""
    data = state.router_data
    try:
        await budgets.spend(
            budgets.Budget.EVENT,
            token=str(data.get(RouteVar.CLIENT_TOKEN, "")),
            address=str(data.get(RouteVar.CLIENT_IP, "")),
        )
    except budgets.OverBudget:
        return False
    return True


def permits(rule: Access | None, principal: auth.Principal | None) -> bool:
    if rule is None:
        return False
    if rule == Access.PUBLIC:
        return True
    if principal is None:
        return False
    return principal.has(rule.value)


class DenyByDefault(Middleware):
    """Drop every event whose state class has no rule the caller satisfies, and
    keep one user's private state from reaching another (see the module's doc)."""

    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        state_name, _, handler = event.name.rpartition(".")
        rule = rule_for(state_name)
        if rule == Access.PUBLIC and not await _within_public_budget(state):
            return StateUpdate()
        if event.name in _HYDRATE_EVENTS:
            await _forget_other_users(state)
            await _forget_other_cookie_holders(state)
            return None
        if rule == Access.PUBLIC:
            return None
        principal = await current_principal(state) if rule is not None else None
        private = _PRIVATE.get(state_name)
        if principal is not None and permits(rule, principal):
            if private is not None and await _owners(state, [private]) - {principal.user_id}:
                await clear_private_state(state)  # the tab was another user's: this one starts afresh
            return None
        log.warning("refused event %s (rule=%s, user=%s)", event.name, rule, principal and principal.username)
        if principal is None and private is not None and await _owners(state, [private]):
            return await self._sign_out(state)
        return StateUpdate()

    @staticmethod
    async def _sign_out(state: BaseState) -> StateUpdate:
        """A tab whose session ended: its private state goes, and the page goes to the login form."""
        await clear_private_state(state)
        root = state._get_root_state()
        delta = await root._get_resolved_delta()
        root._clean()
        return StateUpdate(delta=delta, events=sign_out_events())
