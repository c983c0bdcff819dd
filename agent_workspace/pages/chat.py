"""The public customer chat: pre-chat form, place in line, conversation, transcript."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.form import error_callout, file_drop, text_area, text_field
from agent_workspace.components.messages import customer_message, message_list
from agent_workspace.state.customer import CustomerChatState


def prechat_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Chat with support", as_="h1", size="6"),
            rx.text("Tell us who you are and what you need; the next free agent picks it up.", color_scheme="gray"),
            text_field("Your name", name="name", required=True, max_length=120, auto_complete="name"),
            text_field("Email", name="email", type="email", required=True, max_length=254, auto_complete="email"),
            rx.vstack(
                rx.el.label("What do you need help with?", html_for="queue_id", class_name="aw-label"),
                rx.el.select(
                    rx.el.option("Choose a topic…", value=""),
                    rx.foreach(CustomerChatState.queue_options, lambda q: rx.el.option(q[1], value=q[0])),
                    id="queue_id",
                    name="queue_id",
                    required=True,
                    class_name="aw-native-select",
                ),
                spacing="1",
                width="100%",
            ),
            text_area("Your question", name="question", required=True, max_length=1000, rows="4"),
            error_callout(CustomerChatState.form_error),
            rx.button("Start chat", type="submit", size="3", width="100%"),
            spacing="3",
            width="100%",
        ),
        on_submit=CustomerChatState.start_chat,
        width="100%",
    )


def waiting_banner() -> rx.Component:
    return rx.callout(
        rx.text(
            "You are number ",
            rx.text(CustomerChatState.position.to_string(), as_="span", weight="bold", data_testid="queue-position"),
            " in line for ",
            CustomerChatState.queue_name,
            ". Estimated wait: ",
            CustomerChatState.estimated_wait,
            ".",
        ),
        icon="clock",
        role="status",
        width="100%",
    )


def composer() -> rx.Component:
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
                    on_change=CustomerChatState.typing.debounce(1500),
                ),
                flex="1",
            ),
            rx.button("Send", type="submit"),
            width="100%",
        ),
        on_submit=CustomerChatState.send,
        reset_on_submit=True,
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
                        rx.hstack(*[rx.radio_group.item(str(n), value=str(n), aria_label=f"{n} out of 5") for n in range(1, 6)], spacing="3"),
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


def conversation() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(
                rx.cond(CustomerChatState.agent_name != "", "Chatting with " + CustomerChatState.agent_name, "Support chat"),
                as_="h1",
                size="5",
            ),
            rx.spacer(),
            rx.text(CustomerChatState.number, size="1", color_scheme="gray"),
            width="100%",
            align="center",
        ),
        rx.cond(CustomerChatState.phase == "waiting", waiting_banner()),
        rx.box(
            message_list(CustomerChatState.messages, render=customer_message, label="Conversation"),
            class_name="aw-scroll",
            width="100%",
        ),
        rx.cond(CustomerChatState.agent_typing, rx.text(CustomerChatState.agent_name, " is typing…", size="1", color_scheme="gray", role="status")),
        rx.cond(
            CustomerChatState.phase == "ended",
            rx.vstack(
                rx.callout("This chat has ended. Thank you for contacting us.", icon="circle_check", role="status", width="100%"),
                survey(),
                rx.hstack(
                    rx.link(rx.button("Download transcript", variant="outline"), href=CustomerChatState.transcript_url, is_external=True),
                    rx.button("Start a new chat", variant="soft", on_click=CustomerChatState.new_chat),
                    spacing="3",
                ),
                width="100%",
            ),
            rx.vstack(
                composer(),
                customer_upload(),
                rx.button("End chat", variant="soft", color_scheme="red", on_click=CustomerChatState.end_chat),
                width="100%",
                align="end",
            ),
        ),
        rx.box(
            rx.moment(interval=15000, on_change=CustomerChatState.tick),
            rx.cond(CustomerChatState.agent_typing, rx.moment(interval=2000, on_change=CustomerChatState.tick)),
            display="none",
        ),
        spacing="3",
        width="100%",
    )


def chat() -> rx.Component:
    return rx.el.main(
        rx.center(
            rx.card(
                rx.cond(
                    CustomerChatState.loaded,
                    rx.cond(CustomerChatState.phase == "form", prechat_form(), conversation()),
                    rx.center(rx.spinner(size="3"), padding="32px"),
                ),
                width="100%",
                max_width="640px",
                size="3",
            ),
            padding="16px",
        )
    )
