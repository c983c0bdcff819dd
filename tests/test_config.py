"""Settings parsed from the environment: the widget's allowed sites and cookies."""

from __future__ import annotations

import pytest

from agent_workspace.config import PublicSite, public_site, widget_origins


def test_widget_origins_are_none_by_default(monkeypatch):
    monkeypatch.delenv("AW_WIDGET_ORIGINS", raising=False)
    assert widget_origins() == ()


def test_widget_origins_take_commas_or_spaces_and_drop_repeats_and_a_trailing_slash(monkeypatch):
    monkeypatch.setenv(
        "AW_WIDGET_ORIGINS",
        " https://www.example.com/, https://Shop.Example.com:8443  http://localhost:5000 https://www.example.com",
    )
    assert widget_origins() == ("https://www.example.com", "https://shop.example.com:8443", "http://localhost:5000")


@pytest.mark.parametrize(
    "value",
    [
        "*",
        "https://*.example.com",
        "www.example.com",
        "ftp://example.com",
        "https://example.com/shop",
        "https://example.com?x=1",
        "https://user@example.com",
        "https://example.com:99999",
        "'self'",
        "https://",
    ],
)
def test_anything_but_an_origin_is_refused_at_start_up(monkeypatch, value):
    monkeypatch.setenv("AW_WIDGET_ORIGINS", f"https://ok.example.com {value}")
    with pytest.raises(ValueError, match="AW_WIDGET_ORIGINS"):
        widget_origins()


@pytest.mark.parametrize(
    ("url", "embeddable"),
    [
        ("https://chat.example.com", True),
        ("http://localhost:3000", True),
        ("http://127.0.0.1:3000", True),
        ("http://192.168.1.20:3000", False),
        ("http://chat.lan", False),
    ],
)
def test_the_chat_cookies_can_be_partitioned_on_https_and_loopback_only(url, embeddable):
    assert PublicSite(public_url=url, trusted_proxy_hops=0).embeddable_cookies is embeddable


def test_without_a_public_url_the_cookies_stay_strict_for_a_lan_address_over_http(monkeypatch):
    """``make run`` without AW_PUBLIC_URL falls back to localhost, yet is also
    opened as http://<LAN address>, where a browser drops ``Secure`` cookies."""
    monkeypatch.delenv("AW_PUBLIC_URL", raising=False)
    site = public_site()
    assert site.public_url.startswith("http://localhost:") and not site.configured
    assert site.embeddable_cookies is False
    monkeypatch.setenv("AW_PUBLIC_URL", site.public_url)
    assert public_site().embeddable_cookies is True
