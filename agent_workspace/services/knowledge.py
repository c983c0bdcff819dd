"""The knowledge base: article maintenance and the typo-tolerant "Agent Assist" search.

Agents search while chatting, fast and misspelled ("pasword reest", "vnp not
conecting"). Database full-text search (SQLite FTS5, PostgreSQL tsvector) only
matches whole words, so every process keeps an in-memory index instead:

* every article is reduced to stemmed terms; an inverted index maps each term
  to the articles holding it, with a BM25F weight (title counts most, then
  tags and category, then body) precomputed per posting;
* each query word is mapped to close vocabulary terms with rapidfuzz (optimal
  string alignment distance, so a swap of two letters is one edit), a frequent
  correction being preferred over a rare one;
* the articles those terms point at are scored BM25-style and the best few are
  re-ranked with rapidfuzz ``token_set_ratio`` of the corrected query against
  the title.

Only the posting lists of the query's terms are read, which keeps a search
within milliseconds at 100k articles. Edits made by any process reach every
process's index through ``refresh_if_changed``, which reads only the rows
changed since the last look.
"""

from __future__ import annotations

import bisect
import heapq
import json
import math
import os
import re
import tempfile
import threading
import unicodedata
import zlib
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from sqlalchemy import func, insert, update
from sqlmodel import Session, select

from agent_workspace.config import database_url
from agent_workspace.db import session_scope
from agent_workspace.models import KnowledgeArticle, utcnow
from agent_workspace.services import audit
from agent_workspace.services.errors import NotFound, ValidationError

# The starter articles shipped with the product (load them with import_jsonl).
SEED_ARTICLES_FILE = Path(__file__).resolve().parent.parent / "seed_data" / "kb_articles.jsonl"
NUMBER_PATTERN = re.compile(r"KB\d{7}")
_NUMBER_IN_BYTES = re.compile(rb"KB(\d{7})")
FIRST_NUMBER = 10001
TITLE_MAX_CHARS = 200
CATEGORY_MAX_CHARS = 80
TAGS_MAX_CHARS = 500
DEFAULT_CATEGORY = "General"

# A search reads at most this much of the query: enough for any real question.
MAX_QUERY_CHARS = 300
MAX_QUERY_TERMS = 12
# Longer "words" are codes or pasted junk; they only match exactly.
MAX_FUZZY_WORD_CHARS = 24
MAX_VARIANTS_PER_TERM = 8
MAX_PREFIX_COMPLETIONS = 12
RERANK_POOL = 60
SNIPPET_WORDS = 28

# BM25F: a word in the title counts four times one in the body.
TITLE_WEIGHT = 4.0
TAGS_WEIGHT = 2.0
BODY_WEIGHT = 1.0
BM25_K1 = 1.2
BM25_B = 0.75
# Share of the final score taken by the fuzzy title similarity (the rest is BM25F).
TITLE_SIMILARITY_SHARE = 0.2
# How much a frequent correction is preferred over a rare one (0: not at all).
POPULARITY_EXPONENT = 0.15
PREFIX_SIMILARITY = 0.8
# A query word found in this many articles is a real word: taken as typed.
TRUSTED_WORD_ARTICLES = 3
# Words in about three quarters of the articles (idf below this) tell nothing apart.
MIN_IDF = 0.3

# Rebuild the postings once this share of slots belongs to replaced articles.
COMPACT_DEAD_SHARE = 0.25
# A transaction commits within this long of stamping ``updated_at``; rows
# stamped that long before our last look are re-read in case they committed late.
COMMIT_LAG = timedelta(seconds=5)

STOPWORDS = frozenset(
    """a about after again all also am an and any are as at be been before being
    but by can cannot cant could did didnt do does doesnt doing dont for from get
    got had has have having he her here him his how i if im in into is isnt it its
    ive just me more my myself no not of off on once only or our out over please
    she should so some such than that the their them then there these they this
    those through to too up us very was wasnt we were what when where which while
    who why will with wont would you your""".split()
)

