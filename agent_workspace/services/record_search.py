"""The text search of the record lists: customers by name or email, chats by their words.

Words are looked up in the database's own full-text indexes (migration 0011):
on SQLite the FTS5 tables ``message_fts`` (message bodies) and
``interaction_fts`` (the customer's opening question), tokenizer ``unicode61
remove_diacritics 2`` so "cafe" finds "café"; on PostgreSQL GIN indexes on
``to_tsvector('simple', …)`` of the same columns. What a person typed never
reaches the FTS syntax as written: it is cut into word tokens (letters and
digits only) and each token is quoted, so ``"``, ``AND`` or ``*`` are just text.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import ColumnElement, CompoundSelect, Select, column, func, literal_column, or_, table, union
from sqlalchemy import select as sa_select
from sqlmodel import col

from agent_workspace.models import Customer, Interaction, Message

MAX_WORDS = 8  # more words only narrow the result; each costs an index lookup
_WORD = re.compile(r"[^\W_]+")
_SIMPLE = literal_column("'simple'")  # as written in the GIN index expressions, so the planner matches them

_message_fts = table("message_fts", column("rowid"), column("message_fts"))
_interaction_fts = table("interaction_fts", column("rowid"), column("interaction_fts"))


def words_of(text: str) -> list[str]:
    """The word tokens of ``text`` (NFC, letters and digits), at most ``MAX_WORDS``."""
    return _WORD.findall(unicodedata.normalize("NFC", text))[:MAX_WORDS]


def customer_ids_matching(dialect: str, text: str) -> Select:
    """Customers whose name or email contains ``text``, ignoring case."""
    needle = text.strip()
    return sa_select(col(Customer.id)).where(
        or_(contains_text(dialect, col(Customer.name), needle), contains_text(dialect, col(Customer.email), needle))
    )


def contains_text(dialect: str, column_: ColumnElement[str], needle: str) -> ColumnElement[bool]:
    """``column_`` contains ``needle``, ignoring case, ``%`` and ``_`` taken literally.

    SQLite's LIKE already ignores the case of ASCII letters (its ``lower()``
    knows no others either, and costs a third of the time); PostgreSQL's ILIKE
    ignores it for every letter."""
    if dialect == "sqlite":
        return column_.contains(needle, autoescape=True)
    return column_.ilike("%" + needle.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%", escape="/")


def chat_ids_with_words(dialect: str, words: list[str]) -> list[CompoundSelect]:
    """One query of interaction ids per word: the chats whose question or one of whose
    messages has it (the last word also as a prefix). A chat in all of them has
    every word somewhere in its conversation."""
    chat_ids = _chat_ids_with_word_sqlite if dialect == "sqlite" else _chat_ids_with_word_postgresql
    return [chat_ids(word, prefix=position == len(words) - 1) for position, word in enumerate(words)]


def _chat_ids_with_word_sqlite(word: str, *, prefix: bool) -> CompoundSelect:
    phrase = f'"{word}"*' if prefix else f'"{word}"'
    messages = sa_select(_message_fts.c.rowid).where(_message_fts.c.message_fts.match(phrase))
    return union(
        sa_select(col(Message.interaction_id)).where(col(Message.id).in_(messages)),
        sa_select(_interaction_fts.c.rowid).where(_interaction_fts.c.interaction_fts.match(phrase)),
    )


def _chat_ids_with_word_postgresql(word: str, *, prefix: bool) -> CompoundSelect:
    # ``word`` has letters and digits only, so quoting it makes a valid one-lexeme tsquery.
    query = func.to_tsquery(_SIMPLE, f"'{word}':*") if prefix else func.plainto_tsquery(_SIMPLE, word)
    return union(
        sa_select(col(Message.interaction_id)).where(func.to_tsvector(_SIMPLE, col(Message.body)).op("@@")(query)),
        sa_select(col(Interaction.id)).where(func.to_tsvector(_SIMPLE, col(Interaction.question)).op("@@")(query)),
    )
