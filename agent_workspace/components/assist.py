"""Agent Assist: knowledge-base search beside the chat."""

from __future__ import annotations

import reflex as rx

from agent_workspace.state.views import ChatTab


def assist_panel(tab: ChatTab) -> rx.Component:
    return rx.text("Agent Assist is loading…", size="2", color_scheme="gray")