_APOSTROPHES = re.compile(r"['\u2019\u02bc]")
_NON_WORD = re.compile(r"[\W_]+")
_HYPHENATED = re.compile(r"\b\w+(?:-\w+)+")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_LINE_MARKER = re.compile(r"(?m)^[ \t]*(?:#{1,6}|>|[-*+])[ \t]+")
_MD_EMPHASIS = re.compile(r"[*_`~]{1,3}")
_WORD_CORE = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)
_STEM_SUFFIXES = (
    ("ational", "ate"),
    ("ations", "ate"),
    ("ation", "ate"),
    ("ments", ""),
    ("ment", ""),
    ("ness", ""),
    ("ings", ""),
    ("ing", ""),
    ("ions", ""),
    ("ion", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("eed", "eed"),
    ("ed", ""),
)


def normalize(text: str) -> str:
    """Lower-case words without accents or punctuation, single-spaced.

    ``"Won't  connect—Café!"`` becomes ``"wont connect cafe"``: what agents type
    and what articles say compare equal whatever their accents and quotes.
    """
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in decomposed if not unicodedata.combining(char))
    text = _APOSTROPHES.sub("", text.casefold())
    return " ".join(_NON_WORD.sub(" ", text).split())


def stem(word: str) -> str:
    """A light suffix stripper, so "connecting", "connection" and "connected" meet.

    Deliberately simple (no Porter rules): the fuzzy matching absorbs what it
    gets wrong, and it must be fast enough to run over every word of 100k
    articles.
    """
    if len(word) <= 4 or not word.isalpha():
        return word
    for suffix, replacement in _STEM_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + replacement
            break
    else:
        if word.endswith(("sses", "xes", "ches", "shes")):
            word = word[:-2]
        elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]  # "setting" -> "sett" -> "set"
    return word


def plain_text(markdown: str) -> str:
    """The readable text of a markdown body, on one line (for indexing and snippets)."""
    text = _MD_LINK.sub(r"\1", markdown)
    text = _MD_LINE_MARKER.sub("", text)
    text = _MD_EMPHASIS.sub("", text)
    return " ".join(text.split())


class ArticleFields(Protocol):
    """What the index needs of an article; ``KnowledgeArticle`` rows qualify."""

    number: str
    title: str
    body: str
    category: str
    tags: str  # comma-separated, as stored
    published: bool


@dataclass(frozen=True)
class SearchHit:
    """One search result; ``snippet_parts`` are (text, is_highlighted) segments, never HTML."""

    number: str
    title: str
    category: str
    score: float  # 0-100
    snippet_parts: list[tuple[str, bool]]


@dataclass(slots=True)
class _IndexedArticle:
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
class _QueryTerm:
    variants: dict[str, float]  # vocabulary term -> confidence it is what was meant (0-1]
    idf: float


