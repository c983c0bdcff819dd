"""Connection loss, honestly: our banner (never Reflex's raw toast), texts typed
while the websocket is down shown as pending in order, then stored once each.
Every websocket goes through a Line (tests/e2e/connection_line.py)."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import BrowserContext, expect
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import unique
from tests.e2e.connection_line import RAW_TOAST, RECONNECTING, Line, back, banner, bodies, down, lined, pending, send
from tests.e2e.test_interaction_tools import chat_pair
from tests.scaleout.protocol import WsClient

SEND_EVENT = "customer_chat_state.send"


def test_customer_texts_typed_offline_wait_in_order_and_arrive_once(app_server, world, new_context):
    lines: list[Line] = []
    _queue, agent, customer, _name = chat_pair(app_server, world, lined(new_context, lines))
    line = lines[0]
    expect(customer.get_by_role("heading", name=re.compile("Chatting with"))).to_be_visible()
    first, second = unique("first offline"), unique("second offline")

    line.cut()
    down(customer)
    send(customer, first)
    send(customer, second)
    expect(customer.get_by_label("Message")).to_have_value("")
    expect(pending(customer)).to_have_count(2)
    expect(pending(customer).nth(0)).to_contain_text(first)
    expect(pending(customer).nth(1)).to_contain_text(second)
    expect(pending(customer).nth(1)).to_contain_text("Sending…")
    expect(customer.get_by_role("log", name="Conversation")).not_to_contain_text(first)
    expect(customer.get_by_text(RAW_TOAST)).to_have_count(0)

    line.restore()
    back(customer)
    own = customer.get_by_role("log", name="Conversation").get_by_test_id("message")
    expect(own.filter(has_text=second)).to_contain_text("Sent")
    expect(own.filter(has_text=first)).to_contain_text("Sent")
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text(second)
    assert bodies(agent, [first, second]) == [first, second]
    assert bodies(customer, [first, second]) == [first, second]
    expect(customer.get_by_text(RAW_TOAST)).to_have_count(0)


def test_a_send_whose_answer_is_lost_is_sent_again_and_stored_once(app_server, world, new_context):
    """The server stores a text but its answer never reaches the page, then the
    socket drops: the page sends it again after the reconnect, the server keeps
    the one copy, and the texts typed after it follow in the order typed."""
    lines: list[Line] = []
    _queue, agent, customer, _name = chat_pair(app_server, world, lined(new_context, lines))
    line = lines[0]
    expect(customer.get_by_role("heading", name=re.compile("Chatting with"))).to_be_visible()
    unanswered, waiting, offline = unique("unanswered"), unique("waiting"), unique("offline")

    line.deaf = True
    send(customer, unanswered)
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text(unanswered)  # stored
    send(customer, waiting)  # goes only once the one before is taken
    expect(pending(customer)).to_have_count(2)

    line.cut()
    down(customer)
    send(customer, offline)
    expect(pending(customer)).to_have_count(3)
    line.restore()
    back(customer)
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text(offline)
    texts = [unanswered, waiting, offline]
    assert bodies(agent, texts) == texts
    assert bodies(customer, texts) == texts


def test_a_send_lost_on_the_way_is_sent_again_after_the_reconnect(app_server, world, new_context):
    """The socket looks open but the page's send never reaches the server."""
    lines: list[Line] = []
    _queue, agent, customer, _name = chat_pair(app_server, world, lined(new_context, lines))
    line = lines[0]
    expect(customer.get_by_role("heading", name=re.compile("Chatting with"))).to_be_visible()
    lost, after = unique("lost"), unique("after")

    line.losing = SEND_EVENT
    send(customer, lost)
    send(customer, after)
    expect(pending(customer)).to_have_count(2)
    line.cut()
    down(customer)
    line.restore()
    back(customer)
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text(after)
    assert bodies(agent, [lost, after]) == [lost, after]
    assert bodies(customer, [lost, after]) == [lost, after]


def test_customer_reload_while_offline_keeps_the_texts_and_sends_them_once(app_server, world, new_context):
    lines: list[Line] = []
    _queue, agent, customer, _name = chat_pair(app_server, world, lined(new_context, lines))
    line = lines[0]
    expect(customer.get_by_role("heading", name=re.compile("Chatting with"))).to_be_visible()
    first, second = unique("before reload"), unique("also before")

    line.cut()
    down(customer)
    send(customer, first)
    send(customer, second)
    expect(pending(customer)).to_have_count(2)
    with pytest.raises(PlaywrightError, match="ERR_INTERNET_DISCONNECTED"):
        customer.reload()  # the browser's own offline page

    line.restore()
    customer.reload()  # the same tab: its sessionStorage kept both texts
    back(customer)
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text(second)
    assert bodies(agent, [first, second]) == [first, second]
    assert bodies(customer, [first, second]) == [first, second]


def test_agent_replies_typed_offline_wait_in_order_and_arrive_once(app_server, world, new_context):
    lines: list[Line] = []
    _queue, agent, customer, _name = chat_pair(app_server, world, lined(new_context, lines))
    line = lines[1]
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text("Your request to")
    first, second = unique("agent offline one"), unique("agent offline two")

    line.cut()
    down(agent)
    send(agent, first)
    send(agent, second)
    expect(agent.get_by_label("Message")).to_have_value("")
    expect(pending(agent)).to_have_count(2)
    expect(pending(agent).nth(0)).to_contain_text(first)
    expect(pending(agent).nth(1)).to_contain_text(second)
    expect(pending(agent).nth(0)).to_contain_text("You")  # the agent's own, as their sent messages say
    expect(pending(agent).nth(0)).to_contain_text("Sending…")
    expect(agent.get_by_text(RAW_TOAST)).to_have_count(0)

    line.restore()
    back(agent)
    own = agent.get_by_role("log", name="Conversation").get_by_test_id("message")
    expect(own.filter(has_text=first)).to_contain_text("Sent")
    expect(own.filter(has_text=second)).to_contain_text("Sent")
    expect(customer.get_by_role("log", name="Conversation")).to_contain_text(second)
    assert bodies(customer, [first, second]) == [first, second]
    assert bodies(agent, [first, second]) == [first, second]
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
    expect(banner(customer)).to_have_text("")
    text = unique("while offline")

    contexts[0].set_offline(True)
    expect(banner(customer)).to_contain_text(RECONNECTING)
    send(customer, text)
    expect(pending(customer)).to_contain_text(text)
    contexts[0].set_offline(False)
    back(customer)
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text(text)
    assert bodies(agent, [text]) == [text]
    expect(customer.get_by_text(RAW_TOAST)).to_have_count(0)


def test_the_widget_page_shows_the_banner_too(app_server, new_context):
    lines: list[Line] = []
    page = lined(new_context, lines)().new_page()
    page.goto(f"{app_server.base_url}/widget")
    expect(page.get_by_role("button", name="Start chat")).to_be_visible()
    lines[0].cut()
    down(page)
    lines[0].restore()
    expect(banner(page)).to_have_text("")


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
