"""Page chrome shared by the workspace pages."""

from __future__ import annotations

import reflex as rx
from reflex.experimental.client_state import ClientStateVar

from agent_workspace import routes
from agent_workspace.components.shortcut_targets import Target, shortcut_target
from agent_workspace.state.auth import AuthState, full_page_load

INBOX = "inbox"
# The workspace's sections, in the header of every workspace page: (label, address, key).
SECTIONS = (
    ("Inbox", routes.WORKSPACE, INBOX),
    ("Interactions", routes.INTERACTIONS, "interaction"),
    ("Cases", routes.CASES, "case"),
    ("Incidents", routes.INCIDENTS, "incident"),
)
SUPERVISOR_SECTION = ("Supervisor", routes.SUPERVISOR, "supervisor")  # its link reads "Supervisor dashboard"


def logout_button() -> rx.Component:
    return rx.button("Log out", variant="soft", size="2", on_click=full_page_load("/api/logout"))


def new_tab_link(label: rx.Component | rx.Var | str, href: rx.Var | str, **props) -> rx.Component:
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
    text: rx.Component | str = label
    if key == SUPERVISOR_SECTION[2]:  # the short word keeps the header on one line; the name says it all
        text = rx.fragment(label, rx.el.span(" dashboard", class_name="aw-visually-hidden"))
    if key == current:
        return rx.link(text, href=href, weight="bold", aria_current="page", underline="always")
    if current == INBOX:
        return new_tab_link(text, href)
    return rx.link(text, href=href)


def section_nav(current: str) -> rx.Component:
    """Inbox, the record lists and (for supervisors) the dashboard; ``current`` is marked aria-current."""
    return rx.el.nav(
        rx.hstack(
            *[_section_link(*section, current) for section in SECTIONS],
            rx.cond(AuthState.is_supervisor, _section_link(*SUPERVISOR_SECTION, current)),
            spacing="3",
            wrap="wrap",
            align="center",
        ),
        aria_label="Sections",
    )


# Whether the narrow header's menu is open: browser-only state, so it opens at once,
# even while an event is on its way to the server.
header_menu = ClientStateVar.create("aw_header_menu", default=False)
HEADER_MORE_ID = "aw-header-more"


def header_label(text: rx.Var | str) -> rx.Component:
    """A header button's words: shown in the narrow menu, beside the icon only for
    screen readers on a wide screen (CSS), so the header stays one line."""
    return rx.el.span(text, class_name="aw-header-label")


def _menu_button() -> rx.Component:
    """Opens and closes the header's other controls; shown on narrow screens only (CSS)."""
    return rx.button(
        rx.cond(header_menu.value, rx.icon("x", size=18), rx.icon("menu", size=18)),
        rx.el.span("Menu", class_name="aw-visually-hidden"),
        variant="soft",
        size="2",
        on_click=header_menu.set_value(~header_menu.value),
        aria_expanded=rx.cond(header_menu.value, "true", "false"),
        aria_controls=HEADER_MORE_ID,
        class_name="aw-header-menu-button",
        **shortcut_target(Target.HEADER_MENU),
    )


def _brand(is_title: bool) -> rx.Component:
    """The app's name: the page's one h1 where the page has no title of its own (the
    workspace), plain words beside a page that has one."""
    if is_title:
        return rx.heading("Agent Workspace", size="4", as_="h1", class_name="aw-brand-name")
    return rx.text("Agent Workspace", size="4", weight="bold", as_="span", class_name="aw-brand-name")


def app_header(
    *children: rx.Component, primary: tuple[rx.Component, ...] = (), current: str = "", brand_is_title: bool = False
) -> rx.Component:
    """The page's header; ``current`` names the section shown (a key of SECTIONS, or "supervisor").
    One line from 1280 px; below that it wraps, and on a phone ``children``, the name,
    dark mode and Log out go behind a Menu button while the sections and ``primary`` stay."""
    return rx.el.header(
        rx.el.div(
            rx.hstack(
                rx.icon("messages-square", size=22, aria_hidden="true"),
                _brand(brand_is_title),
                align="center",
                spacing="2",
            ),
            section_nav(current),
            rx.el.div(*primary, class_name="aw-header-primary"),
            _menu_button(),
            rx.el.div(
                *children,
                rx.text(
                    AuthState.display_name,
                    size="2",
                    color_scheme="gray",
                    title=AuthState.display_name,
                    class_name="aw-header-name",  # a long name ends in "…" (the title has it all)
                ),
                rx.color_mode.button(aria_label="Toggle dark mode", size="2"),
                logout_button(),
                id=HEADER_MORE_ID,
                class_name=rx.cond(header_menu.value, "aw-header-more aw-open", "aw-header-more"),
            ),
            class_name="aw-header-row" if primary else "aw-header-row aw-no-primary",
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
