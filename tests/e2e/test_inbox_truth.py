"""The Inbox tells the truth: Accept says why it cannot work before the click, an
offer counts down by the second in the browser, a slow claim says so, and the
after-hours opt-in sticks."""

from __future__ import annotations

import re
import sqlite3

from playwright.sync_api import Page, expect
from sqlmodel import select

from agent_workspace.models import User
from tests.e2e.conftest import agent_page, close_chat, set_presence, start_customer_chat, unique
from tests.e2e.test_interaction_tools import accept_chat

NOT_AVAILABLE = "Set yourself Available to accept chats."
TIMER_TEXT = re.compile(r"^Time to accept: (\d+):(\d\d)$")


def inbox_card(agent: Page, customer_name: str):
    return agent.get_by_test_id("inbox-card").filter(has_text=customer_name)


def seconds_shown(timer) -> int:
    minutes, seconds = TIMER_TEXT.match(timer.inner_text()).groups()
    return int(minutes) * 60 + int(seconds)


def test_an_away_agent_sees_why_accept_is_disabled_until_available(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    name = unique("Ann")
    start_customer_chat(new_context, base, name=name, queue=queue, question="Where is my order?")
    agent = agent_page(new_context, base, username, password, available=False)
    set_presence(agent, "Away")

    card = inbox_card(agent, name)
    accept = card.get_by_role("button", name="Accept")
    expect(accept).to_be_disabled()
    expect(accept).to_have_accessible_description(NOT_AVAILABLE)
    expect(card.get_by_text(NOT_AVAILABLE)).to_be_visible()
    expect(card.get_by_role("button", name="Reject")).to_be_enabled()

    set_presence(agent, "Available")
    expect(accept).to_be_enabled()
    expect(accept).to_have_accessible_description("")
    expect(card.get_by_text(NOT_AVAILABLE)).to_have_count(0)
    accept.click()
    expect(agent.get_by_role("tab", name=name)).to_be_visible()


def test_at_capacity_the_next_card_says_so_until_a_chat_is_closed(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue], capacity=1)
    first, second = unique("Bea"), unique("Cal")
    start_customer_chat(new_context, base, name=first, queue=queue, question="Invoice missing")
    start_customer_chat(new_context, base, name=second, queue=queue, question="Wrong address")
    agent = agent_page(new_context, base, username, password)
    accept_chat(agent, first)

    agent.get_by_role("tab", name=re.compile("^Inbox")).click()
    card = inbox_card(agent, second)
    accept = card.get_by_role("button", name="Accept")
    at_capacity = "You are at your capacity of 1 chats. Close one first."
    expect(accept).to_be_disabled()
    expect(accept).to_have_accessible_description(at_capacity)
    expect(card.get_by_text(at_capacity)).to_be_visible()
    expect(card.get_by_role("button", name="Reject")).to_be_enabled()

    agent.get_by_role("tab", name=first).click()
    close_chat(agent)
    expect(agent.get_by_role("tab", name=first)).to_have_count(0)
    expect(accept).to_be_enabled()  # the freed seat: the chat is offered and can be taken


def test_an_offer_counts_down_by_the_second_in_the_browser(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    name = unique("Dee")
    start_customer_chat(new_context, base, name=name, queue=queue, question="Cannot log in")
    agent = agent_page(new_context, base, username, password)
    events_sent: list[str] = []
    agent.on(
        "websocket",
        lambda ws: ws.on("framesent", lambda frame: events_sent.append(frame) if str(frame).startswith("42") else None),
    )
    agent.reload()  # a new socket, now watched

    timer = inbox_card(agent, name).get_by_role("timer")
    expect(timer).to_have_text(TIMER_TEXT)
    expect(timer).to_have_accessible_name(TIMER_TEXT)
    start, sent_before = seconds_shown(timer), len(events_sent)
    assert 0 < start <= 45  # the offer's timeout
    expect(timer).to_have_text(f"Time to accept: 0:{start - 3:02d}")  # three ticks, one a second
    expect(timer).to_have_accessible_name(f"Time to accept: 0:{start - 3:02d}")
    # Three seconds counted in the browser: no event but the page's heartbeats (the
    # workspace's and the left messages' ticks, each on its own timer) went.
    counted = len(events_sent)
    beyond_heartbeats = [e for e in events_sent[sent_before:] if not re.search(r'"name":"[^"]*\.tick"', str(e))]
    assert beyond_heartbeats == [], beyond_heartbeats
    set_presence(agent, "Away")  # and the watch does see the page's events
    assert len(events_sent) > counted


def test_a_long_running_transaction_shows_delayed_transactions_on_the_card(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    name = unique("Eli")
    start_customer_chat(new_context, base, name=name, queue=queue, question="Parcel lost")
    agent = agent_page(new_context, base, username, password)
    card = inbox_card(agent, name)
    expect(card.get_by_role("timer")).to_be_visible()  # offered: routing has written all it will
    accept = card.get_by_role("button", name="Accept")
    expect(accept).to_be_enabled()

    database = app_server.env["AW_DATABASE_URL"].removeprefix("sqlite:///")
    blocker = sqlite3.connect(database, isolation_level=None, timeout=30)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # holds the write lock: the claim waits in SQLite's busy handler
        accept.click()
        callout = card.get_by_role("status")
        expect(callout).to_be_visible()
        expect(callout).to_contain_text("Delayed transactions")
        expect(card.get_by_role("button", name="Accept")).to_have_text("Accepting…")
        blocker.execute("COMMIT")
    finally:
        blocker.close()
    expect(agent.get_by_role("tab", name=name)).to_be_visible()
    expect(agent.get_by_role("tabpanel", name=re.compile("^Interaction "))).to_be_visible()
    expect(agent.get_by_label("Customer information")).to_contain_text("Parcel lost")


def test_the_after_hours_switch_toggles_and_survives_a_reload(app_server, world, new_context):
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    agent = agent_page(new_context, app_server.base_url, username, password, available=False)

    def after_hours_stored() -> bool:
        with world.session() as session:
            return session.exec(select(User.after_hours).where(User.username == username)).one()

    switch = agent.get_by_role("switch", name="Take chats after hours")
    expect(switch).not_to_be_checked()
    switch.click()
    expect(switch).to_be_checked()
    agent.reload()
    expect(agent.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(switch).to_be_checked()
    assert after_hours_stored() is True

    switch.click()
    expect(switch).not_to_be_checked()
    agent.reload()
    expect(agent.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(switch).not_to_be_checked()
    assert after_hours_stored() is False
