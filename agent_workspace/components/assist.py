"""Agent Assist: knowledge-base search beside the chat."""

from __future__ import annotations

import reflex as rx

from agent_workspace.components.shortcut_targets import Target, shortcut_target
from agent_workspace.state.assist import AssistHit, AssistState
from agent_workspace.state.views import ChatTab


def _hit(hit: AssistHit) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(hit.number, size="1", color_scheme="gray"),
                rx.badge(hit.category, variant="soft"),
                rx.spacer(),
                rx.text(hit.score.to_string(), "%", size="1", color_scheme="gray", title="match"),
                width="100%",
            ),
            rx.heading(hit.title, size="2", as_="h4"),
            rx.text(
                rx.foreach(
                    hit.snippet, lambda part: rx.cond(part.highlighted, rx.el.mark(part.text), rx.text.span(part.text))
                ),
                size="1",
            ),
            rx.hstack(
                rx.button(
                    "Open",
                    size="1",
                    variant="soft",
                    on_click=AssistState.open_article(hit.number),
                    aria_label="Open " + hit.title,
                ),
                rx.button(
                    "Send in chat",
                    size="1",
                    on_click=AssistState.send_in_chat(hit.number),
                    aria_label="Send in chat: " + hit.title,
                ),
                spacing="2",
            ),
            spacing="1",
            width="100%",
        ),
        width="100%",
        data_testid="assist-result",
    )


def _article() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.button("Back to results", size="1", variant="ghost", on_click=AssistState.close_article),
            rx.spacer(),
            rx.button("Send in chat", size="1", on_click=AssistState.send_in_chat(AssistState.article_number)),
            width="100%",
        ),
        rx.heading(AssistState.article_title, size="3", as_="h4"),
        rx.text(AssistState.article_number, size="1", color_scheme="gray"),
        rx.box(rx.markdown(AssistState.article_body, use_raw=False), class_name="aw-article"),
        spacing="2",
        width="100%",
        role="article",
        aria_label=AssistState.article_title,
    )


def assist_panel(tab: ChatTab) -> rx.Component:
    return rx.vstack(
        rx.el.label("Search the knowledge base", html_for="assist-query", class_name="aw-label"),
        rx.input(
            id="assist-query",
            type="search",
            value=AssistState.query,
            on_change=AssistState.search.debounce(300),
            placeholder="e.g. password reset",
            width="100%",
            **shortcut_target(Target.ASSIST_SEARCH),
        ),
        rx.cond(AssistState.searching, rx.hstack(rx.spinner(size="1"), rx.text("Searching…", size="1"), role="status")),
        rx.cond(
            AssistState.article_number != "",
            _article(),
            rx.cond(
                AssistState.results.length() > 0,
                rx.vstack(
                    rx.foreach(AssistState.results, _hit), spacing="2", width="100%", aria_label="Knowledge articles"
                ),
                rx.text("No matching articles.", size="2", color_scheme="gray"),
            ),
        ),
        spacing="2",
        width="100%",
    )
