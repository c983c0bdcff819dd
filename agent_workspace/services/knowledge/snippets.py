"""The few words of an article shown under a search hit, with the matched words marked."""

from __future__ import annotations

import re
from collections.abc import Callable

SNIPPET_WORDS = 28

_WORD_CORE = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)


def highlighted_snippet(body_text: str, is_match: Callable[[str], bool]) -> list[tuple[str, bool]]:
    """About SNIPPET_WORDS words of the body around the most matches, highlighted.

    Returns (text, is_highlighted) segments, never HTML: the page renders them
    as text, so an article can never inject markup into the results.
    """
    words = body_text.split(" ")
    matches = [is_match(word) for word in words]
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
            word = _WORD_CORE.match(words[i])
            assert word is not None  # the pattern matches any text
            lead, core, trail = word.groups()
            parts += [(lead, False), (core, True), (trail + separator, False)]
        else:
            parts.append((words[i] + separator, False))
    if end < len(words):
        parts.append((" …", False))
    return _merge_parts(parts)


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