class KnowledgeIndex:
    """An in-memory, thread-safe search index over knowledge articles.

    One lock guards the data: a search takes milliseconds and holds the GIL
    for most of it anyway, so a reader-writer lock would buy nothing. A full
    rebuild happens on a private copy that is swapped in, so searches never
    wait for one; database reads happen outside the data lock.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._refresh_lock = threading.Lock()
        self._articles: list[_IndexedArticle | None] = []  # by slot; None once replaced
        self._slot_by_number: dict[str, int] = {}
        self._postings: dict[str, tuple[array, array]] = {}  # term -> (slots, weights)
        self._document_frequency: dict[str, int] = {}
        # Alphabetic terms only: typos are corrected in words, never in codes
        # such as "0x80070005", which would also swamp the buckets.
        self._vocabulary_by_length: dict[int, list[str]] = {}
        self._sorted_vocabulary: list[str] = []
        self._variant_cache: dict[str, dict[str, float]] = {}  # cleared on every change
        self._stems: dict[str, str] = {}
        self._average_lengths = (8.0, 6.0, 200.0)  # title, tags, body; set by a build
        # Database bookkeeping for refresh_if_changed.
        self._last_checked_at: datetime | None = None
        self._updated_at_by_number: dict[str, datetime] = {}

    # ----- building -------------------------------------------------------

    @classmethod
    def from_articles(cls, articles: Iterable[ArticleFields]) -> KnowledgeIndex:
        index = cls()
        index.rebuild(articles)
        return index

    @classmethod
    def from_session(cls, session: Session) -> KnowledgeIndex:
        index = cls()
        index.refresh_if_changed(session)
        return index

    def __len__(self) -> int:
        return len(self._slot_by_number)

    def rebuild(self, articles: Iterable[ArticleFields]) -> None:
        """Replace the whole index with ``articles``."""
        fresh = KnowledgeIndex()
        fresh._stems = self._stems
        prepared = [_prepare(article) for article in articles]
        if prepared:
            count = len(prepared)
            fresh._average_lengths = (
                max(1.0, sum(len(p[0].title.split()) for p in prepared) / count),
                max(1.0, sum(len(p[1].split()) for p in prepared) / count),
                max(1.0, sum(len(p[2].split()) for p in prepared) / count),
            )
        for indexed, tag_text, body_text in prepared:
            fresh._add(indexed, tag_text, body_text)
        fresh._sorted_vocabulary = sorted(fresh._postings)
        with self._lock:
            for name in _INDEX_DATA:
                setattr(self, name, getattr(fresh, name))

    def upsert(self, article: ArticleFields) -> None:
        """Add an article, or replace the indexed version with the same number."""
        indexed, tag_text, body_text = _prepare(article)
        with self._lock:
            self._remove(article.number)
            self._add(indexed, tag_text, body_text, keep_sorted=True)
            self._compact_if_worthwhile()

    def remove(self, number: str) -> None:
        with self._lock:
            self._remove(number)
            self._compact_if_worthwhile()

    def _terms(self, text: str) -> list[str]:
        stems = self._stems
        terms = []
        for word in text.split():
            if word in STOPWORDS or len(word) < 2:
                continue
            term = stems.get(word)
            if term is None:
                term = stems[word] = stem(word)
            terms.append(term)
        return terms

    def _add(
        self, indexed: _IndexedArticle, tag_text: str, body_text: str, *, keep_sorted: bool = False
    ) -> None:
        self._variant_cache.clear()
        slot = len(self._articles)
        self._articles.append(indexed)
        self._slot_by_number[indexed.number] = slot

        title_norm = normalize(indexed.title)
        fields = (
            (self._terms(title_norm + _joined_compounds(indexed.title)), TITLE_WEIGHT),
            (self._terms(normalize(tag_text) + _joined_compounds(tag_text)), TAGS_WEIGHT),
            (self._terms(normalize(body_text) + _joined_compounds(body_text)), BODY_WEIGHT),
        )
        weighted_tf: dict[str, float] = {}
        for (terms, weight), average in zip(fields, self._average_lengths):
            if not terms:
                continue
            per_occurrence = weight / (1 - BM25_B + BM25_B * len(terms) / average)
            for term in terms:
                weighted_tf[term] = weighted_tf.get(term, 0.0) + per_occurrence
        indexed.title_terms = " ".join(self._terms(title_norm))

        for term, tf in weighted_tf.items():
            postings = self._postings.get(term)
            if postings is None:
                postings = self._postings[term] = (array("I"), array("f"))
                if term.isalpha():
                    self._vocabulary_by_length.setdefault(len(term), []).append(term)
                if keep_sorted:
                    bisect.insort(self._sorted_vocabulary, term)
            postings[0].append(slot)
            postings[1].append(tf / (tf + BM25_K1))
            self._document_frequency[term] = self._document_frequency.get(term, 0) + 1

    def _remove(self, number: str) -> None:
        slot = self._slot_by_number.pop(number, None)
        if slot is None:
            return
        self._variant_cache.clear()
        old = self._articles[slot]
        self._articles[slot] = None
        old_terms = set(self._terms(normalize(old.title) + _joined_compounds(old.title)))
        tag_text = _tag_text(old.tags, old.category)
        old_terms.update(self._terms(normalize(tag_text) + _joined_compounds(tag_text)))
        body = old.body_text
        old_terms.update(self._terms(normalize(body) + _joined_compounds(body)))
        for term in old_terms:
            self._document_frequency[term] -= 1

    def _compact_if_worthwhile(self) -> None:
        dead = len(self._articles) - len(self._slot_by_number)
        if dead > 100 and dead > COMPACT_DEAD_SHARE * len(self._articles):
            self.rebuild(
                _StoredArticle(a.number, a.title, a.body_text, a.category, a.tags, a.published)
                for a in self._articles
                if a is not None
            )

    # ----- keeping up with the database ---------------------------------

    def refresh_if_changed(self, session: Session) -> bool:
        """Apply the articles changed in the database since the last look; True if any.

        The first call loads everything. Later calls cost one ``count(*)`` and one
        indexed range query on ``updated_at`` that usually returns no row: rows
        stamped after (our last look - COMMIT_LAG) are compared with what the
        index holds, which also catches a transaction that stamped its rows
        before our last look but committed after it. A row count that no
        longer matches means articles were deleted: rebuild.
        """
        with self._refresh_lock:
            checked_at = utcnow()
            if self._last_checked_at is None:
                self._load_all(session)
                self._last_checked_at = checked_at
                return True
            since = self._last_checked_at - COMMIT_LAG
            stamps = session.exec(
                select(KnowledgeArticle.number, KnowledgeArticle.updated_at).where(
                    KnowledgeArticle.updated_at >= since
                )
            ).all()
            changed = [
                number for number, stamp in stamps if self._updated_at_by_number.get(number) != stamp
            ]
            if len(changed) > max(1000, len(self._slot_by_number) // 10):
                self._load_all(session)  # a bulk import: one rebuild beats many upserts
                self._last_checked_at = checked_at
                return True
            for start in range(0, len(changed), 500):
                rows = session.exec(
                    select(KnowledgeArticle).where(
                        KnowledgeArticle.number.in_(changed[start : start + 500])
                    )
                ).all()
                for row in rows:
                    self.upsert(row)
                    self._updated_at_by_number[row.number] = row.updated_at
            total = session.exec(select(func.count()).select_from(KnowledgeArticle)).one()
            if total != len(self._slot_by_number):
                self._load_all(session)
                changed.append("*")
            self._last_checked_at = checked_at
            return bool(changed)

    def _load_all(self, session: Session) -> None:
        rows = session.exec(
            select(
                KnowledgeArticle.number,
                KnowledgeArticle.title,
                KnowledgeArticle.body,
                KnowledgeArticle.category,
                KnowledgeArticle.tags,
                KnowledgeArticle.published,
                KnowledgeArticle.updated_at,
            )
        ).all()
        self.rebuild(_StoredArticle(*row[:6]) for row in rows)
        self._updated_at_by_number = {row[0]: row[6] for row in rows}

    # ----- searching ------------------------------------------------------

    def search(self, query: str, limit: int = 10, published_only: bool = True) -> list[SearchHit]:
        """The ``limit`` best articles for ``query``, best first; [] for a blank query."""
        words = normalize(query[:MAX_QUERY_CHARS]).split()
        if not words or limit <= 0:
            return []
        with self._lock:
            terms = self._query_terms(words)
            visible = self._visibility(published_only)
            totals = self._bm25_scores(terms, visible)
            ranked = self._rerank(terms, totals, visible) if totals else []
            exact = self._slot_by_number.get(" ".join(words).upper())  # "kb0010001"
            if exact is not None and visible(exact):
                ranked = [(exact, 1.0)] + [item for item in ranked if item[0] != exact]
            ranked = ranked[:limit]
            highlight_terms = {v for term in terms for v in term.variants}
            hits = []
            for slot, score in ranked:
                article = self._articles[slot]
                hits.append(
                    SearchHit(
                        number=article.number,
                        title=article.title,
                        category=article.category,
                        score=round(100 * score, 1),
                        snippet_parts=self._snippet(article.body_text, highlight_terms),
                    )
                )
            return hits

    def _query_terms(self, words: list[str]) -> list[_QueryTerm]:
        """The query's distinct stemmed words with their variants.

        Words found in most articles are dropped when the query has better ones:
        they change no ranking and their posting lists are the longest.
        """
        terms: list[_QueryTerm] = []
        seen: set[str] = set()
        meaningful = [word for word in words if word not in STOPWORDS] or words
        for position, word in enumerate(meaningful[: MAX_QUERY_TERMS * 2]):
            term = stem(word)
            if term in seen:
                continue
            seen.add(term)
            still_typing = position == len(meaningful) - 1
            variants = self._variants(term, complete_prefix=still_typing)
            if variants:
                total = sum(variants.values())
                idf = sum(p * self._idf(v) for v, p in variants.items()) / total
                terms.append(_QueryTerm(variants, idf))
            if len(seen) >= MAX_QUERY_TERMS:
                break
        telling = [term for term in terms if term.idf >= MIN_IDF]
        return telling or terms

    def _idf(self, term: str) -> float:
        df = self._document_frequency.get(term, 0)
        total = len(self._slot_by_number)
        return math.log(1 + (total - df + 0.5) / (df + 0.5))

    def _variants(self, term: str, *, complete_prefix: bool) -> dict[str, float]:
        """Vocabulary terms the query word may stand for, with a confidence each (0-1]."""
        key = f"{term}*" if complete_prefix else term
        cached = self._variant_cache.get(key)
        if cached is None:
            if len(self._variant_cache) > 5000:
                self._variant_cache.clear()
            cached = self._variant_cache[key] = self._find_variants(term, complete_prefix)
        return cached

    def _find_variants(self, term: str, complete_prefix: bool) -> dict[str, float]:
        """A word the knowledge base uses a few times is taken as typed; anything
        else is matched to terms within a few edits (optimal string alignment:
        a swap of two letters is one edit) and, for the word still being typed,
        to terms it begins. Confidence is the similarity nudged towards frequent
        terms: a misspelling is likelier to mean a word the articles use often.
        """
        frequency = self._document_frequency
        similarity: dict[str, float] = {term: 1.0} if frequency.get(term) else {}
        trusted = frequency.get(term, 0) >= TRUSTED_WORD_ARTICLES
        length = len(term)
        if not trusted and 3 <= length <= MAX_FUZZY_WORD_CHARS and term.isalpha():
            max_edits = 1 if length <= 5 else 2 if length <= 9 else 3
            for candidate_length in range(length - max_edits, length + max_edits + 1):
                bucket = self._vocabulary_by_length.get(candidate_length)
                if not bucket:
                    continue
                for word, edits, _ in process.extract(
                    term, bucket, scorer=OSA.distance, score_cutoff=max_edits, limit=None
                ):
                    if edits and frequency.get(word):
                        similarity[word] = 1 - edits / (max(length, candidate_length) + 1)
        if complete_prefix and length >= 3:
            vocabulary = self._sorted_vocabulary
            start = bisect.bisect_left(vocabulary, term)
            for word in vocabulary[start : start + MAX_PREFIX_COMPLETIONS]:
                if not word.startswith(term):
                    break
                if frequency.get(word) and word not in similarity:
                    similarity[word] = PREFIX_SIMILARITY
        if not similarity:
            return {}
        most_frequent = max(frequency[word] for word in similarity)
        confidence = {
            word: sim**3 * (frequency[word] / most_frequent) ** POPULARITY_EXPONENT
            for word, sim in similarity.items()
        }
        best = max(confidence.values())
        kept = heapq.nlargest(MAX_VARIANTS_PER_TERM, confidence.items(), key=itemgetter(1))
        return {word: c / best for word, c in kept if c >= 0.3 * best}

    def _visibility(self, published_only: bool) -> Callable[[int], bool]:
        articles = self._articles
        if published_only:
            return lambda slot: (article := articles[slot]) is not None and article.published
        return lambda slot: articles[slot] is not None

    def _bm25_scores(self, terms: list[_QueryTerm], visible: Callable[[int], bool]) -> dict[int, float]:
        """Sum over query terms of idf x the best-matching variant's BM25F weight.

        MaxScore pruning: terms are taken rarest first. Once the candidates'
        RERANK_POOL-th best total exceeds what all remaining terms together
        could give a new article, no new article can make the pool, so the
        remaining (frequent, long-postings) terms are only looked up for the
        current candidates, by binary search in their sorted posting lists.
        """
        costs = [sum(len(self._postings[v][0]) for v in term.variants) for term in terms]
        by_cost = sorted(zip(costs, terms), key=itemgetter(0))
        bounds = [term.idf * max(term.variants.values()) for _, term in by_cost]
        totals: dict[int, float] = {}
        for position, (cost, term) in enumerate(by_cost):
            lookups = len(totals) * len(term.variants)
            if lookups * 4 < cost and self._pool_threshold(totals, visible) >= sum(bounds[position:]):
                self._add_to_candidates(term, totals)
            else:
                self._add_all(term, totals)
        return totals

    def _pool_threshold(self, totals: dict[int, float], visible: Callable[[int], bool]) -> float:
        pool = _top_visible(totals, visible, RERANK_POOL)
        return pool[-1][1] if len(pool) == RERANK_POOL else 0.0

    def _add_all(self, term: _QueryTerm, totals: dict[int, float]) -> None:
        get = totals.get
        if len(term.variants) == 1:
            ((variant, confidence),) = term.variants.items()
            slots, weights = self._postings[variant]
            factor = term.idf * confidence
            for slot, weight in zip(slots, weights):
                totals[slot] = get(slot, 0.0) + factor * weight
            return
        best: dict[int, float] = {}
        best_get = best.get
        for variant, confidence in term.variants.items():
            slots, weights = self._postings[variant]
            for slot, weight in zip(slots, weights):
                value = confidence * weight
                if value > best_get(slot, 0.0):
                    best[slot] = value
        idf = term.idf
        for slot, value in best.items():
            totals[slot] = get(slot, 0.0) + idf * value

    def _add_to_candidates(self, term: _QueryTerm, totals: dict[int, float]) -> None:
        lists = [(self._postings[v], confidence) for v, confidence in term.variants.items()]
        idf = term.idf
        for slot in totals:
            best = 0.0
            for (slots, weights), confidence in lists:
                i = bisect.bisect_left(slots, slot)
                if i < len(slots) and slots[i] == slot and confidence * weights[i] > best:
                    best = confidence * weights[i]
            if best:
                totals[slot] += idf * best

    def _rerank(
        self, terms: list[_QueryTerm], totals: dict[int, float], visible: Callable[[int], bool]
    ) -> list[tuple[int, float]]:
        """Blend BM25F (scaled to 0-1 by the best possible) with fuzzy title similarity."""
        articles = self._articles
        pool = _top_visible(totals, visible, RERANK_POOL)
        best_possible = sum(term.idf for term in terms) or 1.0
        corrected = " ".join(max(t.variants.items(), key=itemgetter(1))[0] for t in terms)
        ranked = []
        for slot, total in pool:
            relevance = min(1.0, total / best_possible)
            title_similarity = fuzz.token_set_ratio(corrected, articles[slot].title_terms) / 100
            score = (1 - TITLE_SIMILARITY_SHARE) * relevance + TITLE_SIMILARITY_SHARE * title_similarity
            ranked.append((slot, score))
        ranked.sort(key=itemgetter(1), reverse=True)
        return ranked

    def _snippet(self, body_text: str, highlight_terms: set[str]) -> list[tuple[str, bool]]:
        """About SNIPPET_WORDS words of the body around the most matches, highlighted."""
        words = body_text.split(" ")
        matches = [self._word_term(word) in highlight_terms for word in words]
        start = 0
        if len(words) > SNIPPET_WORDS:
            window = best = sum(matches[:SNIPPET_WORDS])
            for i in range(1, len(words) - SNIPPET_WORDS + 1):
                window += matches[i + SNIPPET_WORDS - 1] - matches[i - 1]
                if window > best:
                    best, start = window, i
            start = max(0, start - 3)  # a little lead-in reads better
        end = min(len(words), start + SNIPPET_WORDS)
        parts: list[tuple[str, bool]] = [("… ", False)] if start else []
        for i in range(start, end):
            separator = " " if i < end - 1 else ""
            if matches[i]:
                lead, core, trail = _WORD_CORE.match(words[i]).groups()
                parts += [(lead, False), (core, True), (trail + separator, False)]
            else:
                parts.append((words[i] + separator, False))
        if end < len(words):
            parts.append((" …", False))
        return _merge_parts(parts)

    def _word_term(self, word: str) -> str:
        normalized = normalize(word)
        if not normalized or " " in normalized:
            return normalized
        term = self._stems.get(normalized)
        return term if term is not None else stem(normalized)


# What a rebuild replaces (not the locks, nor the database bookkeeping).
_INDEX_DATA = (
    "_articles",
    "_slot_by_number",
    "_postings",
    "_document_frequency",
    "_vocabulary_by_length",
    "_sorted_vocabulary",
    "_variant_cache",
    "_average_lengths",
)


@dataclass(frozen=True, slots=True)
class _StoredArticle:
    number: str
    title: str
    body: str
    category: str
    tags: str
    published: bool


def _tag_text(tags: str, category: str) -> str:
    return f"{tags.replace(',', ' ')} {category}"


def _joined_compounds(text: str) -> str:
    """" wifi email" for "Wi-Fi e-mail": index hyphenated words both ways."""
    found = _HYPHENATED.findall(text) if "-" in text else ()
    return " " + " ".join(normalize(word.replace("-", "")) for word in found) if found else ""


def _prepare(article: ArticleFields) -> tuple[_IndexedArticle, str, str]:
    body_text = plain_text(article.body)
    indexed = _IndexedArticle(
        number=article.number,
        title=article.title,
        category=article.category,
        tags=article.tags,
        published=bool(article.published),
        title_terms="",
        compressed_body=zlib.compress(body_text.encode(), 1),
    )
    return indexed, _tag_text(article.tags, article.category), body_text


def _top_visible(
    totals: dict[int, float], visible: Callable[[int], bool], count: int
) -> list[tuple[int, float]]:
    """The ``count`` best visible candidates, best first.

    Hidden (unpublished or replaced) articles are rare, so the best 2 x count
    are found by value alone (C speed) and only those are checked.
    """
    wanted = 2 * count
    if len(totals) > wanted:
        threshold = heapq.nlargest(wanted, totals.values())[-1]
        top = [item for item in totals.items() if item[1] >= threshold]
    else:
        top = list(totals.items())
    top.sort(key=itemgetter(1), reverse=True)
    shown = [item for item in top if visible(item[0])]
    if len(shown) < count and len(top) < len(totals):
        shown = sorted((item for item in totals.items() if visible(item[0])), key=itemgetter(1), reverse=True)
    return shown[:count]


def _merge_parts(parts: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    merged: list[tuple[str, bool]] = []
    for text, highlighted in parts:
        if not text:
            continue
        if merged and merged[-1][1] == highlighted:
            merged[-1] = (merged[-1][0] + text, highlighted)
        else:
            merged.append((text, highlighted))
    return merged


# ----- the process-wide index ----------------------------------------------

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


def search(query: str, limit: int = 10, published_only: bool = True) -> list[SearchHit]:
    """Search this process's index as it is (see ``search_articles`` for a fresh one)."""
    return get_index().search(query, limit=limit, published_only=published_only)


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


