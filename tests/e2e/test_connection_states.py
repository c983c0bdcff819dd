"""What a page says about its connection, and only what is true (assets/connection.js):
a server slow to answer is "Still sending…", never "Reconnecting…"; a page reloaded
while the server does not answer says it waits for the server and opens by itself
once it answers; texts waiting to be sent sit at the end of the conversation, inside
its box. Every websocket goes through a Line (tests/e2e/connection_line.py).
Screenshots to look at in /tmp/shots-conn."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import unique
from tests.e2e.connection_line import RECONNECTING, Line, back, banner, bodies, down, lined, pending, send
from tests.e2e.test_accessibility import serious_violations
from tests.e2e.test_interaction_tools import chat_pair

SLOW = "Still sending… the server is slow to answer. Your messages are kept and will be sent."
OPENING = "Waiting for the server… this page opens by itself as soon as it answers."
SHOTS = Path("/tmp/shots-conn")
# The page says it waits at 5 s (STALL_MS); Reflex gives a connection that gets no answer up at 20 s.
WITHIN_STALL = 10_000
AFTER_CONNECT_TIMEOUT = 30_000


def _pair(app_server, world, new_context, who: str) -> tuple[Page, Line, Page, str]:
    """A live chat: the page of ``who`` with its line, the other side's page, the customer's name."""
    lines: list[Line] = []
    _queue, agent, customer, name = chat_pair(app_server, world, lined(new_context, lines))
    expect(customer.get_by_role("heading", name=re.compile("Chatting with"))).to_be_visible()
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text("Your request to")
    if who == "customer":
        return customer, lines[0], agent, name
    return agent, lines[1], customer, name


def _conversation_box(page: Page):
    return page.locator(".aw-scroll").filter(has=page.get_by_role("log", name="Conversation"))


@pytest.mark.parametrize("who", ["customer", "agent"])
def test_a_slow_server_says_still_sending_and_a_dropped_socket_says_reconnecting(app_server, world, new_context, who):
    """The socket stays up and the browser online, but the server's answers never
    come (``deaf``): once a send has waited 5 s the page says it is still sending,
    not that it reconnects; once the socket drops it says it reconnects; the text
    is stored once."""
    page, line, other, _name = _pair(app_server, world, new_context, who)
    text = unique("slow answer")

    line.deaf = True
    send(page, text)
    expect(banner(page)).to_have_text(SLOW)
    expect(banner(page)).to_have_attribute("data-socket", "up")  # as far as Reflex knows, still connected
    expect(pending(page)).to_have_count(1)
    expect(other.get_by_role("log", name="Conversation")).to_contain_text(text)  # the server has it

    line.cut()
    down(page)
    expect(banner(page)).not_to_contain_text("Still sending")
    line.restore()
    back(page)
    mine = page.get_by_role("log", name="Conversation").get_by_test_id("message").filter(has_text=text)
    expect(mine).to_contain_text("Sent")
    assert bodies(page, [text]) == [text]
    assert bodies(other, [text]) == [text]


@pytest.mark.parametrize(("who", "scheme", "width"), [("customer", "dark", 360), ("agent", "light", 1280)])
def test_a_page_reloaded_while_the_server_does_not_answer_says_so_and_opens_by_itself(
    app_server, world, new_context, who, scheme, width
):
    """The page itself loads but its websocket gets no answer: within seconds it
    says it waits for the server (not a bare spinner, not "Reconnecting…"), and it
    opens with the chat once the server answers, with nothing more to do."""
    page, line, other, name = _pair(app_server, world, new_context, who)
    page.emulate_media(color_scheme=scheme)
    page.set_viewport_size({"width": width, "height": 800})
    before = unique("before the reload")
    send(other, before)
    expect(page.get_by_role("log", name="Conversation")).to_contain_text(before)

    line.server_gone()
    page.reload()
    expect(banner(page)).to_have_text(OPENING, timeout=WITHIN_STALL)
    expect(banner(page)).not_to_contain_text(RECONNECTING)
    expect(page.get_by_role("log", name="Conversation")).to_have_count(0)  # still waiting, as it says
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"opening-{who}-{scheme}-{width}.png")
    assert serious_violations(page) == [], who

    line.server_back()
    expect(banner(page)).to_have_text("", timeout=AFTER_CONNECT_TIMEOUT)  # the try that waited is given up first
    if who == "agent":
        page.get_by_role("tab", name=name).click()
    expect(page.get_by_role("log", name="Conversation")).to_contain_text(before)


@pytest.mark.parametrize("who", ["customer", "agent"])
def test_texts_waiting_to_be_sent_sit_at_the_end_of_the_conversation_in_view(app_server, world, new_context, who):
    """Typed while the socket is down, after scrolling back through a long
    conversation: the pending bubbles are inside the conversation's box, after its
    last message and above the composer, in the order typed, and in view."""
    page, line, other, _name = _pair(app_server, world, new_context, who)
    page.set_viewport_size({"width": 1280, "height": 600})
    earlier = [unique(f"earlier {n}") for n in range(8)]
    for text in earlier:
        send(other, text)
    log = page.get_by_role("log", name="Conversation")
    expect(log).to_contain_text(earlier[-1])
    box = _conversation_box(page)
    box.evaluate("box => { box.scrollTop = -box.scrollHeight; }")  # column-reverse: the top is negative
    expect(log.get_by_test_id("message").filter(has_text=earlier[-1])).not_to_be_in_viewport()

    line.cut()
    down(page)
    first, second = unique("pending one"), unique("pending two")
    send(page, first)
    send(page, second)
    expect(pending(page)).to_have_count(2)
    expect(pending(page).nth(0)).to_contain_text(first)
    expect(pending(page).nth(1)).to_contain_text(second)
    expect(pending(page).nth(1)).to_be_in_viewport()

    outer = box.bounding_box()
    last_message = log.get_by_test_id("message").last.bounding_box()
    one, two = pending(page).nth(0).bounding_box(), pending(page).nth(1).bounding_box()
    composer = page.get_by_label("Message").bounding_box()
    assert outer and last_message and one and two and composer
    assert one["y"] >= last_message["y"] + last_message["height"] - 1  # after the conversation's last message
    assert two["y"] >= one["y"] + one["height"]  # in the order typed
    for bubble in (one, two):  # inside the conversation's box
        assert outer["x"] <= bubble["x"] and bubble["x"] + bubble["width"] <= outer["x"] + outer["width"] + 1
        assert outer["y"] <= bubble["y"] and bubble["y"] + bubble["height"] <= outer["y"] + outer["height"] + 1
    assert composer["y"] >= outer["y"] + outer["height"]  # the composer stays below the box

    line.restore()
    back(page)
    assert bodies(other, [first, second]) == [first, second]


def test_connection_states_shots_light_dark_and_narrow(app_server, world, new_context):
    """Screenshots to look at (/tmp/shots-conn), and axe, with the Reconnecting banner
    and pending bubbles showing, then with the slow server's banner."""
    lines: list[Line] = []
    _queue, agent, customer, _name = chat_pair(app_server, world, lined(new_context, lines))
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text("Your request to")
    SHOTS.mkdir(exist_ok=True)
    # The customer chat is also a phone's; the workspace is a desk's screen.
    views = [
        (customer, lines[0], "customer", "light", 1280),
        (agent, lines[1], "agent", "light", 1280),
        (customer, lines[0], "customer", "dark", 360),
        (agent, lines[1], "agent", "dark", 1024),
    ]
    for page, line, who, scheme, width in views:
        page.emulate_media(color_scheme=scheme)
        page.set_viewport_size({"width": width, "height": 844})
        line.cut()
        down(page)
        send(page, f"A message typed while offline ({who}, {scheme})")
        send(page, "and a second one, with a long unbroken token " + "x" * 80)
        expect(pending(page)).to_have_count(2)
        page.screenshot(path=SHOTS / f"reconnecting-{who}-{scheme}-{width}.png")
        assert serious_violations(page) == [], (who, scheme)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (who, scheme)
        line.restore()
        back(page)

        line.deaf = True
        send(page, f"A message the server is slow to answer ({who}, {scheme})")
        expect(banner(page)).to_have_text(SLOW)
        page.screenshot(path=SHOTS / f"slow-{who}-{scheme}-{width}.png")
        assert serious_violations(page) == [], (who, scheme)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (who, scheme)
        line.cut()
        down(page)
        line.restore()
        back(page)
