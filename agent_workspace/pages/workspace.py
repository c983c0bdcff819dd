"""All > Workspace Home > Inbox, and one interaction tab per open chat."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.focus_rescue import focus_rescue
from agent_workspace.components.inbox import inbox_panel, notices, reject_dialog
from agent_workspace.components.interaction import tool_dialogs
from agent_workspace.components.interaction_panel import interaction_panel
from agent_workspace.components.layout import INBOX, app_header, role_gate
from agent_workspace.components.shortcuts import shortcut_keys, shortcuts_help
from agent_workspace.components.workspace_header import alerts, presence_picker
from agent_workspace.components.workspace_tabs import close_tab_dialog, tab_strip
from agent_workspace.state.auth import AuthState
from agent_workspace.state.workspace import WorkspaceState


def breadcrumb() -> rx.Component:
    return rx.el.nav(
        rx.el.ol(
            rx.el.li(rx.link("All", href="/workspace")),
            rx.el.li("›", aria_hidden="true"),
            rx.el.li(rx.link("Workspace Home", href="/workspace")),
            rx.el.li("›", aria_hidden="true"),
            rx.el.li(rx.text("Inbox", as_="span", weight="bold"), aria_current="page"),
            class_name="aw-breadcrumb",
        ),
        aria_label="Breadcrumb",
    )


def workspace_body() -> rx.Component:
    return rx.vstack(
        app_header(alerts(), shortcuts_help(), primary=(presence_picker(),), current=INBOX, brand_is_title=True),
        breadcrumb(),
        notices(),
        tab_strip(),
        rx.cond(
            WorkspaceState.active_tab == "inbox",
            rx.box(inbox_panel(), role="tabpanel", aria_label="Inbox", width="100%"),
        ),
        rx.foreach(WorkspaceState.tabs, interaction_panel),
        reject_dialog(),
        close_tab_dialog(),
        tool_dialogs(),
        rx.box(rx.moment(interval=5000, on_change=WorkspaceState.tick), display="none"),
        shortcut_keys(),
        focus_rescue(),
        spacing="3",
        width="100%",
        padding="12px 20px",
        class_name="aw-page",  # tighter on a phone (assets/styles.css)
    )


def workspace() -> rx.Component:
    return role_gate(
        role="workspace_user",
        allowed=AuthState.is_workspace_user,
        loaded=WorkspaceState.loaded,
        body=workspace_body(),
        loading_text="Loading your workspace…",
    )
