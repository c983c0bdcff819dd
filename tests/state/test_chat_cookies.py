"""The customer's cookies as the browser is told to write them."""

from __future__ import annotations

import re
from types import SimpleNamespace

import reflex as rx

from agent_workspace.config import PublicSite
from agent_workspace.state import chat_cookies
from agent_workspace.state.chat_cookies import PARTITIONED_CHAT_COOKIE, PartitionedCookie, carry_over, customer_cookie


def test_on_https_or_loopback_the_chat_cookie_is_partitioned_secure_and_cross_site(monkeypatch):
    monkeypatch.setattr(chat_cookies, "SITE", PublicSite(public_url="https://chat.example.com", trusted_proxy_hops=0))
    cookie = customer_cookie("aw_chat", max_age=60)
    assert isinstance(cookie, PartitionedCookie)
    # What Reflex hands to universal-cookie's set() in the page.
    assert cookie.options() == {
        "name": "aw_chat",
        "path": "/",
        "maxAge": 60,
        "secure": True,
        "sameSite": "none",
        "partitioned": True,
    }


def test_on_plain_http_elsewhere_it_stays_strict(monkeypatch):
    monkeypatch.setattr(chat_cookies, "SITE", PublicSite(public_url="http://chat.lan", trusted_proxy_hops=0))
    cookie = customer_cookie("aw_chat", max_age=60)
    assert type(cookie) is rx.Cookie
    assert cookie.options() == {"name": "aw_chat", "path": "/", "maxAge": 60, "secure": False, "sameSite": "strict"}


def _tab(cookie_header: str, **cookie_vars: str) -> SimpleNamespace:
    return SimpleNamespace(router=SimpleNamespace(headers=SimpleNamespace(cookie=cookie_header)), **cookie_vars)


def _expired(events) -> list[str]:
    """The cookies the page is told to expire."""
    scripts = [str(event.args[0][1]) for event in events]
    return [re.search(r"document\.cookie = '(\w+)=; path=/; max-age=0'", script).group(1) for script in scripts]


def test_a_strict_cookie_from_before_the_partitioned_ones_is_carried_over_once_and_expired(monkeypatch):
    monkeypatch.setattr(chat_cookies, "SITE", PublicSite(public_url="https://chat.example.com", trusted_proxy_hops=0))
    tab = _tab(
        f"aw_chat=old-chat; aw_browser=old-browser; {PARTITIONED_CHAT_COOKIE}=ignored", chat_key="", browser_key="kept"
    )
    expired = carry_over(tab, {"chat_key": "aw_chat", "browser_key": "aw_browser"})
    assert (tab.chat_key, tab.browser_key) == ("old-chat", "kept")  # a value of its own wins
    assert _expired(expired) == ["aw_chat", "aw_browser"]
    assert carry_over(_tab("other=1", chat_key=""), {"chat_key": "aw_chat"}) == []


def test_where_the_cookies_stay_strict_nothing_is_carried_over(monkeypatch):
    monkeypatch.setattr(chat_cookies, "SITE", PublicSite(public_url="http://chat.lan", trusted_proxy_hops=0))
    tab = _tab("aw_chat=current", chat_key="current")
    assert carry_over(tab, {"chat_key": "aw_chat"}) == []
