"""The conversation: bubbles with sender, time, delivery status and attachments."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from agent_workspace.state.views import MessageView


def _status(message: MessageView, on_retry: Callable[[str], rx.event.EventSpec]) -> rx.Component:
    return rx.match(
        message.status,
        ("sending", rx.text("Sending…", size="1", color_scheme="gray", class_name="aw-status")),
        (
            "failed",
            rx.hstack(
                rx.text("Failed: ", message.error, size="1", color_scheme="red", class_name="aw-status"),
                rx.button("Retry", size="1", variant="soft", color_scheme="red", on_click=on_retry(message.client_id)),
                align="center",
            ),
        ),
        rx.text("Sent", size="1", color_scheme="gray", class_name="aw-status"),
    )


def _attachment(message: MessageView) -> rx.Component:
    return rx.cond(
        message.attachment_url != "",
        rx.vstack(
            rx.cond(
                message.is_image,
                rx.image(src=message.attachment_url, alt=message.attachment_name, max_width="240px", border_radius="6px"),
            ),
            rx.link(message.attachment_name, href=message.attachment_url, is_external=True),
            spacing="1",
        ),
    )


def bubble(message: MessageView, *, mine_kind: str, on_retry: Callable[[str], rx.event.EventSpec]) -> rx.Component:
    is_mine = message.sender_kind == mine_kind
    return rx.cond(
        message.sender_kind == "system",
        rx.text(message.body, size="1", color_scheme="gray", align="center", width="100%", class_name="aw-system"),
        rx.box(
            rx.vstack(
                rx.hstack(
                    rx.text(message.sender_name, weight="bold", size="1"),
                    rx.text(message.time, size="1", color_scheme="gray"),
                    spacing="2",
                ),
                rx.text(message.body, white_space="pre-wrap", size="2", class_name="aw-body"),
                _attachment(message),
                rx.cond(is_mine, _status(message, on_retry)),
                spacing="1",
                align="start",
            ),
            class_name=rx.cond(is_mine, "aw-bubble aw-mine", "aw-bubble aw-theirs"),
            align_self=rx.cond(is_mine, "flex-end", "flex-start"),
            max_width="80%",
            data_testid="message",
        ),
    )


def message_list(messages, *, mine_kind: str, on_retry, label: str) -> rx.Component:
    return rx.vstack(
        rx.foreach(messages, lambda m: bubble(m, mine_kind=mine_kind, on_retry=on_retry)),
        role="log",
        aria_live="polite",
        aria_label=label,
        spacing="2",
        width="100%",
        padding="8px",
        class_name="aw-messages",
    )
