"""The supervisor dashboard (role supervisor)."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.form import error_callout, text_area, text_field
from agent_workspace.components.layout import app_header, role_gate
from agent_workspace.components.messages import message_list, transcript_message
from agent_workspace.components.server_dialog import server_dialog
from agent_workspace.components.widget_snippet import widget_snippets
from agent_workspace.state.auth import AuthState
from agent_workspace.state.supervisor import (
    HOURS_FIELDS,
    AgentRow,
    AuditRow,
    CannedRow,
    ChatRow,
    HoursRow,
    QueueRow,
    SupervisorState,
)


def _table(caption: str, headers: list[str], rows, cells) -> rx.Component:
    """A captioned table in a box of its own that scrolls sideways on a narrow screen
    (the page does not), focusable so the keyboard scrolls it too. ``cells`` gives a
    row's cell contents."""
    return rx.box(
        rx.table.root(
            rx.el.caption(caption, class_name="aw-caption"),
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(rows, lambda row: rx.table.row(*[rx.table.cell(c) for c in cells(row)]))),
            size="1",
            width="100%",
            aria_label=caption,
        ),
        overflow_x="auto",
        width="100%",
        tab_index=0,
        role="region",
        aria_label=f"{caption}, scrolls sideways",
        class_name="aw-scroll-region",
    )


def _queue(row: QueueRow) -> list:
    return [
        row.name,
        row.waiting.to_string(),
        row.longest,
        row.average,
        row.accepted.to_string(),
        row.abandoned.to_string(),
        row.transferred.to_string(),
        row.rating,
        row.hours_status,
    ]


def _agent(row: AgentRow) -> list:
    return [row.name, row.presence, row.load, row.handled.to_string(), row.average_handle]


def _chat(row: ChatRow) -> list:
    view = rx.button(
        "View",
        size="1",
        variant="soft",
        on_click=SupervisorState.view_chat(row.interaction_id),
        aria_label="View " + row.number,
    )
    return [row.number, row.customer, row.queue, row.agent, row.state, view]


def _canned(row: CannedRow) -> list:
    delete = rx.button(
        "Delete",
        size="1",
        variant="soft",
        color_scheme="red",
        on_click=SupervisorState.delete_canned(row.id),
        aria_label="Delete " + row.title,
    )
    return [row.title, row.queue, row.body, delete]


def _canned_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("New canned response", weight="bold", size="2"),
            rx.hstack(
                text_field("Title", name="title", control_id="canned-title", max_length=80),
                rx.vstack(
                    rx.el.label("Queue", html_for="canned-queue", class_name="aw-label"),
                    rx.el.select(
                        rx.el.option("All queues", value=""),
                        rx.foreach(SupervisorState.queue_options, lambda q: rx.el.option(q[1], value=q[0])),
                        id="canned-queue",
                        name="queue_id",
                        class_name="aw-native-select",
                    ),
                    spacing="1",
                ),
                width="100%",
                spacing="3",
            ),
            text_area(
                "Reply",
                name="body",
                control_id="canned-body",
                rows="2",
                max_length=2000,
                placeholder="Hi {customer_first_name}, ...",
            ),
            rx.text(
                "Placeholders: {customer_first_name}, {customer_name}, {agent_name}, {number}",
                size="1",
                color_scheme="gray",
            ),
            error_callout(SupervisorState.canned_error),
            rx.button("Save canned response", type="submit", variant="outline"),
            spacing="2",
            width="100%",
        ),
        on_submit=SupervisorState.create_canned,
        reset_on_submit=True,
        width="100%",
    )


def _hours_form(row: HoursRow) -> rx.Component:
    """One queue's hours; the fieldset's legend (the queue name) names the group."""
    control = "hours-" + row.queue_id.to_string() + "-"

    def field(kind, label: str, name: str, suffix: str, **props) -> rx.Component:
        return kind(
            label,
            name=name,
            control_id=control + suffix,
            default_value=getattr(row, name),
            max_length=HOURS_FIELDS[name][1],
            **props,
        )

    return rx.form(
        rx.el.fieldset(
            rx.el.legend(row.name, class_name="aw-label"),
            rx.el.label(
                rx.switch(
                    checked=row.public,
                    on_change=lambda on: SupervisorState.set_queue_public(row.queue_id, on),
                ),
                "Shown on the public page",
                class_name="aw-switch-label",
            ),
            rx.text(row.description, size="1", color_scheme="gray"),
            rx.el.input(type="hidden", name="queue_id", value=row.queue_id),
            rx.hstack(
                field(
                    text_field,
                    "Weekly hours",
                    "weekly_hours",
                    "weekly",
                    placeholder="Mon-Fri 09:00-17:00; Sat 10:00-14:00",
                ),
                field(text_field, "Time zone", "time_zone", "zone", placeholder="Europe/Berlin"),
                width="100%",
                spacing="3",
                class_name="aw-phone-column",
            ),
            field(text_field, "Closures", "closures", "closures", placeholder="2026-12-24, 2026-12-31..2027-01-01"),
            field(text_area, "Out-of-hours message", "closed_message", "message", rows="2"),
            error_callout(row.error),
            rx.button("Save hours", type="submit", variant="outline", aria_label="Save hours for " + row.name),
            style={"border": "1px solid var(--gray-6)", "border_radius": "6px", "padding": "8px 12px", "width": "100%"},
        ),
        on_submit=SupervisorState.save_hours,
        key=row.queue_id,  # typed text stays with its queue when the list changes
        width="100%",
    )


