"""Who is signed in, for pages to decide what to show (enforcement is in security.py)."""

from __future__ import annotations

import json

import reflex as rx

from agent_workspace.config import settings
from agent_workspace.models import Role
from agent_workspace.security import Access, access, current_principal
from agent_workspace.services import auth
from agent_workspace.services.errors import ServiceError
from agent_workspace.state.common import call


def full_page_load(path: str) -> rx.event.EventSpec:
    """Navigate with a real HTTP request (rx.redirect stays inside the client router)."""
    return rx.call_script(f"window.location.assign({json.dumps(path)})")


@access(Access.PUBLIC)
class AuthState(rx.State):
    """Reveals only the caller's own name and roles, read from their session cookie."""

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
        self.checked = True

    @rx.event
    async def require_login(self):
        """on_load of private pages: send anonymous visitors to the login page."""
        await self.check_session()
        if not self.signed_in:
            return rx.redirect("/login")
        return None


def _login(session, *, username: str, password: str, client_address: str) -> str:
    ticket, _principal = auth.login(
        session,
        username=username,
        password=password,
        client_address=client_address,
        session_hours=settings().session_hours,
    )
    return ticket


@access(Access.PUBLIC)
class LoginState(rx.State):
    """The login form. Rate limits and the password check live in services.auth."""

    error: str = ""
    busy: bool = False

    @rx.event
    def load(self):
        self.error = str(self.router.url.query_parameters.get("error", ""))[:200]
        self.busy = False

    @rx.event
    async def login(self, form: dict):
        self.busy = True
        yield
        try:
            ticket = await call(
                _login,
                username=str(form.get("username", ""))[:200],
                password=str(form.get("password", ""))[:1000],
                client_address=self.router.session.client_ip,
            )
        except ServiceError as error:
            self.error = str(error)
            self.busy = False
            return
        self.error = ""
        yield full_page_load(f"/api/session/{ticket}")
