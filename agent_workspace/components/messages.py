"""The conversation: bubbles with sender, time, delivery status and attachments.

Every push replaces a chat's whole message list, so each bubble is a React
memo taking only plain props: React then re-renders just the bubbles whose
text or status changed, not the whole conversation, on every message.
"""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx
from reflex.event import EventSpec

from agent_workspace.state.customer import CustomerChatState
from agent_workspace.state.message_status import MessageStatus
from agent_workspace.state.views import MessageView, TextPart
from agent_workspace.state.workspace import WorkspaceState


def _status(status: rx.Var[str], error: rx.Var[str], retry: EventSpec | None) -> rx.Component:
    failed = [rx.text("Failed: ", error, size="1", color_scheme="red", class_name="aw-status")]
    if retry is not None:
        failed.append(rx.button("Retry", size="1", variant="soft", color_scheme="red", on_click=retry))
    return rx.match(
        status,
        (MessageStatus.SENDING, rx.text("Sending…", size="1", color_scheme="gray", class_name="aw-status")),
        (MessageStatus.FAILED, rx.hstack(*failed, align="center")),
        rx.text("Sent", size="1", color_scheme="gray", class_name="aw-status"),
    )


def _attachment(url: rx.Var[str], name: rx.Var[str], is_image: rx.Var[bool]) -> rx.Component:
    return rx.cond(
        url != "",
        rx.vstack(
            rx.cond(is_image, rx.image(src=url, alt=name, max_width="240px", border_radius="6px")),
            rx.link(name, href=url, is_external=True),
            spacing="1",
        ),
    )


def _external_link(text, href) -> rx.Component:
    """A link out of the chat: a new tab that cannot reach back to this page; underlined,
    so it does not stand out by its colour alone."""
    return rx.link(text, href=href, target="_blank", rel="noopener noreferrer", underline="always")


def _text(body: rx.Var[str], parts: rx.Var[list[TextPart]]) -> rx.Component:
    """The message's text; its links (found once, on the server) as link elements, the rest as text."""
    return rx.text(
        rx.cond(
            parts.length() > 0,
            rx.foreach(parts, lambda part: rx.cond(part.href != "", _external_link(part.text, part.href), part.text)),
            body,
        ),
        white_space="pre-wrap",
        size="2",
        class_name="aw-body",
    )


def _article_card(title: rx.Var[str], summary: rx.Var[str], url: rx.Var[str]) -> rx.Component:
    """A knowledge article sent in the chat: its title, the start of its text and its public page."""
    return rx.box(
        rx.text("Knowledge article", size="1", color_scheme="gray"),
        rx.heading(title, size="2", as_="h4"),
        rx.text(summary, size="2"),
        _external_link("Read the article", url),
        role="article",
        aria_label=title,
        class_name="aw-article-card",
    )


def _bubble(
    *,
    mine_kind: str,
    retry: EventSpec | None,
    mine: rx.Var[bool],
    sender_kind: rx.Var[str],
    sender_name: rx.Var[str],
    body: rx.Var[str],
    parts: rx.Var[list[TextPart]],
    time: rx.Var[str],
    status: rx.Var[str],
    error: rx.Var[str],
    attachment_url: rx.Var[str],
    attachment_name: rx.Var[str],
    is_image: rx.Var[bool],
    article_title: rx.Var[str],
    article_summary: rx.Var[str],
    article_url: rx.Var[str],
) -> rx.Component:
    is_mine = mine
    colleague = (sender_kind == mine_kind) & ~mine  # another agent of this chat, before a transfer
    return rx.cond(
        sender_kind == "system",
        rx.text(body, size="1", color_scheme="gray", align="center", width="100%", class_name="aw-system"),
        rx.box(
            rx.vstack(
                rx.hstack(
                    rx.text(sender_name, weight="bold", size="1"),
                    rx.text(time, size="1", color_scheme="gray"),
                    spacing="2",
                ),
                rx.cond(
                    article_url != "", _article_card(article_title, article_summary, article_url), _text(body, parts)
                ),
                _attachment(attachment_url, attachment_name, is_image),
                rx.cond(is_mine, _status(status, error, retry)),
                spacing="1",
                align="start",
            ),
            class_name=rx.cond(
                is_mine, "aw-bubble aw-mine", rx.cond(colleague, "aw-bubble aw-colleague", "aw-bubble aw-theirs")
            ),
            align_self=rx.cond(is_mine, "flex-end", "flex-start"),
            max_width="80%",
            data_testid="message",
        ),
    )


