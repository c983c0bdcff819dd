"""The knowledge base: article maintenance and the typo-tolerant "Agent Assist" search.

``index`` explains how the search works; ``sync`` keeps one index per process
up to date with the database; ``articles`` and ``jsonl`` write the articles.
Callers import from here.
"""

from agent_workspace.services.knowledge.articles import ArticleCard, article_cards, get_article, upsert_article
from agent_workspace.services.knowledge.index import MAX_QUERY_CHARS, KnowledgeIndex, SearchHit
from agent_workspace.services.knowledge.jsonl import SEED_ARTICLES_FILE, export_jsonl, import_jsonl
from agent_workspace.services.knowledge.snippets import SNIPPET_WORDS
from agent_workspace.services.knowledge.sync import get_index, refresh_if_changed, search_articles
from agent_workspace.services.knowledge.text import STOPWORDS, normalize

__all__ = [
    "MAX_QUERY_CHARS",
    "SEED_ARTICLES_FILE",
    "SNIPPET_WORDS",
    "STOPWORDS",
    "ArticleCard",
    "KnowledgeIndex",
    "SearchHit",
    "article_cards",
    "export_jsonl",
    "get_article",
    "get_index",
    "import_jsonl",
    "normalize",
    "refresh_if_changed",
    "search_articles",
    "upsert_article",
]
