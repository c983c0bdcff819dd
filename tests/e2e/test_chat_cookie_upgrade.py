"""Browsers that chatted before the chat cookies were partitioned (chat widget,
issue 21) still hold the ``SameSite=Strict`` ``aw_chat``/``aw_browser`` cookies
main wrote. The app runs on a configured loopback URL here, so its cookies are
the partitioned ``aw_chat_p``/``aw_browser_p``: the old ones are carried over
once and expired, and never stand beside a new cookie of the same name."""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, expect

from agent_workspace.state.chat_cookies import PARTITIONED_CHAT_COOKIE, STRICT_BROWSER_COOKIE, STRICT_CHAT_COOKIE
from tests.e2e.conftest import start_customer_chat, unique


def _strict_cookies(context: BrowserContext, base_url: str, *, chat_key: str, browser_key: str) -> None:
    """What main wrote: unpartitioned, SameSite=Strict."""
    host = urlsplit(base_url).hostname
    expires = time.time() + 3600
    context.add_cookies(
        [
            {"name": name, "value": value, "domain": host, "path": "/", "sameSite": "Strict", "expires": expires}
            for name, value in ((STRICT_CHAT_COOKIE, chat_key), (STRICT_BROWSER_COOKIE, browser_key))
        ]
    )


def _cookies(context: BrowserContext) -> dict[str, str]:
    return {c["name"]: c["value"] for c in context.cookies()}


def _chat_key(context: BrowserContext) -> str:
    return _cookies(context)[PARTITIONED_CHAT_COOKIE]


def test_a_chat_running_under_the_old_strict_cookie_is_found_in_a_new_tab(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue("Upgrade")
    name = unique("Uma")
    running = start_customer_chat(new_context, base, name=name, queue=queue, question="Is my refund on its way?")

    upgraded = new_context()
    _strict_cookies(upgraded, base, chat_key=_chat_key(running.context), browser_key=uuid.uuid4().hex)
    tab = upgraded.new_page()
    tab.goto(f"{base}/chat")
    expect(tab.get_by_role("log", name="Conversation")).to_contain_text(f"Thanks, {name}.")
    tab.wait_for_function(f"() => !document.cookie.split('; ').some((c) => c.startsWith('{STRICT_CHAT_COOKIE}='))")
    jar = _cookies(upgraded)
    assert STRICT_CHAT_COOKIE not in jar and STRICT_BROWSER_COOKIE not in jar  # expired once carried over
    assert jar[PARTITIONED_CHAT_COOKIE] == _chat_key(running.context)

    another = upgraded.new_page()
    another.goto(f"{base}/chat")
    expect(another.get_by_role("log", name="Conversation")).to_contain_text(f"Thanks, {name}.")


def test_a_stale_strict_cookie_does_not_hide_a_chat_started_since(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue("Upgrade")
    context = new_context()
    _strict_cookies(context, base, chat_key="stale-key-of-a-forgotten-chat", browser_key=uuid.uuid4().hex)
    page = context.new_page()
    page.goto(f"{base}/chat")
    name = unique("Ulf")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill("ulf@example.com")
    page.get_by_label("What do you need help with?").select_option(label=queue)
    page.get_by_label("Your question").fill("Where is my invoice?")
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("log", name="Conversation")).to_be_visible()

    another = context.new_page()
    another.goto(f"{base}/chat")
    expect(another.get_by_role("log", name="Conversation")).to_contain_text(f"Thanks, {name}.")
    another.reload()
    expect(another.get_by_role("log", name="Conversation")).to_contain_text(f"Thanks, {name}.")
    assert STRICT_CHAT_COOKIE not in _cookies(context)
