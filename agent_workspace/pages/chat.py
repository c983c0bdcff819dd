"""The public customer chat: pre-chat form, place in line, conversation, transcript."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.confirm import confirm_dialog
from agent_workspace.components.connection import outbox
from agent_workspace.components.form import error_callout, file_drop, text_area, text_field
from agent_workspace.components.messages import conversation_box, customer_message, message_list
from agent_workspace.services.events import TYPING_THROTTLE_MS
from agent_workspace.state.customer import CustomerChatState
from agent_workspace.state.customer_push import Phase

COMPOSER_ID = "customer-composer"


def prechat_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Chat with support", as_="h1", size="6"),
            rx.text("Tell us who you are and what you need.", color_scheme="gray"),
            # Back from the message form brings back what was typed there.
            text_field(
                "Your name",
                name="name",
                required=True,
                max_length=120,
                auto_complete="name",
                default_value=CustomerChatState.leave_name,
            ),
            text_field(
                "Email",
                name="email",
                type="email",
                required=True,
                max_length=254,
                auto_complete="email",
                default_value=CustomerChatState.leave_email,
            ),
            rx.vstack(
                rx.el.label("What do you need help with?", html_for="queue_id", class_name="aw-label"),
                rx.el.select(
                    rx.el.option("Choose a topic…", value=""),
                    rx.foreach(CustomerChatState.queue_options, lambda q: rx.el.option(q[1], value=q[0])),
                    id="queue_id",
                    name="queue_id",
                    required=True,
                    class_name="aw-native-select",
                    value=CustomerChatState.topic,
                    on_change=CustomerChatState.choose_topic,
                ),
                spacing="1",
                width="100%",
            ),
            outlook_notice(),
            text_area(
                "Your question",
                name="question",
                required=True,
                max_length=1000,
                rows="4",
                default_value=CustomerChatState.leave_text,
            ),
            error_callout(CustomerChatState.form_error),
            rx.button("Start chat", type="submit", size="3", width="100%"),
            spacing="3",
            width="100%",
        ),
        on_submit=CustomerChatState.start_chat,
        width="100%",
    )


def outlook_notice() -> rx.Component:
    """What the chosen topic can offer now: an agent, a wait, nobody, or closed."""
    outlook = CustomerChatState.outlook
    return rx.cond(
        outlook.status != "",
        rx.callout(
            rx.vstack(
                rx.text(outlook.headline, weight="bold"),
                rx.text(outlook.detail),
                rx.cond(
                    outlook.can_leave_message,
                    rx.button(
                        "Leave a message",
                        type="button",
                        variant="outline",
                        # What was typed into the form so far comes along.
                        on_click=rx.call_script(
                            "['name', 'email', 'question'].map(id => document.getElementById(id).value)",
                            callback=CustomerChatState.open_leave_form,
                        ),
                    ),
                ),
                spacing="2",
                align="start",
            ),
            icon=rx.match(outlook.status, ("available", "circle_check"), ("busy", "clock"), "info"),
            color_scheme=rx.match(outlook.status, ("available", "green"), ("busy", "blue"), "amber"),
            role="status",
            aria_label="Availability",
            width="100%",
        ),
    )


def waiting_banner() -> rx.Component:
    """The place in line and the estimate, or plainly that nobody is there, with a choice."""
    outlook = CustomerChatState.outlook
    nobody = outlook.can_leave_message
    return rx.callout(
        rx.vstack(
            rx.text(
                "You are number ",
                rx.text(outlook.position.to_string(), as_="span", weight="bold", data_testid="queue-position"),
                " in line for ",
                CustomerChatState.queue_name,
                ".",
            ),
            rx.text(outlook.headline, weight=rx.cond(nobody, "bold", "regular")),
            rx.cond(
                nobody & CustomerChatState.keep_waiting,
                rx.text("You're still in line: an agent takes your chat as soon as one is available."),
                rx.cond(outlook.detail != "", rx.text(outlook.detail)),
            ),
            rx.cond(
                nobody,
                rx.hstack(
                    rx.button("Leave a message", on_click=CustomerChatState.open_leave_form([])),
                    rx.cond(
                        ~CustomerChatState.keep_waiting,
                        rx.button("Keep waiting", variant="soft", on_click=CustomerChatState.choose_keep_waiting),
                    ),
                    spacing="2",
                    wrap="wrap",
                ),
            ),
            spacing="2",
            align="start",
        ),
        icon=rx.cond(nobody, "info", "clock"),
        color_scheme=rx.cond(nobody, "amber", "blue"),
        role="status",
        aria_label="Your place in line",
        width="100%",
    )


def leave_message_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Leave a message", as_="h1", size="6"),
            rx.text(
                rx.cond(CustomerChatState.leave_queue != "", "To " + CustomerChatState.leave_queue + ". ", ""),
                "We'll reply by email as soon as someone from the team is back.",
                color_scheme="gray",
            ),
            text_field(
                "Your name",
                name="name",
                control_id="leave-name",
                required=True,
                max_length=120,
                auto_complete="name",
                default_value=CustomerChatState.leave_name,
            ),
            text_field(
                "Email",
                name="email",
                control_id="leave-email",
                type="email",
                required=True,
                max_length=254,
                auto_complete="email",
                default_value=CustomerChatState.leave_email,
            ),
            text_area(
                "Your message",
                name="message",
                control_id="leave-message",
                required=True,
                max_length=4000,
                rows="6",
                default_value=CustomerChatState.leave_text,
            ),
            error_callout(CustomerChatState.leave_error),
            rx.hstack(
                rx.button("Send message", type="submit", size="3"),
                rx.button("Back", type="button", variant="soft", size="3", on_click=CustomerChatState.cancel_leave),
                spacing="3",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=CustomerChatState.leave_message,
        width="100%",
    )


def message_left() -> rx.Component:
    return rx.vstack(
        rx.heading("Thanks, we got your message", as_="h1", size="6"),
        rx.callout(
            rx.text(
                "Your reference is ",
                rx.text(CustomerChatState.left_number, as_="span", weight="bold"),
                ". We'll reply to ",
                CustomerChatState.left_email,
                ".",
                rx.cond(CustomerChatState.left_confirmed, " A confirmation is on its way to your inbox.", ""),
            ),
            icon="circle_check",
            color_scheme="green",
            role="status",
            width="100%",
        ),
        rx.button("Start a new chat", variant="soft", on_click=CustomerChatState.new_chat),
        spacing="3",
        width="100%",
        align="start",
    )


def composer() -> rx.Component:
    """Its submit is taken by the outbox (components/connection.py), which keeps
    the text until the server has it, through a lost connection or a reload."""
    return rx.form(
        rx.hstack(
            rx.box(
                rx.el.label("Message", html_for="customer-message", class_name="aw-visually-hidden"),
                rx.input(
                    id="customer-message",
                    name="body",
                    placeholder="Type your message…",
                    width="100%",
                    auto_complete="off",
                    max_length=4000,
                    on_change=CustomerChatState.typing.throttle(TYPING_THROTTLE_MS),  # the first keystroke at once
                ),
                flex="1",
            ),
            rx.button("Send", type="submit"),
            width="100%",
        ),
        id=COMPOSER_ID,
        width="100%",
    )


def customer_upload() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            file_drop(
                "customer-attachments",
                "Choose files to attach",
                rx.text("Attach files: drop here or click", size="2"),
                border="1px dashed var(--gray-a8)",
                padding="8px 12px",
            ),
            rx.button(
                "Upload files",
                variant="outline",
                on_click=CustomerChatState.upload(rx.upload_files(upload_id="customer-attachments")),
                disabled=rx.selected_files("customer-attachments").length() == 0,
            ),
            align="center",
            spacing="2",
        ),
        rx.foreach(rx.selected_files("customer-attachments"), lambda name: rx.text(name, size="1")),
        error_callout(CustomerChatState.upload_error),
        width="100%",
        align="end",
    )


def survey() -> rx.Component:
    return rx.cond(
        CustomerChatState.rated,
        rx.text("Thanks for your feedback!", role="status", color_scheme="green"),
        rx.form(
            rx.vstack(
                rx.el.fieldset(
                    rx.el.legend("How did we do? (1 = poor, 5 = excellent)", class_name="aw-label"),
                    rx.radio_group.root(
                        rx.hstack(
                            *[
                                rx.radio_group.item(str(n), value=str(n), aria_label=f"{n} out of 5")
                                for n in range(1, 6)
                            ],
                            spacing="3",
                        ),
                        name="rating",
                        direction="row",
                    ),
                    class_name="aw-fieldset",
                ),
                text_area("Comment (optional)", name="comment", control_id="survey-comment", max_length=1000, rows="2"),
                error_callout(CustomerChatState.rating_error),
                rx.button("Send feedback", type="submit", variant="outline"),
                spacing="2",
                width="100%",
            ),
            on_submit=CustomerChatState.rate,
            width="100%",
        ),
    )


def conversation_title() -> rx.Var:
    """Who the customer is talking to, or (once ended) was: "Chatting with" would be untrue then."""
    named = CustomerChatState.agent_name != ""
    return rx.cond(
        CustomerChatState.phase == Phase.ENDED,
        rx.cond(named, "You chatted with " + CustomerChatState.agent_name, "Chat ended"),
        rx.cond(named, "Chatting with " + CustomerChatState.agent_name, "Support chat"),
    )


def conversation() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(conversation_title(), as_="h1", size="5"),
            rx.spacer(),
            rx.text(
                CustomerChatState.number, size="1", color_scheme="gray", id="aw-chat-number"
            ),  # read by widget_frame.js
            width="100%",
            align="center",
        ),
        rx.cond(CustomerChatState.phase == Phase.WAITING, waiting_banner()),
        conversation_box(
            message_list(CustomerChatState.messages, render=customer_message, label="Conversation"),
            outbox(
                scope="customer",
                form_id=COMPOSER_ID,
                taken=CustomerChatState.taken_ids,
                on_send=CustomerChatState.send,
                sender_name="You",
            ),
        ),
        rx.cond(
            CustomerChatState.agent_typing,
            rx.text(CustomerChatState.agent_name, " is typing…", size="1", color_scheme="gray", role="status"),
        ),
        rx.cond(
            CustomerChatState.phase == Phase.ENDED,
            rx.vstack(
                rx.callout(
                    "This chat has ended. Thank you for contacting us.",
                    icon="circle_check",
                    role="status",
                    width="100%",
                ),
                survey(),
                rx.hstack(
                    rx.link(
                        rx.button("Download transcript", variant="outline"),
                        href=CustomerChatState.transcript_url,
                        is_external=True,
                    ),
                    rx.button("Start a new chat", variant="soft", on_click=CustomerChatState.new_chat),
                    spacing="3",
                ),
                width="100%",
            ),
            rx.vstack(
                composer(),
                error_callout(CustomerChatState.send_error),  # a refused message is not kept: why, here
                customer_upload(),
                confirm_dialog(
                    rx.button("End chat", variant="soft", color_scheme="red"),
                    title="End this chat?",
                    description=(
                        "This ends the conversation, and it cannot be reopened. "
                        "You can download its transcript afterwards.",
                    ),
                    confirm="End chat now",
                    cancel="Keep chatting",
                    on_confirm=CustomerChatState.end_chat,
                ),
                width="100%",
                align="end",
            ),
        ),
        rx.box(
            rx.cond(CustomerChatState.agent_typing, rx.moment(interval=2000, on_change=CustomerChatState.tick)),
            display="none",
        ),
        spacing="3",
        width="100%",
    )


def chat_phase() -> rx.Component:
    """What the customer sees now: the form, a message being left, or the chat."""
    return rx.cond(
        CustomerChatState.loaded,
        rx.match(
            CustomerChatState.phase,
            (Phase.FORM, prechat_form()),
            (Phase.LEAVE, leave_message_form()),
            (Phase.LEFT, message_left()),
            conversation(),
        ),
        rx.center(rx.spinner(size="3"), padding="32px"),
    )


def chat_ticks() -> rx.Component:
    """Every phase ticks (also while a message is being written, so the tab stays
    registered); before a chat starts, the topic's availability is read again."""
    return rx.box(
        rx.cond(
            CustomerChatState.phase == Phase.FORM,
            rx.moment(interval=10000, on_change=CustomerChatState.tick),
            rx.moment(interval=15000, on_change=CustomerChatState.tick),
        ),
        display="none",
    )


def chat() -> rx.Component:
    return rx.el.main(
        rx.center(
            rx.card(chat_phase(), width="100%", max_width="640px", size="3"),
            chat_ticks(),
            padding="16px",
        )
    )
