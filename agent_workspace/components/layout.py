"""Page chrome shared by the workspace pages."""

from __future__ import annotations

import reflex as rx

from agent_workspace import routes
from agent_workspace.state.auth import AuthState, full_page_load

INBOX = "inbox"
# The workspace's sections, in the header of every workspace page: (label, address, key).
SECTIONS = (
    ("Inbox", routes.WORKSPACE, INBOX),
    ("Interactions", routes.INTERACTIONS, "interaction"),
    ("Cases", routes.CASES, "case"),
    ("Incidents", routes.INCIDENTS, "incident"),
)
SUPERVISOR_SECTION = ("Supervisor dashboard", routes.SUPERVISOR, "supervisor")


def logout_button() -> rx.Component:
    return rx.button("Log out", variant="soft", size="2", on_click=full_page_load("/api/logout"))


def new_tab_link(label: rx.Var | str, href: rx.Var | str, **props) -> rx.Component:
    """A link that opens beside the page, saying so to screen readers: from the Inbox,
    where leaving the page would leave the agent's live chats and let their offers lapse."""
    return rx.link(
        label,
        rx.el.span(" (opens in a new tab)", class_name="aw-visually-hidden"),
        href=href,
        is_external=True,
        rel="noopener noreferrer",
        **props,
    )


def _section_link(label: str, href: str, key: str, current: str) -> rx.Component:
    if key == current:
        return rx.link(label, href=href, weight="bold", aria_current="page", underline="always")
    if current == INBOX:
        return new_tab_link(label, href)
    return rx.link(label, href=href)


def section_nav(current: str) -> rx.Component:
    """Inbox, the record lists and (for supervisors) the dashboard; ``current`` is marked aria-current."""
    return rx.el.nav(
        rx.hstack(
            *[_section_link(*section, current) for section in SECTIONS],
            rx.cond(AuthState.is_supervisor, _section_link(*SUPERVISOR_SECTION, current)),
            spacing="4",
            wrap="wrap",
            align="center",
        ),
        aria_label="Sections",
    )


def app_header(*children: rx.Component, current: str = "") -> rx.Component:
    """The page's header; ``current`` names the section shown (a key of SECTIONS, or "supervisor")."""
    return rx.el.header(
        rx.hstack(
            rx.hstack(
                rx.icon("messages-square", size=22, aria_hidden="true"),
                rx.heading("Agent Workspace", size="4", as_="h1"),
                align="center",
                spacing="2",
            ),
            section_nav(current),
            rx.spacer(),
            *children,
            rx.text(AuthState.display_name, size="2", color_scheme="gray"),
            rx.color_mode.button(aria_label="Toggle dark mode", size="2"),
            logout_button(),
            align="center",
            spacing="3",
            width="100%",
            wrap="wrap",  # a narrow screen stacks the header's controls instead of overflowing
        ),
        class_name="aw-header",
    )


def centered_card(*children: rx.Component, max_width: str = "420px") -> rx.Component:
    return rx.center(
        rx.card(rx.vstack(*children, spacing="4", width="100%"), width="100%", max_width=max_width, size="3"),
        min_height="85vh",
        padding="16px",
    )


def loading(text: str = "") -> rx.Component:
    return rx.center(rx.spinner(size="3"), rx.text(text) if text else rx.fragment(), min_height="60vh", role="status")


def role_gate(
    *, role: str, allowed: rx.Var, loaded: rx.Var, body: rx.Component, loading_text: str = ""
) -> rx.Component:
    """A private page: a spinner until the session is known, a clear refusal
    without the role (the server refuses the events anyway), then the page."""
    refusal = rx.center(
        rx.vstack(
            rx.heading(f"You need the {role} role", as_="h1", size="5"),
            rx.text(
                f"Your account is signed in, but it does not have the {role} role. Ask an administrator to grant it."
            ),
            logout_button(),
            spacing="3",
            align="center",
        ),
        min_height="80vh",
    )
    return rx.el.main(
        rx.cond(
            AuthState.checked,
            rx.cond(allowed, rx.cond(loaded, body, loading(loading_text)), refusal),
            loading(),
        )
    )
