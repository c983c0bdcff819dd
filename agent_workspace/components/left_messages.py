"""The Inbox's "Messages left" section: what customers left while nobody could chat, and the reply dialog."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.form import error_callout, labelled, text_area, text_field
from agent_workspace.components.server_dialog import server_dialog
from agent_workspace.services import email as mail
from agent_workspace.state.left_messages import LeftMessagesState, LeftMessageView

TICK_MS = 15_000
# Customers' names, addresses and messages may be long unbroken strings: break them anywhere
# ("anywhere", unlike "break-word", also narrows their min-content width, so flex rows shrink).
WRAP = {"overflow_wrap": "anywhere", "min_width": "0"}


def left_message_card(message: LeftMessageView) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(message.customer_name, size="3", as_="h4", **WRAP),
                rx.badge(message.queue_name, white_space="normal", **WRAP),
                rx.cond(message.in_progress, rx.badge("In progress", color_scheme="amber")),
                rx.spacer(),
                rx.text(message.number, size="1", color_scheme="gray", **WRAP),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.text(message.customer_email, size="2", **WRAP),
            rx.text(message.message, size="2", white_space="pre-wrap", class_name="aw-question", **WRAP),
            rx.hstack(
                rx.text(
                    "Left ",
                    rx.moment(message.created_at, from_now=True, interval=60_000),
                    size="1",
                    color_scheme="gray",
                ),
                # Only delivered replies reached the customer; the others are shown as what they are.
                rx.cond(
                    message.replies_sent > 0,
                    rx.text("Replies sent: ", message.replies_sent.to_string(), size="1", color_scheme="gray"),
                ),
                rx.cond(
                    message.replies_queued > 0,
                    rx.text(
                        "Waiting to be sent: ",
                        message.replies_queued.to_string(),
                        rx.cond(
                            message.retry_at != "",
                            rx.fragment(
                                " (an attempt failed; next try ",
                                rx.moment(message.retry_at, from_now=True, interval=60_000),
                                ")",
                            ),
                        ),
                        size="1",
                        color_scheme="amber",
                    ),
                ),
                rx.cond(
                    message.replies_failed > 0,
                    rx.text("Failed to send: ", message.replies_failed.to_string(), size="1", color_scheme="red"),
                ),
                spacing="3",
                wrap="wrap",
            ),
            rx.button(
                rx.icon("mail", size=14),
                "Reply by email",
                size="2",
                variant="soft",
                aria_label="Reply by email to " + message.customer_name + " (" + message.number + ")",
                on_click=LeftMessagesState.open_reply(message.record_id),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        role="article",
        aria_label="Message from " + message.customer_name + ", " + message.number,
        class_name="aw-card",
    )


def reply_dialog() -> rx.Component:
    return server_dialog(
        rx.dialog.content(
            rx.dialog.title("Reply by email"),
            rx.dialog.description(
                "To " + LeftMessagesState.reply_name + " about " + LeftMessagesState.reply_number + ". Their message:",
                size="2",
                **WRAP,
            ),
            rx.blockquote(LeftMessagesState.reply_message, size="2", white_space="pre-wrap", margin_y="8px", **WRAP),
            # Outside the form: the service writes to the customer's stored address, whatever a page sends.
            rx.box(
                labelled(
                    "To",
                    rx.input(id="left-reply-to", value=LeftMessagesState.reply_to, read_only=True, width="100%"),
                    control_id="left-reply-to",
                ),
                margin_bottom="12px",
            ),
            rx.form(
                rx.vstack(
                    text_field(
                        "Subject",
                        name="subject",
                        control_id="left-reply-subject",
                        default_value=LeftMessagesState.reply_subject,
                        max_length=mail.SUBJECT_MAX,
                        required=True,
                    ),
                    text_area(
                        "Message",
                        name="body",
                        control_id="left-reply-body",
                        rows="8",
                        max_length=mail.BODY_MAX,
                        required=True,
                    ),
                    rx.hstack(
                        rx.el.input(type="checkbox", id="left-reply-resolve", name="resolve"),
                        rx.el.label("Mark as resolved", html_for="left-reply-resolve", class_name="aw-label"),
                        align="center",
                        spacing="2",
                    ),
                    error_callout(LeftMessagesState.reply_error),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray")),
                        rx.button(
                            rx.cond(LeftMessagesState.sending, "Sending…", "Send"),
                            type="submit",
                            disabled=LeftMessagesState.sending,
                        ),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=LeftMessagesState.send_reply,
            ),
            max_width="560px",
            # A new message gets a fresh form (its subject is a default value).
            key=LeftMessagesState.reply_id.to_string(),
        ),
        open=LeftMessagesState.reply_open,
        on_close=LeftMessagesState.close_reply,
    )


def left_messages_section() -> rx.Component:
    """Shown when the agent's queues have open left messages; re-read every 15 s while on screen."""
    return rx.fragment(
        rx.cond(
            LeftMessagesState.messages.length() > 0,
            rx.el.section(
                rx.vstack(
                    rx.hstack(
                        rx.heading("Messages left", size="4", as_="h3"),
                        rx.badge(LeftMessagesState.messages.length().to_string(), color_scheme="blue"),
                        align="center",
                        spacing="2",
                    ),
                    rx.foreach(LeftMessagesState.messages, left_message_card),
                    spacing="3",
                    width="100%",
                ),
                aria_label="Messages left",
                width="100%",
            ),
        ),
        reply_dialog(),
        rx.box(rx.moment(interval=TICK_MS, on_change=LeftMessagesState.tick), display="none"),
    )
