"""Text from people, made safe to store and show: sized first, then cleaned.

Names and messages travel to other people's screens. Control characters,
bidi overrides and isolates (which make a name read backwards or hide part
of a message) and other invisible format characters (Unicode category Cf:
zero-width spaces, word joiners, tag characters) are removed. A zero-width
joiner between two pictographs is kept, so emoji sequences such as a family
or a rainbow flag stay whole.

Size is checked on the raw text before any clean-up, so an oversized field
costs one ``len`` whatever it holds.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Mapping
from functools import cache

from agent_workspace.services.errors import ValidationError

ZERO_WIDTH_JOINER = "\u200d"
ZERO_WIDTH_NON_JOINER = "\u200c"
KEPT_CONTROLS = "\n\t"
# Left of a joiner inside an emoji sequence: a pictograph (skin tones included)
# or the emoji presentation selector; right of it: a pictograph.
_PICTOGRAPH = r"\u2300-\u23FF\u2600-\u27BF\u2B00-\u2BFF\U0001F000-\U0001FAFF"
_EMOJI_JOINER = re.compile(rf"(?<=[{_PICTOGRAPH}\uFE0F])\u200d(?=[{_PICTOGRAPH}])")
_WHITESPACE_RUN = re.compile(r"\s+")


@cache
def _invisible() -> dict[int, None]:
    """The translation table that deletes every control (but newline and tab) and
    every format character, built once: ``str.translate`` then runs at C speed."""
    table: dict[int, None] = {}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        if (category == "Cc" and char not in KEPT_CONTROLS) or category == "Cf":
            table[code] = None
    del table[ord(ZERO_WIDTH_JOINER)]  # decided by its neighbours, below
    del table[ord(ZERO_WIDTH_NON_JOINER)]  # spelling in Persian, Kurdish and Indic scripts
    return table


def strip_invisible(text: str) -> str:
    """``text`` without controls, bidi controls and invisible format characters."""
    text = text.replace("\r\n", "\n").translate(_invisible())
    if ZERO_WIDTH_JOINER in text:
        kept = _EMOJI_JOINER.sub("\x00", text)  # NUL was removed above: a safe placeholder
        text = kept.replace(ZERO_WIDTH_JOINER, "").replace("\x00", ZERO_WIDTH_JOINER)
    return text


def too_long(field: str, value: str, limit: int) -> ValidationError:
    return ValidationError(f"{field} is too long: {len(value):,} characters (limit {limit:,}).")


def check_sizes(fields: Mapping[str, tuple[object, int]]) -> None:
    """Refuse the first field that is not text or is longer than its limit, before
    any other work. ``fields``: label -> (value, limit)."""
    for label, (value, limit) in fields.items():
        if not isinstance(value, str):
            raise ValidationError(f"{label} must be text.")
        if len(value) > limit:
            raise too_long(label, value, limit)


def clean_text(text: str, *, field: str, limit: int, single_line: bool = False) -> str:
    """A person's text, sized, cleaned and trimmed; ``single_line`` for names,
    whose runs of white space become one space."""
    check_sizes({field: (text, limit)})
    text = strip_invisible(text)
    if single_line:
        text = _WHITESPACE_RUN.sub(" ", text)
    text = text.strip()
    if not text:
        raise ValidationError(f"{field} cannot be empty.")
    return text


_invisible()  # built at import (about 0.15 s), never inside a request or a write turn
