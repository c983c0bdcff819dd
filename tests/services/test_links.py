"""Links in messages: which URLs become links, and that the rest stays text."""

from __future__ import annotations

import pytest

from agent_workspace.services.links import Segment, allowed, segments


def test_a_url_in_a_sentence_is_split_into_text_link_text() -> None:
    assert segments("See https://example.com/help?x=1. Thanks") == [
        Segment("See "),
        Segment("https://example.com/help?x=1", href="https://example.com/help?x=1"),
        Segment(". Thanks"),
    ]


def test_text_without_links_has_no_segments() -> None:
    assert segments("My printer is broken, again.") == []
    assert segments("") == []


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("http://localhost:3000/kb/KB0010001", "http://localhost:3000/kb/KB0010001"),
        ("HTTPS://EXAMPLE.COM/A", "HTTPS://EXAMPLE.COM/A"),
        ("www.example.org", "http://www.example.org"),
        ("ada@example.com", "mailto:ada@example.com"),
        ("mailto:ada@example.com", "mailto:ada@example.com"),
    ],
)
def test_http_https_and_mailto_become_links(text: str, href: str) -> None:
    assert segments(f"go {text} now") == [Segment("go "), Segment(text, href=href), Segment(" now")]


@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "ftp://files.example.com/a",
        "//example.com/protocol-relative",
        "file:///etc/passwd",
        "<img src=x onerror=alert(1)>",
        "mailto:javascript:alert(1)",
        "192.168.0.1/admin",
    ],
)
def test_other_schemes_and_markup_stay_text(text: str) -> None:
    assert all(not part.href for part in segments(text))
    assert "".join(part.text for part in segments(text)) in ("", text)


def test_markup_around_a_link_stays_literal_text() -> None:
    parts = segments('<a href="javascript:x">https://example.com</a>')
    assert "".join(p.text for p in parts) == '<a href="javascript:x">https://example.com</a>'
    assert [p.href for p in parts if p.href] == ["https://example.com"]


def test_the_segments_put_back_together_are_the_message() -> None:
    text = "a https://x.org/a b www.y.com c d@e.fr e " + "z" * 300
    assert "".join(p.text for p in segments(text)) == text


def test_a_long_url_is_one_link() -> None:
    url = "https://example.com/" + "a" * 300
    assert segments(url) == [Segment(url, href=url)]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com", True),
        ("http://example.com/x", True),
        ("mailto:a@b.co", True),
        ("https://", False),
        ("mailto:", False),
        ("javascript:alert(1)", False),
        ("http://[::1", False),
    ],
)
def test_allowed(url: str, ok: bool) -> None:
    assert allowed(url) is ok
