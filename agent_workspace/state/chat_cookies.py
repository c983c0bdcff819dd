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

The partitioned cookies have names of their own: a browser that kept the
``SameSite=Strict`` cookie of the same name would hold two (the page reads
the first, the server the last, and neither knows which is which). The
Strict cookies still in browsers are carried over once (``carry_over``).
"""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

from agent_workspace.config import public_site
from agent_workspace.security import cookie_from_headers

SITE = public_site()

STRICT_CHAT_COOKIE, STRICT_BROWSER_COOKIE = "aw_chat", "aw_browser"
PARTITIONED_CHAT_COOKIE, PARTITIONED_BROWSER_COOKIE = "aw_chat_p", "aw_browser_p"
# The chat's key (also read by /api/attachments and the websocket handshake) and this browser's id.
CHAT_COOKIE = PARTITIONED_CHAT_COOKIE if SITE.embeddable_cookies else STRICT_CHAT_COOKIE
BROWSER_COOKIE = PARTITIONED_BROWSER_COOKIE if SITE.embeddable_cookies else STRICT_BROWSER_COOKIE


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


def carry_over(state: rx.State, strict_cookies: dict[str, str]) -> list[EventSpec]:
    """For each ``{state var: its Strict predecessor's name}`` that this page's
    handshake still carries (a browser that chatted before the cookies were
    partitioned): take its value when the var has none, and expire it. The
    caller resumes from the value as from its own cookie (an unknown key is dropped)."""
    if not SITE.embeddable_cookies:  # the Strict cookies are the current ones
        return []
    headers = {"cookie": state.router.headers.cookie}
    expired = []
    for var, name in strict_cookies.items():
        value = cookie_from_headers(headers, name)
        if value is None:
            continue
        if value and not getattr(state, var):
            setattr(state, var, value)
        # Not rx.remove_cookie: that makes the page hydrate and load again, under the visitor's typing.
        expired.append(rx.call_script(f"document.cookie = '{name}=; path=/; max-age=0'"))
    return expired
