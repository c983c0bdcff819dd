"""Ranking a query's terms against the posting lists: BM25F with MaxScore pruning, then a fuzzy title re-rank.

Pure functions over the index's data, called with its lock held; the index
(``index.py``) decides which terms a query stands for, these decide the order.
"""

from __future__ import annotations

import bisect
import heapq
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from rapidfuzz import fuzz

from agent_workspace.services.knowledge.documents import IndexedArticle

RERANK_POOL = 60
# Share of the final score taken by the fuzzy title similarity (the rest is BM25F).
TITLE_SIMILARITY_SHARE = 0.2

Postings = dict[str, tuple[array, array]]  # term -> (slots, weights)


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """One query word: what it may stand for and how telling it is."""

    variants: dict[str, float]  # vocabulary term -> confidence it is what was meant (0-1]
    idf: float


def bm25_scores(postings: Postings, terms: list[QueryTerm], visible: Callable[[int], bool]) -> dict[int, float]:
    """Sum over query terms of idf x the best-matching variant's BM25F weight.

    MaxScore pruning: terms are taken rarest first. Once the candidates'
    RERANK_POOL-th best total exceeds what all remaining terms together
    could give a new article, no new article can make the pool, so the
    remaining (frequent, long-postings) terms are only looked up for the
    current candidates, by binary search in their sorted posting lists.
    """
    costs = [sum(len(postings[v][0]) for v in term.variants) for term in terms]
    by_cost = sorted(zip(costs, terms), key=itemgetter(0))
    bounds = [term.idf * max(term.variants.values()) for _, term in by_cost]
    totals: dict[int, float] = {}
    for position, (cost, term) in enumerate(by_cost):
        lookups = len(totals) * len(term.variants)
        if lookups * 4 < cost and _pool_threshold(totals, visible) >= sum(bounds[position:]):
            _add_to_candidates(postings, term, totals)
        else:
            _add_all(postings, term, totals)
    return totals


def _pool_threshold(totals: dict[int, float], visible: Callable[[int], bool]) -> float:
    pool = _top_visible(totals, visible, RERANK_POOL)
    return pool[-1][1] if len(pool) == RERANK_POOL else 0.0


def _add_all(postings: Postings, term: QueryTerm, totals: dict[int, float]) -> None:
    get = totals.get
    if len(term.variants) == 1:
        ((variant, confidence),) = term.variants.items()
        slots, weights = postings[variant]
        factor = term.idf * confidence
        for slot, weight in zip(slots, weights):
            totals[slot] = get(slot, 0.0) + factor * weight
        return
    best: dict[int, float] = {}
    best_get = best.get
    for variant, confidence in term.variants.items():
        slots, weights = postings[variant]
        for slot, weight in zip(slots, weights):
            value = confidence * weight
            if value > best_get(slot, 0.0):
                best[slot] = value
    idf = term.idf
    for slot, value in best.items():
        totals[slot] = get(slot, 0.0) + idf * value


def _add_to_candidates(postings: Postings, term: QueryTerm, totals: dict[int, float]) -> None:
    lists = [(postings[v], confidence) for v, confidence in term.variants.items()]
    idf = term.idf
    for slot in totals:
        best = 0.0
        for (slots, weights), confidence in lists:
            i = bisect.bisect_left(slots, slot)
            if i < len(slots) and slots[i] == slot and confidence * weights[i] > best:
                best = confidence * weights[i]
        if best:
            totals[slot] += idf * best


def rerank(
    articles: Sequence[IndexedArticle | None],
    terms: list[QueryTerm],
    totals: dict[int, float],
    visible: Callable[[int], bool],
) -> list[tuple[int, float]]:
    """Blend BM25F (scaled to 0-1 by the best possible) with fuzzy title similarity."""
    pool = _top_visible(totals, visible, RERANK_POOL)
    best_possible = sum(term.idf for term in terms) or 1.0
    corrected = " ".join(max(t.variants.items(), key=itemgetter(1))[0] for t in terms)
    ranked = []
    for slot, total in pool:
        relevance = min(1.0, total / best_possible)
        article = articles[slot]
        assert article is not None  # a visible slot is a live one
        title_similarity = fuzz.token_set_ratio(corrected, article.title_terms) / 100
        score = (1 - TITLE_SIMILARITY_SHARE) * relevance + TITLE_SIMILARITY_SHARE * title_similarity
        ranked.append((slot, score))
    ranked.sort(key=itemgetter(1), reverse=True)
    return ranked


def _top_visible(totals: dict[int, float], visible: Callable[[int], bool], count: int) -> list[tuple[int, float]]:
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
