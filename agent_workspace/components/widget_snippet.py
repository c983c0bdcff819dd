"""The chat widget's snippet on the supervisor dashboard: one per queue, to copy."""

from __future__ import annotations

import reflex as rx


def _snippet(row: rx.Var[list[str]]) -> rx.Component:
    name, code = row[0], row[1]
    return rx.vstack(
        rx.hstack(
            rx.text(name, weight="bold", size="2"),
            rx.button(
                "Copy",
                size="1",
                variant="soft",
                aria_label="Copy the snippet for " + name,
                on_click=[rx.set_clipboard(code), rx.toast.success("Snippet copied")],
            ),
            align="center",
            spacing="3",
        ),
        rx.el.pre(rx.el.code(code), class_name="aw-snippet", aria_label="Snippet for " + name, tab_index=0),
        spacing="1",
        width="100%",
    )


def widget_snippets(rows: rx.Var[list[list[str]]]) -> rx.Component:
    return rx.vstack(
        rx.heading("Chat widget", as_="h2", size="4"),
        rx.text(
            "Paste one of these tags into your site's pages to add a chat launcher. "
            'Name the site in AW_WIDGET_ORIGINS first (README, "Chat widget").',
            size="2",
            color_scheme="gray",
        ),
        rx.foreach(rows, _snippet),
        spacing="2",
        width="100%",
    )
