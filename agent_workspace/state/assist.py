"""Agent Assist: knowledge-base search beside the chat, and sending an article in it."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import reflex as rx

from agent_workspace.models import Interaction, SenderKind
from agent_workspace.security import Access, access
from agent_workspace.services import audit, conversations, knowledge
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.errors import NotFound, ServiceError
from agent_workspace.state.common import run_action, run_query
from agent_workspace.state.views import article_url
from agent_workspace.state.workspace import WorkspaceState

RESULTS = 10
AUTO_QUERY_MESSAGES = 3


@dataclasses.dataclass
class SnippetPart:
    text: str = ""
    highlighted: bool = False


@dataclasses.dataclass
class AssistHit:
    number: str = ""
    title: str = ""
    category: str = ""
    score: int = 0
    snippet: list[SnippetPart] = dataclasses.field(default_factory=list)


def _auto_query(session, *, interaction_id: int, user_id: int) -> str:
    """The chat's short description plus the customer's latest messages."""
    item = session.get(Interaction, interaction_id)
    if item is None or item.agent_id != user_id:
        raise NotFound("That chat is not yours.")
    latest = [
        m.body
        for m in conversations.messages_after(session, interaction_id=interaction_id)
        if m.sender_kind == SenderKind.CUSTOMER and not m.attachment_id
    ][-AUTO_QUERY_MESSAGES:]
    return " ".join([item.short_description, *latest]).strip()


def _published(session, *, number: str) -> tuple[str, str, str]:
    article = knowledge.get_article(session, number, published_only=True)
    return article.number, article.title, article.body


def _send_article(session, *, interaction_id: int, user_id: int, number: str) -> None:
    """The article's link as the agent's message, audited in the same transaction."""
    article = knowledge.get_article(session, number, published_only=True)
    audit.record(
        session,
        action=AuditAction.INTERACTION_ARTICLE_SENT,
        actor_kind="agent",
        actor_id=user_id,
        target_kind="interaction",
        target_id=interaction_id,
        article=article.number,
    )
    conversations.post_message(
        session,
        interaction_id=interaction_id,
        sender_kind=SenderKind.AGENT,
        sender_user_id=user_id,
        body=f"This article may help: {article.title} — {article_url(article.number)}",
        client_id=f"kb-{uuid.uuid4().hex}",
        article_number=article.number,
    )


def _hit(hit: knowledge.SearchHit) -> AssistHit:
    return AssistHit(
        number=hit.number,
        title=hit.title,
        category=hit.category,
        score=round(hit.score),
        snippet=[SnippetPart(text, highlighted) for text, highlighted in hit.snippet_parts],
    )


@access(Access.WORKSPACE, owner=WorkspaceState)
class AssistState(rx.State):
    interaction_id: int = 0
    query: str = ""
    results: list[AssistHit] = []
    searching: bool = False
    article_number: str = ""
    article_title: str = ""
    article_body: str = ""
    error: str = ""

    async def _search(self, query: str) -> None:
        self.searching = True
        hits = await asyncio.to_thread(knowledge.search_articles, query, RESULTS)
        self.results = [_hit(h) for h in hits]
        self.searching = False

    @rx.event
    async def open_for(self, interaction_id: int):
        """Opening the Assist tab searches on the chat's description and latest messages."""
        workspace = await self.get_state(WorkspaceState)
        workspace._show_child_tab(int(interaction_id), "assist")
        if self.interaction_id == int(interaction_id) and self.results:
            return
        self.interaction_id = int(interaction_id)
        self.article_number = ""
        try:
            self.query = await run_query(_auto_query, interaction_id=self.interaction_id, user_id=await workspace._me())
        except ServiceError as error:
            self.error = str(error)
            return
        await self._search(self.query)

    @rx.event
    async def search_from_chat(self, interaction_id: int, query: str):
        """/kb in the composer: open Assist on this chat and search for what was typed."""
        workspace = await self.get_state(WorkspaceState)
        workspace._show_child_tab(int(interaction_id), "assist")
        self.interaction_id = int(interaction_id)
        self.article_number = ""
        self.query = str(query)[: knowledge.MAX_QUERY_CHARS]
        await self._search(self.query)

    @rx.event
    async def search(self, query: str):
        self.query = query[: knowledge.MAX_QUERY_CHARS]
        await self._search(self.query)

    @rx.event
    async def open_article(self, number: str):
        try:
            self.article_number, self.article_title, self.article_body = await run_query(
                _published, number=str(number)[:20]
            )
        except ServiceError as error:
            self.error = str(error)

    @rx.event
    def close_article(self):
        self.article_number = ""

    @rx.event
    async def send_in_chat(self, number: str):
        workspace = await self.get_state(WorkspaceState)
        try:
            await run_action(
                _send_article,
                interaction_id=self.interaction_id,
                user_id=await workspace._me(),
                number=str(number)[:20],
            )
        except ServiceError as error:
            return rx.toast.error(str(error))
        await workspace._refresh()
        return rx.toast.success("Article sent in the chat.")
