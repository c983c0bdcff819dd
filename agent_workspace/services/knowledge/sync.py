"""This process's index of the configured database, and the searches the app runs on it."""

from __future__ import annotations

import threading

from sqlmodel import Session

from agent_workspace.config import database_url
from agent_workspace.db import session_scope
from agent_workspace.services.knowledge.index import MAX_QUERY_CHARS, KnowledgeIndex, SearchHit
from agent_workspace.services.knowledge.text import normalize

_global_lock = threading.Lock()
_global_index: tuple[str, KnowledgeIndex] | None = None


def get_index() -> KnowledgeIndex:
    """This process's index of the configured database, loaded on first use."""
    global _global_index
    url = database_url()
    with _global_lock:
        if _global_index is None or _global_index[0] != url:
            with session_scope(writer=False) as session:
                _global_index = (url, KnowledgeIndex.from_session(session))
        return _global_index[1]


def refresh_if_changed(session: Session, index: KnowledgeIndex | None = None) -> bool:
    """Bring ``index`` (default: this process's) up to date with the database."""
    return (index or get_index()).refresh_if_changed(session)


def search_articles(query: str, limit: int = 10) -> list[SearchHit]:
    """What the UI calls: published articles, including edits made by any process.

    Blocking (database and CPU); call it through ``asyncio.to_thread``.
    """
    if not normalize(query[:MAX_QUERY_CHARS]):
        return []
    index = get_index()
    with session_scope(writer=False) as session:
        index.refresh_if_changed(session)
    return index.search(query, limit=limit, published_only=True)
