"""Text handling shared by indexing and searching: normalizing, stemming, markdown to plain text.

Articles and queries go through the same functions, so what an agent types
and what an article says meet whatever their accents, quotes and endings.
"""

from __future__ import annotations

import re
import unicodedata

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


def joined_compounds(text: str) -> str:
    """ " wifi email" for "Wi-Fi e-mail": index hyphenated words both ways."""
    found = _HYPHENATED.findall(text) if "-" in text else ()
    return " " + " ".join(normalize(word.replace("-", "")) for word in found) if found else ""
