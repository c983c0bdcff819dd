"""Connection loss, honestly: our banner (never Reflex's raw toast), texts typed
while the websocket is down shown as pending in order, then stored once each.

The browser's offline emulation fails new connections but leaves an open
websocket open, so every websocket goes through Playwright
(``route_web_socket``): a cut closes it and goes offline, and single frames can
be lost exactly when a test means to.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, WebSocketRoute, expect
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import unique
from tests.e2e.test_accessibility import serious_violations
from tests.e2e.test_interaction_tools import chat_pair
from tests.scaleout.protocol import WsClient

EVENT_SOCKET = re.compile(r"/_event")
RAW_TOAST = re.compile("Cannot connect to server")
SEND_EVENT = "customer_chat_state.send"
SHOTS = Path("/tmp/shots-offline")


class Line:
    """A context's websockets, relayed to the server until ``cut`` closes them and
    takes the context offline (Reflex's reconnects then fail, as on a lost
    network). ``losing`` drops the page's frames that hold it and ``deaf`` the
    server's, until the next cut."""

    def __init__(self, context: BrowserContext):
        self._context = context
        self._open: list[tuple[WebSocketRoute, WebSocketRoute]] = []
        self.losing: str | None = None
        self.deaf = False
        context.route_web_socket(EVENT_SOCKET, self._route)

    def _route(self, page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()  # fails while the context is offline
        page_side.on_message(lambda message: self._to_server(server_side, message))
        server_side.on_message(lambda message: None if self.deaf else page_side.send(message))
        self._open.append((page_side, server_side))

    def _to_server(self, server_side: WebSocketRoute, message: str | bytes) -> None:
        if self.losing and isinstance(message, str) and self.losing in message:
            return
        server_side.send(message)

    def cut(self) -> None:
        self.losing, self.deaf = None, False
        self._context.set_offline(True)
        sockets, self._open = self._open, []
        for page_side, server_side in sockets:
            server_side.close()
            page_side.close()

    def restore(self) -> None:
        self._context.set_offline(False)


def _lined(new_context, lines: list[Line]):
    def make() -> BrowserContext:
        context = new_context()
        lines.append(Line(context))
        return context

    return make


def _send(page: Page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_label("Message").press("Enter")


def _pending(page: Page):
    return page.get_by_role("list", name="Waiting to be sent").get_by_role("listitem")


def _banner(page: Page):
    return page.get_by_role("status", name="Connection")


def _bodies(page: Page, texts: list[str]) -> list[str]:
    """The conversation's bubbles that hold one of ``texts``, in order, each as often as shown."""
    shown = page.get_by_role("log", name="Conversation").get_by_test_id("message").all_inner_texts()
    return [text for bubble in shown for text in texts if text in bubble]


def _down(page: Page) -> None:
    # A reconnect that hangs (no answer, not refused) is given up at socket.io's 20 s connect timeout.
    expect(_banner(page)).to_have_attribute("data-socket", "down", timeout=45_000)
    expect(_banner(page)).to_contain_text("Reconnecting… your messages will be sent")
    expect(page.get_by_text(RAW_TOAST)).to_have_count(0)


def _back(page: Page) -> None:
    expect(_banner(page)).to_have_text("")
    expect(_pending(page)).to_have_count(0)


def test_customer_texts_typed_offline_wait_in_order_and_arrive_once(app_server, world, new_context):
    lines: list[Line] = []
    _queue, agent, customer, _name = chat_pair(app_server, world, _lined(new_context, lines))
    line = lines[0]
    expect(customer.get_by_role("heading", name=re.compile("Chatting with"))).to_be_visible()
    first, second = unique("first offline"), unique("second offline")

    line.cut()
    _down(customer)
    _send(customer, first)
    _send(customer, second)
    expect(customer.get_by_label("Message")).to_have_value("")
    expect(_pending(customer)).to_have_count(2)
    expect(_pending(customer).nth(0)).to_contain_text(first)
    expect(_pending(customer).nth(1)).to_contain_text(second)
    expect(_pending(customer).nth(1)).to_contain_text("Sending…")
    expect(customer.get_by_role("log", name="Conversation")).not_to_contain_text(first)
    expect(customer.get_by_text(RAW_TOAST)).to_have_count(0)

    line.restore()
    _back(customer)
    own = customer.get_by_role("log", name="Conversation").get_by_test_id("message")
    expect(own.filter(has_text=second)).to_contain_text("Sent")
    expect(own.filter(has_text=first)).to_contain_text("Sent")
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text(second)
    assert _bodies(agent, [first, second]) == [first, second]
    assert _bodies(customer, [first, second]) == [first, second]
    expect(customer.get_by_text(RAW_TOAST)).to_have_count(0)


def test_a_send_whose_answer_is_lost_is_sent_again_and_stored_once(app_server, world, new_context):
    """The server stores a text but its answer never reaches the page, then the
    socket drops: the page sends it again after the reconnect, the server keeps
    the one copy, and the texts typed after it follow in the order typed."""
    lines: list[Line] = []
    _queue, agent, customer, _name = chat_pair(app_server, world, _lined(new_context, lines))
    line = lines[0]
    expect(customer.get_by_role("heading", name=re.compile("Chatting with"))).to_be_visible()
    unanswered, waiting, offline = unique("unanswered"), unique("waiting"), unique("offline")

    line.deaf = True
    _send(customer, unanswered)
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text(unanswered)  # stored
    _send(customer, waiting)  # goes only once the one before is taken
    expect(_pending(customer)).to_have_count(2)

    line.cut()
    _down(customer)
    _send(customer, offline)
    expect(_pending(customer)).to_have_count(3)
    line.restore()
    _back(customer)
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text(offline)
    texts = [unanswered, waiting, offline]
    assert _bodies(agent, texts) == texts
    assert _bodies(customer, texts) == texts


def test_a_send_lost_on_the_way_is_sent_again_after_the_reconnect(app_server, world, new_context):
    """The socket looks open but the page's send never reaches the server."""
    lines: list[Line] = []
    _queue, agent, customer, _name = chat_pair(app_server, world, _lined(new_context, lines))
    line = lines[0]
    expect(customer.get_by_role("heading", name=re.compile("Chatting with"))).to_be_visible()
    lost, after = unique("lost"), unique("after")

    line.losing = SEND_EVENT
    _send(customer, lost)
    _send(customer, after)
    expect(_pending(customer)).to_have_count(2)
    line.cut()
    _down(customer)
    line.restore()
    _back(customer)
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text(after)
    assert _bodies(agent, [lost, after]) == [lost, after]
    assert _bodies(customer, [lost, after]) == [lost, after]


def test_customer_reload_while_offline_keeps_the_texts_and_sends_them_once(app_server, world, new_context):
    lines: list[Line] = []
    _queue, agent, customer, _name = chat_pair(app_server, world, _lined(new_context, lines))
    line = lines[0]
    expect(customer.get_by_role("heading", name=re.compile("Chatting with"))).to_be_visible()
    first, second = unique("before reload"), unique("also before")

    line.cut()
    _down(customer)
    _send(customer, first)
    _send(customer, second)
    expect(_pending(customer)).to_have_count(2)
    with pytest.raises(PlaywrightError, match="ERR_INTERNET_DISCONNECTED"):
        customer.reload()  # the browser's own offline page

    line.restore()
    customer.reload()  # the same tab: its sessionStorage kept both texts
    _back(customer)
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text(second)
    assert _bodies(agent, [first, second]) == [first, second]
    assert _bodies(customer, [first, second]) == [first, second]


def test_agent_replies_typed_offline_wait_in_order_and_arrive_once(app_server, world, new_context):
    lines: list[Line] = []
    _queue, agent, customer, _name = chat_pair(app_server, world, _lined(new_context, lines))
    line = lines[1]
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text("Your request to")
    first, second = unique("agent offline one"), unique("agent offline two")

    line.cut()
    _down(agent)
    _send(agent, first)
    _send(agent, second)
    expect(agent.get_by_label("Message")).to_have_value("")
    expect(_pending(agent)).to_have_count(2)
    expect(_pending(agent).nth(0)).to_contain_text(first)
    expect(_pending(agent).nth(1)).to_contain_text(second)
    expect(_pending(agent).nth(0)).to_contain_text("You")  # the agent's own, as their sent messages say
    expect(_pending(agent).nth(0)).to_contain_text("Sending…")
    expect(agent.get_by_text(RAW_TOAST)).to_have_count(0)

    line.restore()
    _back(agent)
    own = agent.get_by_role("log", name="Conversation").get_by_test_id("message")
    expect(own.filter(has_text=first)).to_contain_text("Sent")
    expect(own.filter(has_text=second)).to_contain_text("Sent")
    expect(customer.get_by_role("log", name="Conversation")).to_contain_text(second)
    assert _bodies(customer, [first, second]) == [first, second]
    assert _bodies(agent, [first, second]) == [first, second]
    expect(agent.get_by_text(RAW_TOAST)).to_have_count(0)


def test_the_banner_shows_when_the_network_drops_without_closing_the_socket(app_server, world, new_context):
    """A network that drops leaves the websocket looking open until its next ping
    (the browser's offline emulation does the same: no relay here): the page shows
    the banner at once, its texts wait as pending, and go once the network is back."""
    contexts: list[BrowserContext] = []

    def plain():
        contexts.append(new_context())
        return contexts[-1]

    _queue, agent, customer, _name = chat_pair(app_server, world, plain)
    expect(customer.get_by_role("heading", name=re.compile("Chatting with"))).to_be_visible()
    expect(_banner(customer)).to_have_text("")
    text = unique("while offline")

    contexts[0].set_offline(True)
    expect(_banner(customer)).to_contain_text("Reconnecting… your messages will be sent")
    _send(customer, text)
    expect(_pending(customer)).to_contain_text(text)
    contexts[0].set_offline(False)
    _back(customer)
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text(text)
    assert _bodies(agent, [text]) == [text]
    expect(customer.get_by_text(RAW_TOAST)).to_have_count(0)


def test_a_send_the_server_never_answers_shows_the_banner(app_server, world, new_context):
    """The socket looks open and the browser online, but nothing comes back: once a
    send has waited a few seconds the agent is told, and it is stored once after the reconnect."""
    lines: list[Line] = []
    _queue, agent, customer, _name = chat_pair(app_server, world, _lined(new_context, lines))
    line = lines[1]
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text("Your request to")
    text = unique("unanswered reply")

    line.deaf = True
    _send(agent, text)
    expect(_banner(agent)).to_contain_text("Reconnecting… your messages will be sent")
    expect(_pending(agent)).to_have_count(1)
    expect(_banner(agent)).to_have_attribute("data-socket", "up")  # as far as Reflex knows, still connected
    line.cut()
    _down(agent)
    line.restore()
    _back(agent)
    expect(
        agent.get_by_role("log", name="Conversation").get_by_test_id("message").filter(has_text=text)
    ).to_contain_text("Sent")
    assert _bodies(customer, [text]) == [text]
    assert _bodies(agent, [text]) == [text]


def test_the_widget_page_shows_the_banner_too(app_server, new_context):
    lines: list[Line] = []
    page = _lined(new_context, lines)().new_page()
    page.goto(f"{app_server.base_url}/widget")
    expect(page.get_by_role("button", name="Start chat")).to_be_visible()
    lines[0].cut()
    _down(page)
    lines[0].restore()
    expect(_banner(page)).to_have_text("")


def test_banner_and_pending_bubbles_shots_light_dark_and_narrow(app_server, world, new_context):
    """Screenshots to look at (/tmp/shots-offline), and axe with the banner and pending bubbles showing."""
    lines: list[Line] = []
    _queue, agent, customer, _name = chat_pair(app_server, world, _lined(new_context, lines))
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text("Your request to")
    SHOTS.mkdir(exist_ok=True)
    # The customer chat is also a phone's; the workspace is a desk's screen.
    views = [
        (customer, lines[0], "customer", "light", 1280),
        (agent, lines[1], "agent", "light", 1280),
        (customer, lines[0], "customer", "dark", 390),
        (agent, lines[1], "agent", "dark", 1024),
    ]
    for page, line, who, scheme, width in views:
        page.emulate_media(color_scheme=scheme)
        page.set_viewport_size({"width": width, "height": 844})
        line.cut()
        _down(page)
        _send(page, f"A message typed while offline ({who}, {scheme})")
        _send(page, "and a second one, with a long unbroken token " + "x" * 80)
        expect(_pending(page)).to_have_count(2)
        page.screenshot(path=SHOTS / f"{who}-{scheme}-{width}.png")
        assert serious_violations(page) == [], (who, scheme)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (who, scheme)
        line.restore()
        _back(page)


def test_the_server_drops_a_socket_that_answers_no_ping_within_45_s(app_server):
    """An open socket keeps its agent present (services/absence.py), so a page that
    answers nothing (frozen, or a laptop shut with its connection open) must lose
    its socket soon: 25 s between pings and 20 s to answer, not Reflex's 120 s."""
    port = int(app_server.base_url.rsplit(":", 1)[1])

    async def handshake() -> dict:
        client = await WsClient().connect(port)
        await client.close()
        return client.handshake

    with ThreadPoolExecutor(1) as thread:  # Playwright's own event loop runs in this one
        opened = thread.submit(asyncio.run, handshake()).result(timeout=30)
    assert (opened["pingInterval"], opened["pingTimeout"]) == (25_000, 20_000)
