"""The customer's cookies, made so they also live inside a host site's iframe.

The chat widget shows the chat in an iframe of another site. There a
``SameSite=Strict`` (or ``Lax``) cookie is neither stored nor sent, and browsers
block unpartitioned third-party cookies. A ``Partitioned; Secure; SameSite=None``
cookie (CHIPS) is kept in a jar of its own per top-level site: the chat key
set inside shop.example's iframe travels only with requests made inside
shop.example, so another site can neither read nor send it, and a chat on
/chat keeps its own key. Reflex's ``rx.Cookie`` passes every attribute it
holds to the browser's cookie writer (universal-cookie), which knows
``partitioned``: this subclass only adds it.

``Secure`` cookies are kept from https and loopback only: on a plain-http site
reached by another name (``make run`` on a LAN) the cookies stay
``SameSite=Strict``, and the widget needs the https site anyway.
"""

from __future__ import annotations

import reflex as rx

from agent_workspace.config import public_site

SITE = public_site()


class PartitionedCookie(rx.Cookie):
    """An ``rx.Cookie`` written with ``Partitioned`` (see the module's doc)."""

    partitioned: bool

    def __new__(cls, object: str = "", /, **options) -> PartitionedCookie:
        inst = super().__new__(cls, object, **options)
        inst.partitioned = True
        return inst


def customer_cookie(name: str, *, max_age: int) -> rx.Cookie:
    """A cookie of the customer's chat: embeddable where the site allows it."""
    if SITE.embeddable_cookies:
        return PartitionedCookie("", name=name, path="/", max_age=max_age, same_site="none", secure=True)
    return rx.Cookie("", name=name, path="/", max_age=max_age, same_site="strict", secure=SITE.secure_cookies)
