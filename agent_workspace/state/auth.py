"""Who is signed in, for pages to decide what to show (enforcement is in security.py)."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import reflex as rx
from reflex.event import EventSpec

from agent_workspace import routes
from agent_workspace.config import settings
from agent_workspace.models import Role
from agent_workspace.security import Access, access, current_principal
from agent_workspace.services import auth, budgets, lockout
from agent_workspace.services.budgets import Budget
from agent_workspace.services.errors import Conflict, ServiceError
from agent_workspace.services.text import check_sizes
from agent_workspace.state.common import run_action, run_query


def full_page_load(path: str) -> EventSpec:
    """Navigate with a real HTTP request (rx.redirect stays inside the client router)."""
    return rx.call_script(f"window.location.assign({json.dumps(path)})")


@access(Access.PUBLIC, private=True)  # sessions-end (issue 17): cleared for anyone but _uid
class AuthState(rx.State):
    """Reveals only the caller's own name and roles, read from their session cookie."""

    _uid: int = 0  # whose name this is
    checked: bool = False
    signed_in: bool = False
    display_name: str = ""
    username: str = ""
    roles: list[str] = []

    @rx.var
    def is_workspace_user(self) -> bool:
        return Role.WORKSPACE_USER.value in self.roles

    @rx.var
    def is_supervisor(self) -> bool:
        return Role.SUPERVISOR.value in self.roles

    @rx.event
    async def check_session(self):
        principal = await current_principal(self)
        self.signed_in = principal is not None
        self.display_name = principal.display_name if principal else ""
        self.username = principal.username if principal else ""
        self.roles = sorted(principal.roles) if principal else []
        self._uid = principal.user_id if principal else 0
        self.checked = True

    @rx.event
    async def require_login(self):
        """on_load of private pages: send anonymous visitors to the login page."""
        await self.check_session()
        if not self.signed_in:
            return rx.redirect(routes.login_path(str(self.router.url.path).rstrip("/")))
        return None


# argon2 takes tens of milliseconds of CPU per check: it runs on threads of its
# own, never on the database threads and never inside a transaction, so a burst
# of logins neither holds SQLite's write turn nor takes the threads chat writes need.
HASHING_THREADS = 2
PASSWORD_CHARS = 1000  # argon2 takes any length; the login form takes no more
_HASHING = ThreadPoolExecutor(HASHING_THREADS, thread_name_prefix="aw-hash")
# Password checks waiting for those threads at most: a flood from many addresses
# gets "busy" at once instead of queueing thousands of hashes before the agent's.
MAX_CHECKS_WAITING = 16
_checks_waiting = 0


async def sign_in(*, username: str, password: str, client_address: str) -> str:
    """The three steps of a login (read, argon2 with no transaction open, write);
    returns the one-time ticket the browser trades for its cookie."""
    global _checks_waiting
    check = await run_query(auth.begin_login, username=username, client_address=client_address)
    if _checks_waiting >= MAX_CHECKS_WAITING:
        raise Conflict("Many sign-ins are being checked right now. Try again in a few seconds.")
    _checks_waiting += 1
    try:
        ok = await asyncio.get_running_loop().run_in_executor(_HASHING, auth.password_matches, check, password)
    finally:
        _checks_waiting -= 1
    ticket, _principal = await run_action(auth.finish_login, check=check, ok=ok, session_hours=settings().session_hours)
    return ticket


@access(Access.PUBLIC)
class LoginState(rx.State):
    """The login form. Rate limits and the password check live in services.auth."""

    error: str = ""
    busy: bool = False
    # The private page the visitor asked for before signing in (routes.return_path), "" for the Inbox.
    back_to: str = ""

    @rx.event
    def load(self):
        query = self.router.url.query_parameters
        self.error = str(query.get("error", ""))[:200]
        self.back_to = routes.return_path(query.get("next")) or ""
        self.busy = False

    @rx.event
    async def login(self, form: dict):
        """Every attempt first spends from the tab's and the address's login budget
        and is sized; the backoff per (username, address) is services.lockout's."""
        session = self.router.session
        try:  # before the form shows busy: a flood of attempts gets one answer each, no extra update
            await budgets.spend(Budget.LOGIN, token=session.client_token, address=session.client_ip)
        except ServiceError as error:
            self.error = str(error)
            return
        self.busy = True
        yield
        try:
            form = form if isinstance(form, dict) else {}
            username, password = form.get("username", ""), form.get("password", "")
            check_sizes(
                {"The username": (username, lockout.USERNAME_CHARS), "The password": (password, PASSWORD_CHARS)}
            )
            ticket = await sign_in(username=username, password=password, client_address=session.client_ip)
        except ServiceError as error:
            self.error = str(error)
            self.busy = False
            return
        self.error = ""
        back = f"?next={quote(self.back_to, safe='')}" if routes.return_path(self.back_to) else ""
        yield full_page_load(f"/api/session/{ticket}{back}")