@rx.memo
def agent_bubble(
    interaction_id: rx.Var[int],
    client_id: rx.Var[str],
    mine: rx.Var[bool],
    sender_kind: rx.Var[str],
    sender_name: rx.Var[str],
    body: rx.Var[str],
    parts: rx.Var[list[TextPart]],
    time: rx.Var[str],
    status: rx.Var[str],
    error: rx.Var[str],
    attachment_url: rx.Var[str],
    attachment_name: rx.Var[str],
    is_image: rx.Var[bool],
    article_title: rx.Var[str],
    article_summary: rx.Var[str],
    article_url: rx.Var[str],
) -> rx.Component:
    """A message in an agent's chat tab; the agent's own failed sends can be retried."""
    return _bubble(
        mine_kind="agent",
        retry=WorkspaceState.retry_message(interaction_id, client_id), mine=mine,
        sender_kind=sender_kind, sender_name=sender_name, body=body, parts=parts, time=time, status=status,
        error=error, attachment_url=attachment_url, attachment_name=attachment_name, is_image=is_image,
        article_title=article_title, article_summary=article_summary, article_url=article_url,
    )  # fmt: skip


@rx.memo
def customer_bubble(
    client_id: rx.Var[str],
    mine: rx.Var[bool],
    sender_kind: rx.Var[str],
    sender_name: rx.Var[str],
    body: rx.Var[str],
    parts: rx.Var[list[TextPart]],
    time: rx.Var[str],
    status: rx.Var[str],
    error: rx.Var[str],
    attachment_url: rx.Var[str],
    attachment_name: rx.Var[str],
    is_image: rx.Var[bool],
    article_title: rx.Var[str],
    article_summary: rx.Var[str],
    article_url: rx.Var[str],
) -> rx.Component:
    """A message on the customer's chat page; the customer's failed sends can be retried."""
    return _bubble(
        mine_kind="customer",
        retry=CustomerChatState.retry(client_id), mine=mine,
        sender_kind=sender_kind, sender_name=sender_name, body=body, parts=parts, time=time, status=status,
        error=error, attachment_url=attachment_url, attachment_name=attachment_name, is_image=is_image,
        article_title=article_title, article_summary=article_summary, article_url=article_url,
    )  # fmt: skip


@rx.memo
def transcript_bubble(
    sender_kind: rx.Var[str],
    sender_name: rx.Var[str],
    body: rx.Var[str],
    parts: rx.Var[list[TextPart]],
    time: rx.Var[str],
    attachment_url: rx.Var[str],
    attachment_name: rx.Var[str],
    is_image: rx.Var[bool],
    article_title: rx.Var[str],
    article_summary: rx.Var[str],
    article_url: rx.Var[str],
) -> rx.Component:
    """A stored message in a read-only transcript."""
    return _bubble(
        mine_kind="agent",
        retry=None, mine=sender_kind == "agent",
        sender_kind=sender_kind, sender_name=sender_name, body=body, parts=parts, time=time,
        status=rx.Var.create(MessageStatus.SENT), error=rx.Var.create(""), attachment_url=attachment_url,
        attachment_name=attachment_name, is_image=is_image, article_title=article_title,
        article_summary=article_summary, article_url=article_url,
    )  # fmt: skip


def _shown(m: MessageView) -> dict:
    return {
        "sender_kind": m.sender_kind,
        "sender_name": m.sender_name,
        "body": m.body,
        "parts": m.parts,
        "time": m.time,
        "attachment_url": m.attachment_url,
        "attachment_name": m.attachment_name,
        "is_image": m.is_image,
        "article_title": m.article_title,
        "article_summary": m.article_summary,
        "article_url": m.article_url,
    }


def agent_message(interaction_id: rx.Var[int]) -> Callable[[MessageView], rx.Component]:
    return lambda m: agent_bubble(
        interaction_id=interaction_id, client_id=m.client_id, mine=m.mine, status=m.status, error=m.error, **_shown(m)
    )


def customer_message(m: MessageView) -> rx.Component:
    return customer_bubble(client_id=m.client_id, mine=m.mine, status=m.status, error=m.error, **_shown(m))


def transcript_message(m: MessageView) -> rx.Component:
    return transcript_bubble(**_shown(m))


def message_list(messages, *, render: Callable[[MessageView], rx.Component], label: str) -> rx.Component:
    return rx.vstack(
        rx.foreach(messages, render),
        role="log",
        aria_live="polite",
        aria_label=label,
        spacing="2",
        width="100%",
        padding="8px",
        class_name="aw-messages",
    )


def conversation_box(log: rx.Component, pending: rx.Component) -> rx.Component:
    """The scrolled conversation: its messages, then the texts not yet sent (the
    outbox) at its end. One inner block, so the box's column-reverse keeps the
    end in view without reversing the two."""
    return rx.box(
        rx.el.div(log, pending),
        class_name="aw-scroll",
        tab_index=0,  # a scrolled conversation scrolls from the keyboard too
        width="100%",
    )
