"""The customer's cookies as the browser is told to write them."""

from __future__ import annotations

import reflex as rx

from agent_workspace.state import chat_cookies
from agent_workspace.state.chat_cookies import PartitionedCookie, customer_cookie
from agent_workspace.config import PublicSite


def test_on_https_or_loopback_the_chat_cookie_is_partitioned_secure_and_cross_site(monkeypatch):
    monkeypatch.setattr(chat_cookies, "SITE", PublicSite(public_url="https://chat.example.com", trusted_proxy_hops=0))
    cookie = customer_cookie("aw_chat", max_age=60)
    assert isinstance(cookie, PartitionedCookie)
    # What Reflex hands to universal-cookie's set() in the page.
    assert cookie.options() == {"name": "aw_chat", "path": "/", "maxAge": 60, "secure": True, "sameSite": "none", "partitioned": True}


def test_on_plain_http_elsewhere_it_stays_strict(monkeypatch):
    monkeypatch.setattr(chat_cookies, "SITE", PublicSite(public_url="http://chat.lan", trusted_proxy_hops=0))
    cookie = customer_cookie("aw_chat", max_age=60)
    assert type(cookie) is rx.Cookie
    assert cookie.options() == {"name": "aw_chat", "path": "/", "maxAge": 60, "secure": False, "sameSite": "strict"}
