"""The pieces of a record list page: scope, filters, search, the sortable table, paging."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.form import error_callout
from agent_workspace.services.record_lists import Scope, SortColumn
from agent_workspace.state.records import COLUMN_LABELS, SCOPE_LABELS, SEARCH_CHARS, RecordListState, RowView

SEARCH_LABEL = "Search by number, customer or words"
CONTROL_STYLE = {"height": "36px", "box_sizing": "border-box"}  # selects and date fields line up
DOWNLOAD_STYLE = {
    "color": "var(--accent-11)",
    "font_weight": "500",
    "text_decoration": "underline",
    "text_underline_offset": "3px",
}


def download_link(label: str, href: rx.Var) -> rx.Component:
    """A link the browser itself follows and downloads (``rx.el.a`` is a client-router link)."""
    return rx.el.a(label, href=href, download="", reload_document=True, style=DOWNLOAD_STYLE)


def scope_control() -> rx.Component:
    """Mine / My queues for everyone, All for supervisors."""
    return rx.hstack(
        rx.text("Show", as_="span", class_name="aw-label", id="scope-label"),
        rx.segmented_control.root(
            rx.segmented_control.item(SCOPE_LABELS[Scope.MINE], value=Scope.MINE.value),
            rx.segmented_control.item(SCOPE_LABELS[Scope.MY_QUEUES], value=Scope.MY_QUEUES.value),
            rx.cond(
                RecordListState.sees_all, rx.segmented_control.item(SCOPE_LABELS[Scope.ALL], value=Scope.ALL.value)
            ),
            value=RecordListState.scope,
            on_change=RecordListState.choose_scope,
            aria_labelledby="scope-label",
            class_name="aw-scope",
        ),
        align="center",
        spacing="2",
        wrap="wrap",  # the choices go under "Show" on a 360 px phone instead of past its edge
    )


def _select(label: str, name: str, options, *, empty: str) -> rx.Component:
    control_id = f"filter-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=control_id, class_name="aw-label"),
        rx.el.select(
            rx.el.option(empty, value=""),
            rx.foreach(options, lambda o: rx.el.option(o[1], value=o[0])),
            id=control_id,
            name=name,
            default_value=getattr(RecordListState, f"{name}_filter"),
            class_name="aw-native-select",
            style=CONTROL_STYLE,
        ),
        spacing="1",
        min_width="150px",
    )


def _date(label: str, name: str, value: rx.Var) -> rx.Component:
    control_id = f"filter-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=control_id, class_name="aw-label"),
        rx.el.input(
            type="date",
            id=control_id,
            name=name,
            default_value=value,
            class_name="aw-native-select",
            style=CONTROL_STYLE,
        ),
        spacing="1",
    )


def filters_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            _select("State", "state", RecordListState.state_options, empty="Any state"),
            _select("Queue", "queue", RecordListState.queue_options, empty="Any queue"),
            _select("Agent", "agent", RecordListState.agent_options, empty="Anyone"),
            _date("Opened from", "from", RecordListState.date_from),
            _date("Opened to", "to", RecordListState.date_to),
            rx.hstack(
                rx.button("Apply filters", type="submit", variant="outline"),
                rx.button(
                    "Clear filters",
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    on_click=RecordListState.clear_filters,
                ),
                spacing="2",
            ),
            spacing="3",
            wrap="wrap",
            align="end",
            width="100%",
        ),
        on_submit=RecordListState.apply_filters,
        key=RecordListState.filters_key,  # cleared or changed by the server: the form shows the new values
        aria_label="Filters",
        width="100%",
    )


# What the search box suggests, per list: a number of its own kind, a name, a word.
SEARCH_EXAMPLES = {
    "interactions": "IMS0001028, Ada Lovelace, refund…",
    "cases": "CS0001001, Ada Lovelace, refund…",
    "incidents": "INC0001002, Ada Lovelace, outage…",
}


def search_form(noun: str) -> rx.Component:
    """One search box; Enter runs it, a record number opens that record."""
    return rx.form(
        rx.vstack(
            rx.el.label(SEARCH_LABEL, html_for="record-search", class_name="aw-label"),
            rx.hstack(
                rx.input(
                    id="record-search",
                    name="q",
                    type="search",
                    default_value=RecordListState.search_text,
                    max_length=SEARCH_CHARS,
                    placeholder=SEARCH_EXAMPLES.get(noun, ""),
                    width="100%",
                ),
                rx.button("Search", type="submit"),
                width="100%",
                spacing="2",
            ),
            spacing="1",
            width="100%",
            max_width="560px",
        ),
        on_submit=RecordListState.run_search,
        key=RecordListState.filters_key,
        role="search",
        width="100%",
    )


def _header(column: SortColumn) -> rx.Component:
    sorted_here = RecordListState.sort == column.value
    arrow = rx.cond(sorted_here, rx.cond(RecordListState.descending, " ↓", " ↑"), "")
    return rx.table.column_header_cell(
        rx.button(
            COLUMN_LABELS[column],
            rx.text(arrow, as_="span", aria_hidden="true"),
            variant="ghost",
            color_scheme="gray",
            high_contrast=True,
            size="1",
            style={"font_weight": "600"},
            on_click=RecordListState.sort_by(column.value),
        ),
        aria_sort=rx.cond(sorted_here, rx.cond(RecordListState.descending, "descending", "ascending"), "none"),
        white_space="nowrap",
    )


def _row(row: RowView) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(row.number, href=row.href), white_space="nowrap"),
        rx.table.cell(
            rx.vstack(
                rx.text(row.customer, size="2"), rx.text(row.customer_email, size="1", color_scheme="gray"), spacing="0"
            )
        ),
        rx.table.cell(row.queue),
        rx.table.cell(row.agent),
        rx.table.cell(row.state, white_space="nowrap"),
        rx.table.cell(row.opened, white_space="nowrap"),
        rx.table.cell(row.closed, white_space="nowrap"),
        rx.table.cell(row.duration, white_space="nowrap"),
        rx.table.cell(row.rating, white_space="nowrap"),
        rx.table.cell(row.summary, max_width="280px"),
    )


def record_table(noun: str) -> rx.Component:
    """The rows in a table that scrolls sideways inside its box on a narrow screen."""
    return rx.box(
        rx.table.root(
            rx.el.caption(noun.capitalize(), class_name="aw-visually-hidden"),  # names the table
            rx.table.header(
                rx.table.row(
                    *[_header(column) for column in SortColumn],
                    rx.table.column_header_cell("Summary"),
                )
            ),
            rx.table.body(rx.foreach(RecordListState.rows, _row)),
            size="1",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
        tab_index=0,
        role="region",
        aria_label=f"{noun.capitalize()}, scrolls sideways",
        class_name="aw-scroll-region",
    )


def paging(noun: str) -> rx.Component:
    page, count = RecordListState.page, RecordListState.page_count
    return rx.el.nav(
        rx.hstack(
            rx.button(
                "Previous page", variant="soft", disabled=page <= 1, on_click=RecordListState.go_to_page(page - 1)
            ),
            rx.text("Page ", page.to_string(), " of ", count.to_string(), size="2"),
            rx.button(
                "Next page", variant="soft", disabled=page >= count, on_click=RecordListState.go_to_page(page + 1)
            ),
            rx.text(
                RecordListState.total.to_string(),
                rx.cond(RecordListState.total == 1, f" {noun[:-1]}", f" {noun} in all"),
                size="2",
                color_scheme="gray",
            ),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        aria_label="Pages",
    )


def empty_state(noun: str) -> rx.Component:
    return rx.callout(
        f"No {noun} match. Try another scope, clear the filters, or search for other words.",
        icon="info",
        color_scheme="gray",
        width="100%",
        role="status",
    )


def record_list(noun: str) -> rx.Component:
    """Filters, search, the export link for supervisors, and the table or the empty state."""
    return rx.vstack(
        rx.hstack(
            scope_control(),
            rx.spacer(),
            rx.cond(
                RecordListState.sees_all,
                download_link("Export CSV", RecordListState.export_href),
            ),
            width="100%",
            align="center",
            wrap="wrap",
            spacing="3",
        ),
        search_form(noun),
        filters_form(),
        error_callout(RecordListState.error),
        rx.cond(RecordListState.total > 0, rx.fragment(record_table(noun), paging(noun)), empty_state(noun)),
        spacing="3",
        width="100%",
    )
