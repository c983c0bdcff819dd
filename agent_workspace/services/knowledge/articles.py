"""Creating, updating and reading knowledge articles, with their validation and KB numbers."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from agent_workspace.models import KnowledgeArticle, utcnow
from agent_workspace.services import audit
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.errors import NotFound, ValidationError
from agent_workspace.services.knowledge.text import plain_text

NUMBER_PATTERN = re.compile(r"KB\d{7}")
FIRST_NUMBER = 10001
TITLE_MAX_CHARS = 200
CATEGORY_MAX_CHARS = 80
TAGS_MAX_CHARS = 500
DEFAULT_CATEGORY = "General"
SUMMARY_MAX_CHARS = 180
_HEADING_LINE = re.compile(r"^[ \t]*#.*$", re.MULTILINE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def clean_fields(
    *,
    number: Any,
    title: Any,
    body: Any,
    category: Any,
    tags: Any,
    published: Any,
) -> dict[str, Any]:
    """Validated column values for an article; raises ValidationError saying what is wrong."""
    if number is not None and (not isinstance(number, str) or not NUMBER_PATTERN.fullmatch(number)):
        raise ValidationError(f"Article number {number!r} is not like KB0010001.")
    if not isinstance(title, str) or not title.strip():
        raise ValidationError("An article needs a title.")
    title = " ".join(title.split())
    if len(title) > TITLE_MAX_CHARS:
        raise ValidationError(f"The title is longer than {TITLE_MAX_CHARS} characters.")
    if not isinstance(body, str) or not body.strip():
        raise ValidationError("An article needs a body.")
    if category is None:
        category = DEFAULT_CATEGORY
    if not isinstance(category, str):
        raise ValidationError("The category must be text.")
    category = " ".join(category.split()) or DEFAULT_CATEGORY
    if len(category) > CATEGORY_MAX_CHARS:
        raise ValidationError(f"The category is longer than {CATEGORY_MAX_CHARS} characters.")
    if isinstance(tags, str) or not isinstance(tags, Sequence):
        raise ValidationError("Tags must be a list of words.")
    cleaned_tags: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise ValidationError("Tags must be a list of words.")
        tag = " ".join(tag.replace(",", " ").split())
        if tag and tag not in cleaned_tags:
            cleaned_tags.append(tag)
    joined_tags = ",".join(cleaned_tags)
    if len(joined_tags) > TAGS_MAX_CHARS:
        raise ValidationError(f"The tags are longer than {TAGS_MAX_CHARS} characters together.")
    if not isinstance(published, bool):
        raise ValidationError("'published' must be true or false.")
    return {
        "number": number,
        "title": title,
        "body": body,
        "category": category,
        "tags": joined_tags,
        "published": published,
    }


def highest_number(session: Session) -> int:
    """The highest article number in use (as an integer), or the one before the first."""
    highest = session.exec(select(func.max(KnowledgeArticle.number))).one()
    return int(highest[2:]) if highest else FIRST_NUMBER - 1


def format_number(value: int) -> str:
    """``KB0010001`` for 10001; ValidationError once the seven digits run out."""
    if value > 9_999_999:
        raise ValidationError("Knowledge article numbers are exhausted (KB9999999).")
    return f"KB{value:07d}"


def upsert_article(
    session: Session,
    *,
    number: str | None = None,
    title: str,
    body: str,
    category: str = DEFAULT_CATEGORY,
    tags: Sequence[str] = (),
    published: bool = True,
    actor_id: int | None = None,
) -> KnowledgeArticle:
    """Create an article (a new KB number) or update the one with ``number``.

    Runs in the caller's transaction; every process's index picks the change up
    on its next ``search_articles``.
    """
    values = clean_fields(number=number, title=title, body=body, category=category, tags=tags, published=published)
    article = None
    if number is not None:
        article = session.exec(select(KnowledgeArticle).where(KnowledgeArticle.number == number)).first()
    action = AuditAction.KB_ARTICLE_UPDATED
    if article is None:
        action = AuditAction.KB_ARTICLE_CREATED
        values["number"] = number or format_number(max(highest_number(session) + 1, FIRST_NUMBER))
        article = KnowledgeArticle(**values)
    else:
        for name, value in values.items():
            setattr(article, name, value)
    article.updated_at = utcnow()
    session.add(article)
    session.flush()
    audit.record(
        session,
        action=action,
        actor_kind="agent" if actor_id else "system",
        actor_id=actor_id,
        target_kind="knowledge_article",
        target_id=article.id,
        number=article.number,
    )
    return article


def get_article(session: Session, number: str, published_only: bool = True) -> KnowledgeArticle:
    """The article with ``number``; NotFound if missing or (when asked) unpublished."""
    article = session.exec(select(KnowledgeArticle).where(KnowledgeArticle.number == number)).first()
    if article is None or (published_only and not article.published):
        raise NotFound(f"There is no knowledge article {number}.")
    return article


@dataclass(frozen=True)
class ArticleCard:
    """What a chat shows of an article sent in it: its title and the start of its text."""

    number: str
    title: str
    summary: str


def summary(body: str, limit: int = SUMMARY_MAX_CHARS) -> str:
    """The article's first paragraph of text (headings skipped) as plain text, cut
    at a word with an ellipsis when longer than ``limit``."""
    without_headings = _HEADING_LINE.sub("\n", body)
    text = next((p for p in map(plain_text, _PARAGRAPH_BREAK.split(without_headings)) if p), "")
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,.;:") + "…"


def article_cards(session: Session, numbers: Collection[str]) -> dict[str, ArticleCard]:
    """The published ones of these articles, by number, in one statement (none for no numbers)."""
    if not numbers:
        return {}
    rows = session.exec(
        select(KnowledgeArticle.number, KnowledgeArticle.title, KnowledgeArticle.body).where(
            col(KnowledgeArticle.number).in_(sorted(set(numbers))), col(KnowledgeArticle.published).is_(True)
        )
    ).all()
    return {number: ArticleCard(number, title, summary(body)) for number, title, body in rows}
