"""Links in chat messages: a message's text split once into plain text and links.

linkify-it-py finds the URLs (with a scheme, ``www.`` and bare domains of known
top-level domains, email addresses); only http, https and mailto ones become
links, so a ``javascript:``, ``data:`` or ``ftp:`` URL stays text. The pages
render the parts as text nodes and link elements, never as HTML, so a message
holding markup shows it literally.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from linkify_it import LinkifyIt


class LinkScheme(StrEnum):
    HTTP = "http"
    HTTPS = "https"
    MAILTO = "mailto"


@dataclass(frozen=True)
class Segment:
    """A run of a message's text; ``href`` is set when the run is a link."""

    text: str
    href: str = ""


# A LinkifyIt keeps the state of its last scan on itself: one per thread
# (messages are read on the event loop and in the database threads).
_local = threading.local()


def _linkify() -> LinkifyIt:
    found = getattr(_local, "linkify", None)
    if found is None:
        found = _local.linkify = LinkifyIt(options={"fuzzy_ip": False})
    return found


# What every link linkify-it can find holds: a scheme's "://", "www.", "mailto:", an
# email's "@", or a dot before a top-level domain's letters. Every page's message is
# scanned, and linkify-it's own pretest passes on any full stop: most messages hold none
# of these, and skip its scan (pure Python, a few hundred microseconds a message).
_MAYBE_LINK = re.compile(r"://|www\.|mailto:|@|\.[^\W\d_]{2,}", re.IGNORECASE)


def allowed(url: str) -> bool:
    """Whether ``url`` may be a link: an http(s) URL with a host, or a mailto."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme.lower() == LinkScheme.MAILTO:
        return bool(parts.path)
    return parts.scheme.lower() in (LinkScheme.HTTP, LinkScheme.HTTPS) and bool(parts.hostname)


def segments(text: str) -> list[Segment]:
    """The text as plain and link segments, in order; [] when it holds no link
    (the page then shows the text as it is)."""
    if not text or not _MAYBE_LINK.search(text):
        return []
    linkify = _linkify()
    if not linkify.pretest(text):
        return []
    found = [m for m in linkify.match(text) or [] if allowed(m.url)]
    if not found:
        return []
    parts: list[Segment] = []
    at = 0
    for match in found:
        if match.index > at:
            parts.append(Segment(text[at : match.index]))
        parts.append(Segment(text[match.index : match.last_index], href=match.url))
        at = match.last_index
    if at < len(text):
        parts.append(Segment(text[at:]))
    return parts
