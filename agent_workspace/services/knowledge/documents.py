"""The forms an article takes inside the index: what it needs, what it keeps, how it is prepared."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Protocol

from agent_workspace.services.knowledge.text import plain_text


class ArticleFields(Protocol):
    """What the index needs of an article (read only); ``KnowledgeArticle`` rows qualify."""

    @property
    def number(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def tags(self) -> str: ...  # comma-separated, as stored
    @property
    def published(self) -> bool: ...


@dataclass(slots=True)
class IndexedArticle:
    """An article as the index keeps it: display fields, re-rank terms and the compressed body."""

    number: str
    title: str
    category: str
    tags: str
    published: bool
    title_terms: str  # stemmed title, for the fuzzy re-rank
    compressed_body: bytes  # zlib of plain_text(body): a third of the memory

    @property
    def body_text(self) -> str:
        return zlib.decompress(self.compressed_body).decode()


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """The columns of a database row (or an indexed article) to index again."""

    number: str
    title: str
    body: str
    category: str
    tags: str
    published: bool


def tag_field_text(tags: str, category: str) -> str:
    """The tags and the category as one field: they are weighted alike."""
    return f"{tags.replace(',', ' ')} {category}"


def prepare_article(article: ArticleFields) -> tuple[IndexedArticle, str, str]:
    """The indexed form of ``article``, with its tag text and plain body text to take terms from."""
    body_text = plain_text(article.body)
    indexed = IndexedArticle(
        number=article.number,
        title=article.title,
        category=article.category,
        tags=article.tags,
        published=bool(article.published),
        title_terms="",
        compressed_body=zlib.compress(body_text.encode(), 1),
    )
    return indexed, tag_field_text(article.tags, article.category), body_text
