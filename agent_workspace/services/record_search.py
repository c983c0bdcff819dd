"""The text search of the record lists: customers by name or email, chats by their words.

Words are looked up in the database's own full-text indexes (migration 0011),
over the texts people see: on SQLite the FTS5 tables ``message_fts`` (message
bodies), ``interaction_fts`` (a chat's question, summary, work notes and
transfer note) and ``support_record_fts`` (a case's short description,
description and resolution notes), tokenizer ``unicode61 remove_diacritics 2``
so "cafe" finds "café"; on PostgreSQL GIN indexes on ``to_tsvector('simple',
…)`` of the same columns joined by spaces (the 'simple' configuration folds
case but not accents: there "cafe" does not find "café"). Chats and cases
match words the same way. What a person typed never
reaches the FTS syntax as written: it is cut into word tokens (letters and
digits only) and each token is quoted, so ``"``, ``AND`` or ``*`` are just text.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    CompoundSelect,
    Select,
    SQLColumnExpression,
    column,
    func,
    literal_column,
    or_,
    table,
    union,
)
from sqlalchemy import select as sa_select
from sqlmodel import col

from agent_workspace.models import Customer, Interaction, Message, SupportRecord

MAX_WORDS = 8  # more words only narrow the result; each costs an index lookup
MIN_PREFIX = 3  # a shorter last word is matched whole: "e*" would read most of the index
_WORD = re.compile(r"[^\W_]+")
_SIMPLE: ColumnClause[str] = literal_column(
    "'simple'"
)  # as written in the GIN index expressions, so the planner matches them

_message_fts = table("message_fts", column("rowid"), column("message_fts"))
_interaction_fts = table("interaction_fts", column("rowid"), column("interaction_fts"))
_support_record_fts = table("support_record_fts", column("rowid"), column("support_record_fts"))
# PostgreSQL: the documents of the GIN indexes, as migration 0011 writes them.
_INTERACTION_DOCUMENT = "interaction.question || ' ' || interaction.short_description || ' ' || interaction.work_notes || ' ' || interaction.transfer_note"
_SUPPORT_RECORD_DOCUMENT = (
    "support_record.short_description || ' ' || support_record.description || ' ' || support_record.resolution_notes"
)


def words_of(text: str) -> list[str]:
    """The word tokens of ``text`` (NFC, letters and digits), at most ``MAX_WORDS``."""
    return _WORD.findall(unicodedata.normalize("NFC", text))[:MAX_WORDS]


def customer_ids_matching(dialect: str, text: str) -> Select:
    """Customers whose name or email contains ``text``, ignoring case.

    SQLite's LIKE folds ASCII letters only: a needle with other letters is also
    tried all lower and all upper case, so "JÜRGEN" finds "Jürgen"."""
    needle = text.strip()
    needles = {needle, needle.lower(), needle.upper()} if dialect == "sqlite" and not needle.isascii() else {needle}
    return sa_select(col(Customer.id)).where(
        or_(
            *(
                _contains_text(dialect, column_, each)
                for each in sorted(needles)
                for column_ in (col(Customer.name), col(Customer.email))
            )
        )
    )


def _contains_text(dialect: str, column_: SQLColumnExpression[str], needle: str) -> ColumnElement[bool]:
    """``column_`` contains ``needle``, ignoring case, ``%`` and ``_`` taken literally.

    SQLite's LIKE already ignores the case of ASCII letters (its ``lower()``
    knows no others either, and costs a third of the time); PostgreSQL's ILIKE
    ignores it for every letter."""
    if dialect == "sqlite":
        return column_.contains(needle, autoescape=True)
    return column_.ilike("%" + needle.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%", escape="/")


def chat_ids_with_words(dialect: str, words: list[str]) -> list[CompoundSelect]:
    """One query of interaction ids per word: the chats whose question, summary, notes
    or one of whose messages has it (the last word also as a prefix, from
    ``MIN_PREFIX`` letters). A chat in all of them has every word somewhere."""
    chat_ids = _chat_ids_with_word_sqlite if dialect == "sqlite" else _chat_ids_with_word_postgresql
    return [chat_ids(word, prefix=_as_prefix(words, position)) for position, word in enumerate(words)]


def record_ids_with_words(dialect: str, words: list[str]) -> list[Select]:
    """One query of case/incident ids per word: those whose short description,
    description or resolution notes have it (the last word as for chats)."""
    return [
        _record_ids_with_word(dialect, word, prefix=_as_prefix(words, position)) for position, word in enumerate(words)
    ]


def _record_ids_with_word(dialect: str, word: str, *, prefix: bool) -> Select:
    if dialect == "sqlite":
        return sa_select(_support_record_fts.c.rowid).where(
            _support_record_fts.c.support_record_fts.match(_phrase(word, prefix=prefix))
        )
    document = func.to_tsvector(_SIMPLE, literal_column(_SUPPORT_RECORD_DOCUMENT))
    return sa_select(col(SupportRecord.id)).where(document.op("@@")(_tsquery(word, prefix=prefix)))


def _as_prefix(words: list[str], position: int) -> bool:
    return position == len(words) - 1 and len(words[position]) >= MIN_PREFIX


def _phrase(word: str, *, prefix: bool) -> str:
    """An FTS5 query of one quoted token (``word`` has letters and digits only)."""
    return f'"{word}"*' if prefix else f'"{word}"'


def _tsquery(word: str, *, prefix: bool) -> ColumnElement:
    # ``word`` has letters and digits only, so quoting it makes a valid one-lexeme tsquery.
    return func.to_tsquery(_SIMPLE, f"'{word}':*") if prefix else func.plainto_tsquery(_SIMPLE, word)


def _chat_ids_with_word_sqlite(word: str, *, prefix: bool) -> CompoundSelect:
    phrase = _phrase(word, prefix=prefix)
    messages = sa_select(_message_fts.c.rowid).where(_message_fts.c.message_fts.match(phrase))
    return union(
        sa_select(col(Message.interaction_id)).where(col(Message.id).in_(messages)),
        sa_select(_interaction_fts.c.rowid).where(_interaction_fts.c.interaction_fts.match(phrase)),
    )


def _chat_ids_with_word_postgresql(word: str, *, prefix: bool) -> CompoundSelect:
    query = _tsquery(word, prefix=prefix)
    return union(
        sa_select(col(Message.interaction_id)).where(func.to_tsvector(_SIMPLE, col(Message.body)).op("@@")(query)),
        sa_select(col(Interaction.id)).where(
            func.to_tsvector(_SIMPLE, literal_column(_INTERACTION_DOCUMENT)).op("@@")(query)
        ),
    )
