"""One record's page: header, notices, and its sections, read-only."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.messages import message_list, transcript_message
from agent_workspace.components.record_table import download_link
from agent_workspace.state.records import FieldView, HistoryView, RecordPageState, RelatedView
from agent_workspace.state.views import EmailView

LIST_NAMES = {"interaction": "Interactions", "case": "Cases", "incident": "Incidents"}


def _list_name() -> rx.Var:
    return rx.match(RecordPageState.kind, *LIST_NAMES.items(), "Interactions")


def breadcrumb() -> rx.Component:
    return rx.el.nav(
        rx.el.ol(
            rx.el.li(rx.link("All", href="/workspace")),
            rx.el.li("›", aria_hidden="true"),
            rx.el.li(rx.link(_list_name(), href=RecordPageState.list_href)),
            rx.el.li("›", aria_hidden="true"),
            rx.el.li(rx.text(RecordPageState.record_number, as_="span", weight="bold"), aria_current="page"),
            class_name="aw-breadcrumb",
        ),
        aria_label="Breadcrumb",
    )


def section(title: str, *children: rx.Component, when: rx.Var | None = None, empty: str = "") -> rx.Component:
    """A titled part of the page; ``empty`` says in words that there is nothing (``when`` false)."""
    body = (
        rx.cond(when, rx.fragment(*children), rx.text(empty, size="2", color_scheme="gray"))
        if when is not None
        else rx.fragment(*children)
    )
    heading_id = "section-" + title.lower().replace(" ", "-")
    return rx.el.section(
        rx.vstack(rx.heading(title, as_="h2", size="4", id=heading_id), body, spacing="2", width="100%"),
        aria_labelledby=heading_id,
        width="100%",
        style={"width": "100%"},
    )


def _field(field: FieldView) -> rx.Component:
    return rx.fragment(
        rx.el.dt(field.label, style={"font_weight": "500", "color": "var(--gray-11)"}),
        rx.el.dd(field.value, style={"margin": "0", "white_space": "pre-wrap", "overflow_wrap": "anywhere"}),
    )


def details() -> rx.Component:
    return section(
        "Details",
        rx.el.dl(
            rx.foreach(RecordPageState.details, _field),
            style={
                "display": "grid",
                "grid_template_columns": "minmax(120px, max-content) 1fr",
                "gap": "4px 16px",
                "margin": "0",
            },
        ),
        rx.cond(
            RecordPageState.description != "",
            rx.vstack(
                rx.text(
                    rx.cond(RecordPageState.kind == "interaction", "Question", "Description"), weight="medium", size="2"
                ),
                _prose(RecordPageState.description),
                spacing="1",
            ),
        ),
        rx.cond(
            RecordPageState.resolution_notes != "",
            rx.vstack(
                rx.text("Resolution notes", weight="medium", size="2"),
                _prose(RecordPageState.resolution_notes),
                spacing="1",
            ),
        ),
    )


def _prose(text: rx.Var) -> rx.Component:
    return rx.text(text, size="2", white_space="pre-wrap", style={"overflow_wrap": "anywhere"})


def _history_line(line: HistoryView) -> rx.Component:
    return rx.el.li(
        rx.text(rx.text(line.at, as_="span", color_scheme="gray"), " · ", line.text, size="2")
    )  # the text names the actor


def _history(title: str, lines: rx.Var, empty: str) -> rx.Component:
    return section(
        title,
        rx.el.ul(rx.foreach(lines, _history_line), style={"padding_left": "1.2em", "margin": "0"}),
        when=lines.length() > 0,
        empty=empty,
    )


def _related(record: RelatedView) -> rx.Component:
    return rx.el.li(
        rx.text(rx.link(record.number, href=record.href), " · ", record.summary, " · ", record.state, size="2")
    )


def _email(mail: EmailView) -> rx.Component:
    return rx.el.li(
        rx.text(
            rx.text(mail.time, as_="span", color_scheme="gray"),
            " · to ",
            mail.to_address,
            " · ",
            mail.subject,
            " · ",
            mail.status,
            size="2",
        )
    )


def _conversation() -> rx.Component:
    return section(
        "Conversation",
        message_list(RecordPageState.conversation, render=transcript_message, label="Conversation"),
        when=RecordPageState.conversation.length() > 0,
        empty="No messages were exchanged.",
    )


def _notices() -> rx.Component:
    return rx.fragment(
        rx.cond(
            RecordPageState.closed,
            rx.callout("This record is closed, read-only.", icon="lock", color_scheme="gray", width="100%"),
        ),
        rx.cond(
            RecordPageState.history_notice != "",
            rx.callout(
                RecordPageState.history_notice, icon="triangle_alert", color_scheme="amber", width="100%", role="status"
            ),
        ),
    )


def record_body() -> rx.Component:
    return rx.vstack(
        breadcrumb(),
        rx.hstack(
            rx.heading(
                RecordPageState.record_number,
                " · ",
                RecordPageState.title,
                as_="h1",
                size="6",
                style={"overflow_wrap": "anywhere"},
            ),
            rx.badge(RecordPageState.state_label, size="2", variant="soft"),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        _notices(),
        rx.hstack(
            rx.cond(
                RecordPageState.transcript_href != "",
                download_link("Download transcript", RecordPageState.transcript_href),
            ),
            rx.link("Back to the list", href=RecordPageState.list_href),
            spacing="4",
            wrap="wrap",
        ),
        details(),
        _conversation(),
        section(
            "Work notes",
            _prose(RecordPageState.work_notes),
            when=RecordPageState.work_notes != "",
            empty="No work notes.",
        ),
        section(
            "Related records",
            rx.el.ul(rx.foreach(RecordPageState.related, _related), style={"padding_left": "1.2em", "margin": "0"}),
            when=RecordPageState.related.length() > 0,
            empty="No related records.",
        ),
        section(
            "Emails",
            rx.el.ul(rx.foreach(RecordPageState.emails, _email), style={"padding_left": "1.2em", "margin": "0"}),
            when=RecordPageState.emails.length() > 0,
            empty="No emails were sent.",
        ),
        _history("Transfers", RecordPageState.transfers, "No transfers."),
        _history("Escalations", RecordPageState.escalations, "No escalations."),
        section(
            "Rating",
            rx.text(
                RecordPageState.rating,
                rx.cond(RecordPageState.rating_comment != "", " · “" + RecordPageState.rating_comment + "”", ""),
                size="2",
            ),
            when=RecordPageState.rating != "",
            empty="Not rated.",
        ),
        _history("History", RecordPageState.history, "No history."),
        spacing="4",
        width="100%",
        max_width="960px",
    )


def not_found() -> rx.Component:
    """The same words whether the record does not exist or is not the viewer's."""
    return rx.vstack(
        rx.heading("No record ", RecordPageState.asked_number, " that you can open", as_="h1", size="5"),
        rx.text("It does not exist, or it belongs to queues you do not work. Check the number, or search the list."),
        rx.link("Back to ", _list_name(), href=RecordPageState.list_href),
        spacing="3",
        role="alert",
    )
