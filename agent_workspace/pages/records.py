"""All > Interactions / Cases / Incidents: the record lists of the workspace."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.layout import app_header, role_gate
from agent_workspace.components.record_table import record_list
from agent_workspace.services.record_lists import ListKind
from agent_workspace.state.auth import AuthState
from agent_workspace.state.records import RecordListState

TITLES = {ListKind.INTERACTION: "Interactions", ListKind.CASE: "Cases", ListKind.INCIDENT: "Incidents"}


def _breadcrumb(title: str) -> rx.Component:
    return rx.el.nav(
        rx.el.ol(
            rx.el.li(rx.link("All", href="/workspace")),
            rx.el.li("›", aria_hidden="true"),
            rx.el.li(rx.text(title, as_="span", weight="bold"), aria_current="page"),
            class_name="aw-breadcrumb",
        ),
        aria_label="Breadcrumb",
    )


def list_page(kind: ListKind) -> rx.Component:
    title = TITLES[kind]
    body = rx.vstack(
        app_header(current=kind.value),
        _breadcrumb(title),
        rx.heading(title, as_="h1", size="6"),
        record_list(title.lower()),
        spacing="3",
        width="100%",
        padding="12px 20px",
        class_name="aw-page",  # tighter on a phone (assets/styles.css)
    )
    return role_gate(
        role="workspace_user",
        allowed=AuthState.is_workspace_user,
        loaded=RecordListState.loaded,
        body=body,
        loading_text=f"Loading {title.lower()}…",
    )


def interactions() -> rx.Component:
    return list_page(ListKind.INTERACTION)


def cases() -> rx.Component:
    return list_page(ListKind.CASE)


def incidents() -> rx.Component:
    return list_page(ListKind.INCIDENT)