# ----- articles ------------------------------------------------------------


@dataclass
class LineError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.errors)


def _clean_fields(
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


def _highest_number(session: Session) -> int:
    highest = session.exec(select(func.max(KnowledgeArticle.number))).one()
    return int(highest[2:]) if highest else FIRST_NUMBER - 1


def _format_number(value: int) -> str:
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
    values = _clean_fields(
        number=number, title=title, body=body, category=category, tags=tags, published=published
    )
    article = None
    if number is not None:
        article = session.exec(select(KnowledgeArticle).where(KnowledgeArticle.number == number)).first()
    action = "kb.article_updated"
    if article is None:
        action = "kb.article_created"
        values["number"] = number or _format_number(max(_highest_number(session) + 1, FIRST_NUMBER))
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


def import_jsonl(
    session: Session,
    path: str | os.PathLike[str],
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
    *,
    actor_id: int | None = None,
) -> ImportReport:
    """Create or update articles from a JSON Lines file; one object per line.

    Each line: ``title`` and ``body`` (markdown) required; optional ``number``
    (an existing number is updated), ``category``, ``tags`` (list of strings),
    ``published`` (default true). A bad line is reported with its line number
    and skipped; the good lines are written in batches of ``batch_size``, each
    batch committed whole (this function commits). ``progress(lines_done,
    total_lines)`` is called after every batch.
    """
    if batch_size < 1:
        raise ValidationError("The batch size must be at least 1.")
    path = Path(path)
    # Numbers for unnumbered lines come after every number in the database and
    # in the file, so a later line of the file can never collide with them.
    total_lines = highest_in_file = 0
    with path.open("rb") as lines:
        for total_lines, line in enumerate(lines, start=1):
            for digits in _NUMBER_IN_BYTES.findall(line):
                highest_in_file = max(highest_in_file, int(digits))
    next_number = max(_highest_number(session), highest_in_file, FIRST_NUMBER - 1) + 1

    report = ImportReport()
    batch: dict[str, dict[str, Any]] = {}
    with path.open("rb") as lines:
        for line_number, line in enumerate(lines, start=1):
            try:
                values = _parse_line(line, line_number)
            except ValidationError as error:
                report.errors.append(LineError(line_number, str(error)))
                values = None
            if values is not None:
                if values["number"] is None:
                    values["number"] = _format_number(next_number)
                    next_number += 1
                batch[values["number"]] = values
            if len(batch) >= batch_size:
                _write_batch(session, batch, report)
                batch = {}
                if progress:
                    progress(line_number, total_lines)
    if batch:
        _write_batch(session, batch, report)
    if progress:
        progress(total_lines, total_lines)
    audit.record(
        session,
        action="kb.imported",
        actor_kind="agent" if actor_id else "system",
        actor_id=actor_id,
        file=path.name,
        created=report.created,
        updated=report.updated,
        skipped=report.skipped,
    )
    session.commit()
    return report


def _parse_line(line: bytes, line_number: int) -> dict[str, Any] | None:
    """Validated values of one line, None for a blank line; ValidationError if bad."""
    try:
        text = line.decode("utf-8-sig" if line_number == 1 else "utf-8").strip()
    except UnicodeDecodeError:
        raise ValidationError("not UTF-8 text") from None
    if not text:
        return None
    try:
        item = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationError(f"invalid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(item, dict):
        raise ValidationError("not a JSON object")
    return _clean_fields(
        number=item.get("number"),
        title=item.get("title"),
        body=item.get("body"),
        category=item.get("category"),
        tags=item.get("tags", []),
        published=item.get("published", True),
    )


def _write_batch(session: Session, batch: dict[str, dict[str, Any]], report: ImportReport) -> None:
    """Insert the new numbers and update the known ones: two statements, one commit."""
    existing = dict(
        session.exec(
            select(KnowledgeArticle.number, KnowledgeArticle.id).where(
                KnowledgeArticle.number.in_(list(batch))
            )
        ).all()
    )
    now = utcnow()
    new_rows = [{**values, "updated_at": now} for number, values in batch.items() if number not in existing]
    changed_rows = [
        {**values, "id": existing[number], "updated_at": now}
        for number, values in batch.items()
        if number in existing
    ]
    try:
        if new_rows:
            session.exec(insert(KnowledgeArticle), params=new_rows)
        if changed_rows:
            session.exec(update(KnowledgeArticle), params=changed_rows)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    report.created += len(new_rows)
    report.updated += len(changed_rows)


def article_to_json(article: KnowledgeArticle) -> str:
    """One export line; key order fixed so an export of an import is byte-identical."""
    return json.dumps(
        {
            "number": article.number,
            "title": article.title,
            "category": article.category,
            "tags": [tag for tag in article.tags.split(",") if tag],
            "published": article.published,
            "body": article.body,
        },
        ensure_ascii=False,
    )


def export_jsonl(session: Session, path: str | os.PathLike[str]) -> int:
    """Write every article, by number, in the import format; returns how many.

    Written to a temporary file then renamed, so a failed export never leaves
    a truncated file where a good one was.
    """
    path = Path(path)
    count = 0
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            rows = session.exec(
                select(KnowledgeArticle).order_by(KnowledgeArticle.number).execution_options(yield_per=1000)
            )
            for article in rows:
                out.write(article_to_json(article) + "\n")
                count += 1
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count
