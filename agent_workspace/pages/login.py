"""Sign in: the password is checked over the websocket, the cookie set by /api/session."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.form import error_callout, text_field
from agent_workspace.components.layout import centered_card
from agent_workspace.state.auth import LoginState


def login() -> rx.Component:
    return rx.el.main(
        centered_card(
            rx.heading("Sign in to the Agent Workspace", as_="h1", size="5"),
            rx.cond(
                LoginState.back_to != "",
                rx.callout(
                    rx.text("Sign in to continue to ", rx.code(LoginState.back_to), "."),
                    icon="log-in",
                    role="status",
                    width="100%",
                ),
            ),
            error_callout(LoginState.error),
            rx.form(
                rx.vstack(
                    text_field("Username", name="username", auto_complete="username", required=True, auto_focus=True),
                    text_field(
                        "Password", name="password", type="password", auto_complete="current-password", required=True
                    ),
                    rx.button(
                        rx.cond(LoginState.busy, "Signing in…", "Sign in"),
                        type="submit",
                        size="3",
                        width="100%",
                        disabled=LoginState.busy,
                        aria_label="Sign in",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=LoginState.login,
                width="100%",
            ),
        )
    )
