"""The landing page: one door for customers, one for agents."""

from __future__ import annotations

import reflex as rx

from agent_workspace import routes
from agent_workspace.components.layout import centered_card


def index() -> rx.Component:
    return rx.el.main(
        centered_card(
            rx.heading("Agent Workspace", as_="h1", size="7"),
            rx.text("Live customer chat, worked from one open workspace."),
            rx.link(rx.button("Chat with support", size="3", width="100%"), href=routes.CHAT),
            rx.link(rx.button("Agent sign in", size="3", variant="outline", width="100%"), href=routes.LOGIN),
        )
    )
