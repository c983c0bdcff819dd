"""/interaction/<number>, /case/<number>, /incident/<number>: one record, read-only."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.layout import app_header, role_gate
from agent_workspace.components.record_view import not_found, record_body
from agent_workspace.state.auth import AuthState
from agent_workspace.state.records import RecordPageState


def record() -> rx.Component:
    body = rx.vstack(
        app_header(current=""),
        rx.cond(RecordPageState.found, record_body(), not_found()),
        spacing="3",
        width="100%",
        padding="12px 20px",
    )
    return role_gate(
        role="workspace_user",
        allowed=AuthState.is_workspace_user,
        loaded=RecordPageState.loaded,
        body=body,
        loading_text="Loading the record…",
    )