def _business_hours() -> rx.Component:
    return rx.vstack(
        rx.heading("Queues: public page and business hours", as_="h2", size="4"),
        rx.text(
            "A queue shown on the public page is a topic customers can choose there and in the widget; "
            "a hidden one still takes transfers. ",
            'Days and times in the queue\'s time zone, e.g. "Mon-Fri 09:00-12:00, 13:00-17:00; Sat 10:00-14:00" '
            "(22:00-02:00 runs past midnight; empty: open around the clock). Closures are whole days: "
            '"2026-12-24, 2026-12-31..2027-01-01".',
            size="1",
            color_scheme="gray",
        ),
        rx.foreach(SupervisorState.business_hours, _hours_form),
        spacing="3",
        width="100%",
    )


def _audit(row: AuditRow) -> list:
    return [row.at, row.actor, row.action, row.detail]


def _charts() -> rx.Component:
    return rx.hstack(
        rx.box(
            rx.text("Requests per hour (UTC)", weight="bold", size="2"),
            rx.recharts.bar_chart(
                rx.recharts.bar(data_key="requests", fill="var(--accent-9)"),
                rx.recharts.x_axis(data_key="hour"),
                rx.recharts.y_axis(allow_decimals=False),
                rx.recharts.graphing_tooltip(),
                data=SupervisorState.hours,
                height=200,
            ),
            flex="1",
            role="img",
            aria_label="Bar chart of chat requests per hour today",
        ),
        rx.box(
            rx.text("Average wait per hour (seconds)", weight="bold", size="2"),
            rx.recharts.line_chart(
                rx.recharts.line(data_key="wait", stroke="var(--orange-9)"),
                rx.recharts.x_axis(data_key="hour"),
                rx.recharts.y_axis(),
                rx.recharts.graphing_tooltip(),
                data=SupervisorState.hours,
                height=200,
            ),
            flex="1",
            role="img",
            aria_label="Line chart of average wait per hour today",
        ),
        width="100%",
        spacing="4",
        class_name="aw-phone-column",
    )


def _viewer() -> rx.Component:
    return server_dialog(
        rx.dialog.content(
            rx.dialog.title("Interaction ", SupervisorState.viewing_number, " (read-only)"),
            rx.box(
                message_list(SupervisorState.viewing_messages, render=transcript_message, label="Conversation"),
                class_name="aw-scroll",
            ),
            rx.hstack(rx.dialog.close(rx.button("Close")), justify="end", margin_top="12px"),
            max_width="720px",
        ),
        open=SupervisorState.viewing_number != "",
        on_close=SupervisorState.close_view,
    )


def _dashboard() -> rx.Component:
    return rx.vstack(
        app_header(current="supervisor"),
        rx.heading("Supervisor dashboard", as_="h1", size="6"),
        _table(
            "Queues today",
            [
                "Queue",
                "Waiting",
                "Longest wait",
                "Average wait",
                "Accepted",
                "Abandoned",
                "Transferred",
                "Satisfaction",
                "Hours",
            ],
            SupervisorState.queues,
            _queue,
        ),
        _table(
            "Agents today", ["Agent", "Presence", "Chats", "Handled", "Avg handle time"], SupervisorState.agents, _agent
        ),
        _charts(),
        _table(
            "Active interactions", ["Number", "Customer", "Queue", "Agent", "State", ""], SupervisorState.chats, _chat
        ),
        _table("Canned responses", ["Title", "Queue", "Reply", ""], SupervisorState.canned, _canned),
        _canned_form(),
        _business_hours(),
        widget_snippets(SupervisorState.widget_snippets),
        _table("Audit log (latest 100)", ["When (UTC)", "Who", "Action", "Detail"], SupervisorState.audit, _audit),
        _viewer(),
        rx.box(rx.moment(interval=5000, on_change=SupervisorState.tick), display="none"),
        spacing="4",
        width="100%",
        padding="12px 20px",
        class_name="aw-page",  # tighter on a phone (assets/styles.css)
    )


def supervisor() -> rx.Component:
    return role_gate(
        role="supervisor", allowed=AuthState.is_supervisor, loaded=SupervisorState.loaded, body=_dashboard()
    )
