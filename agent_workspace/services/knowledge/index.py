"""The in-memory search index behind "Agent Assist": typo-tolerant, BM25F-ranked.

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
  the title (``scoring.py``).

Only the posting lists of the query's terms are read, so a search never walks
the whole index. Edits made by any process reach every process's index through
``refresh_if_changed``, which reads only the rows changed since the last look.
"""

from __future__ import annotations

import bisect
import heapq
import math
import threading
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter

from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from agent_workspace.models import KnowledgeArticle, utcnow
from agent_workspace.services.knowledge.documents import (
    ArticleFields,
    IndexedArticle,
    StoredArticle,
    prepare_article,
    tag_field_text,
)
from agent_workspace.services.knowledge.scoring import QueryTerm, bm25_scores, rerank
from agent_workspace.services.knowledge.snippets import highlighted_snippet
from agent_workspace.services.knowledge.text import STOPWORDS, joined_compounds, normalize, stem

# A search reads at most this much of the query: enough for any real question.
MAX_QUERY_CHARS = 300
MAX_QUERY_TERMS = 12
# Longer "words" are codes or pasted junk; they only match exactly.
MAX_FUZZY_WORD_CHARS = 24
MAX_VARIANTS_PER_TERM = 8
MAX_PREFIX_COMPLETIONS = 12

# BM25F: a word in the title counts four times one in the body.
TITLE_WEIGHT = 4.0
TAGS_WEIGHT = 2.0
BODY_WEIGHT = 1.0
BM25_K1 = 1.2
BM25_B = 0.75
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


@dataclass(frozen=True)
class SearchHit:
    """One search result; ``snippet_parts`` are (text, is_highlighted) segments, never HTML."""

    number: str
    title: str
    category: str
    score: float  # 0-100
    snippet_parts: list[tuple[str, bool]]


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
        self._articles: list[IndexedArticle | None] = []  # by slot; None once replaced
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
        prepared = [prepare_article(article) for article in articles]
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
        indexed, tag_text, body_text = prepare_article(article)
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

    def _add(self, indexed: IndexedArticle, tag_text: str, body_text: str, *, keep_sorted: bool = False) -> None:
        self._variant_cache.clear()
        slot = len(self._articles)
        self._articles.append(indexed)
        self._slot_by_number[indexed.number] = slot

        title_norm = normalize(indexed.title)
        fields = (
            (self._terms(title_norm + joined_compounds(indexed.title)), TITLE_WEIGHT),
            (self._terms(normalize(tag_text) + joined_compounds(tag_text)), TAGS_WEIGHT),
            (self._terms(normalize(body_text) + joined_compounds(body_text)), BODY_WEIGHT),
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
        old = self._live(slot)
        self._articles[slot] = None
        old_terms = set(self._terms(normalize(old.title) + joined_compounds(old.title)))
        tag_text = tag_field_text(old.tags, old.category)
        old_terms.update(self._terms(normalize(tag_text) + joined_compounds(tag_text)))
        body = old.body_text
        old_terms.update(self._terms(normalize(body) + joined_compounds(body)))
        for term in old_terms:
            self._document_frequency[term] -= 1

    def _compact_if_worthwhile(self) -> None:
        dead = len(self._articles) - len(self._slot_by_number)
        if dead > 100 and dead > COMPACT_DEAD_SHARE * len(self._articles):
            self.rebuild(
                StoredArticle(a.number, a.title, a.body_text, a.category, a.tags, a.published)
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
                select(col(KnowledgeArticle.number), col(KnowledgeArticle.updated_at)).where(
                    col(KnowledgeArticle.updated_at) >= since
                )
            ).all()
            changed = [number for number, stamp in stamps if self._updated_at_by_number.get(number) != stamp]
            if len(changed) > max(1000, len(self._slot_by_number) // 10):
                self._load_all(session)  # a bulk import: one rebuild beats many upserts
                self._last_checked_at = checked_at
                return True
            for start in range(0, len(changed), 500):
                rows = session.exec(
                    select(KnowledgeArticle).where(col(KnowledgeArticle.number).in_(changed[start : start + 500]))
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
        rows = session.execute(
            sa_select(
                col(KnowledgeArticle.number),
                col(KnowledgeArticle.title),
                col(KnowledgeArticle.body),
                col(KnowledgeArticle.category),
                col(KnowledgeArticle.tags),
                col(KnowledgeArticle.published),
                col(KnowledgeArticle.updated_at),
            )
        ).all()
        self.rebuild(StoredArticle(*row[:6]) for row in rows)
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
            totals = bm25_scores(self._postings, terms, visible)
            ranked = rerank(self._articles, terms, totals, visible) if totals else []
            exact = self._slot_by_number.get(" ".join(words).upper())  # "kb0010001"
            if exact is not None and visible(exact):
                ranked = [(exact, 1.0)] + [item for item in ranked if item[0] != exact]
            ranked = ranked[:limit]
            highlight_terms = {v for term in terms for v in term.variants}

            def is_match(word: str) -> bool:
                return self._word_term(word) in highlight_terms

            hits = []
            for slot, score in ranked:
                article = self._live(slot)
                hits.append(
                    SearchHit(
                        number=article.number,
                        title=article.title,
                        category=article.category,
                        score=round(100 * score, 1),
                        snippet_parts=highlighted_snippet(article.body_text, is_match),
                    )
                )
            return hits

    def _query_terms(self, words: list[str]) -> list[QueryTerm]:
        """The query's distinct stemmed words with their variants.

        Words found in most articles are dropped when the query has better ones:
        they change no ranking and their posting lists are the longest.
        """
        terms: list[QueryTerm] = []
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
                terms.append(QueryTerm(variants, idf))
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
            word: sim**3 * (frequency[word] / most_frequent) ** POPULARITY_EXPONENT for word, sim in similarity.items()
        }
        best = max(confidence.values())
        kept = heapq.nlargest(MAX_VARIANTS_PER_TERM, confidence.items(), key=itemgetter(1))
        return {word: c / best for word, c in kept if c >= 0.3 * best}

    def _live(self, slot: int) -> IndexedArticle:
        """The article of a slot that ``_slot_by_number`` or visibility vouches for."""
        article = self._articles[slot]
        if article is None:
            raise LookupError(f"Slot {slot} holds a replaced article.")
        return article

    def _visibility(self, published_only: bool) -> Callable[[int], bool]:
        articles = self._articles
        if published_only:
            return lambda slot: (article := articles[slot]) is not None and article.published
        return lambda slot: articles[slot] is not None

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
