"""/kb/<number>: a published knowledge article, public and read-only."""

from __future__ import annotations

import reflex as rx

from agent_workspace.security import Access, access
from agent_workspace.services import knowledge
from agent_workspace.services.errors import ServiceError
from agent_workspace.state.common import run_query


def _published(session, *, number: str) -> tuple[str, str, str, str]:
    article = knowledge.get_article(session, number, published_only=True)
    return article.number, article.title, article.category, article.body


@access(Access.PUBLIC)
class ArticlePageState(rx.State):
    """Only published articles, looked up by the number in the URL."""

    found: bool = False
    loaded: bool = False
    article_number: str = ""
    title: str = ""
    category: str = ""
    body: str = ""

    @rx.event
    async def load(self):
        number = str(self.router.url.path).rstrip("/").rsplit("/", 1)[-1][:20]
        try:
            self.article_number, self.title, self.category, self.body = await run_query(_published, number=number)
            self.found = True
        except ServiceError:
            self.found = False
            self.article_number, self.title, self.category, self.body = number, "", "", ""
        self.loaded = True


def kb_article() -> rx.Component:
    return rx.el.main(
        rx.center(
            rx.card(
                rx.cond(
                    ArticlePageState.loaded,
                    rx.cond(
                        ArticlePageState.found,
                        rx.vstack(
                            rx.text(
                                ArticlePageState.article_number,
                                " · ",
                                ArticlePageState.category,
                                size="1",
                                color_scheme="gray",
                            ),
                            rx.heading(ArticlePageState.title, as_="h1", size="6"),
                            rx.box(rx.markdown(ArticlePageState.body, use_raw=False), class_name="aw-article"),
                            rx.link("Chat with support", href="/chat"),
                            spacing="3",
                        ),
                        rx.vstack(
                            rx.heading("Article not found", as_="h1", size="5"),
                            rx.text("This article does not exist or is not published."),
                            rx.link("Chat with support", href="/chat"),
                        ),
                    ),
                    rx.spinner(size="3"),
                ),
                width="100%",
                max_width="760px",
                size="3",
            ),
            padding="16px",
        )
    )
