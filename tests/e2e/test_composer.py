"""The composer's quick actions as a combobox, and what messages show: links, article cards, long words."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import col, select

from agent_workspace.models import Queue, User
from agent_workspace.services import canned
from tests.e2e.conftest import unique
from tests.e2e.test_interaction_tools import chat_pair

NO_REFERRER = "noopener noreferrer"


def _canned(world, queue: str, title: str, body: str) -> None:
    """A canned response of this test's queue, written as a supervisor would (by a seeded user)."""
    with world.session() as session:
        queue_id = session.exec(select(Queue.id).where(Queue.name == queue)).one()
        author = session.exec(select(User.id).order_by(col(User.id))).first()
        canned.create(session, title=title, body=body, queue_id=queue_id, created_by_id=author)


def _composer(agent: Page):
    return agent.get_by_role("combobox", name="Message")


def _send(page: Page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def test_arrow_keys_and_enter_pick_a_quick_action_and_send_nothing(app_server, world, new_context):
    queue, agent, customer, _name = chat_pair(app_server, world, new_context)
    tag = unique("greeting").replace(" ", "-")
    _canned(world, queue, f"Alpha {tag}", "Hello from the first reply.")
    _canned(world, queue, f"Beta {tag}", "Hello from the second reply.")
    composer = _composer(agent)
    composer.fill(f"/r {tag}")
    listbox = agent.get_by_role("listbox", name="Quick actions")
    expect(listbox.get_by_role("option")).to_have_count(2)
    expect(composer).to_have_attribute("aria-expanded", "true")
    expect(composer).to_have_attribute("aria-controls", re.compile("^quick-actions-"))
    expect(composer).to_be_focused()

    options = listbox.get_by_role("option")
    composer.press("ArrowDown")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(composer).to_have_attribute("aria-activedescendant", options.nth(0).get_attribute("id"))
    composer.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    composer.press("ArrowDown")  # wraps to the first
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    composer.press("ArrowUp")  # and back to the last
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(composer).to_have_attribute("aria-activedescendant", options.nth(1).get_attribute("id"))
    composer.press("Enter")

    expect(composer).to_have_value("Hello from the second reply.")  # picked, not sent
    expect(listbox).to_have_count(0)
    expect(composer).to_have_attribute("aria-expanded", "false")
    composer.press("Enter")  # now the reply itself is sent
    conversation = customer.get_by_role("log", name="Conversation")
    expect(conversation).to_contain_text("Hello from the second reply.")
    expect(conversation).not_to_contain_text(tag)


def test_escape_closes_the_list_and_a_second_escape_does_nothing(app_server, world, new_context):
    _queue, agent, _customer, name = chat_pair(app_server, world, new_context)
    composer = _composer(agent)
    composer.fill("/t")
    listbox = agent.get_by_role("listbox", name="Quick actions")
    expect(listbox.get_by_role("option", name="/tq Transfer to another queue")).to_be_visible()
    composer.press("ArrowDown")
    composer.press("Escape")
    expect(listbox).to_have_count(0)
    expect(composer).to_have_attribute("aria-expanded", "false")
    expect(composer).not_to_have_attribute("aria-activedescendant", re.compile("."))
    composer.press("Escape")
    expect(composer).to_have_value("/t")
    expect(composer).to_be_focused()
    expect(agent.get_by_role("dialog")).to_have_count(0)
    expect(agent.get_by_role("tab", name=name)).to_be_visible()  # the chat is still open

    composer.fill("/zz")  # no match: Escape closes the note too
    no_match = agent.get_by_role("status").filter(has_text="No quick action matches")
    expect(no_match).to_be_visible()
    expect(composer).to_have_attribute("aria-expanded", "false")  # nothing to enter
    composer.press("Escape")
    expect(no_match).to_have_count(0)

    composer.fill("/tq")  # a click picks too
    agent.get_by_role("listbox", name="Quick actions").get_by_role(
        "option", name="/tq Transfer to another queue"
    ).click()
    expect(agent.get_by_role("dialog", name="Transfer to another queue")).to_be_visible()


def test_a_typed_out_quick_action_runs_and_never_reaches_the_customer(app_server, world, new_context):
    _queue, agent, customer, _name = chat_pair(app_server, world, new_context)
    composer = _composer(agent)
    composer.fill("/kb printer")
    composer.press("Enter")  # straight away, before the list has settled or been entered
    expect(agent.get_by_role("tab", name="Agent Assist")).to_have_attribute("aria-selected", "true")
    expect(agent.get_by_label("Search the knowledge base")).to_have_value("printer")
    expect(composer).to_have_value("")

    _send(agent, "A real reply after the command")
    conversation = customer.get_by_role("log", name="Conversation")
    expect(conversation).to_contain_text("A real reply after the command")
    expect(conversation).not_to_contain_text("/kb printer")
    expect(agent.get_by_role("log", name="Conversation")).not_to_contain_text("/kb printer")


def test_urls_are_safe_links_both_ways_and_markup_stays_text(app_server, world, new_context):
    _queue, agent, customer, _name = chat_pair(app_server, world, new_context)
    url = f"https://example.com/help/{unique('page').replace(' ', '-')}?a=1"
    _send(agent, f"See {url}. Not javascript:alert(1) nor <img src=x onerror=alert(1)>")
    conversation = customer.get_by_role("log", name="Conversation")
    link = conversation.get_by_role("link", name=url)
    expect(link).to_have_attribute("href", url)
    expect(link).to_have_attribute("rel", NO_REFERRER)
    expect(link).to_have_attribute("target", "_blank")
    expect(conversation).to_contain_text("Not javascript:alert(1) nor <img src=x onerror=alert(1)>")
    expect(conversation.get_by_role("link", name=re.compile("javascript"))).to_have_count(0)
    expect(conversation.locator("img")).to_have_count(0)
    expect(agent.get_by_role("log", name="Conversation").get_by_role("link", name=url)).to_be_visible()  # own copy

    _send(customer, "docs at www.example.org/docs and me@example.com")
    agent_log = agent.get_by_role("log", name="Conversation")
    expect(agent_log.get_by_role("link", name="www.example.org/docs")).to_have_attribute(
        "href", "http://www.example.org/docs"
    )
    expect(agent_log.get_by_role("link", name="me@example.com")).to_have_attribute("href", "mailto:me@example.com")
    expect(agent_log.get_by_role("link", name="www.example.org/docs")).to_have_attribute("rel", NO_REFERRER)


def test_an_article_from_agent_assist_arrives_as_a_card_with_a_working_link(app_server, world, new_context):
    _queue, agent, customer, _name = chat_pair(app_server, world, new_context, question="vpn not connecting")
    agent.get_by_role("tab", name="Agent Assist").click()
    results = agent.get_by_test_id("assist-result")
    expect(results.first).to_contain_text("VPN")
    title = results.first.get_by_role("heading").inner_text()
    results.first.get_by_role("button", name=f"Send in chat: {title}").click()

    card = customer.get_by_role("log", name="Conversation").get_by_role("article", name=title)
    expect(card.get_by_role("heading", name=title)).to_be_visible()
    link = card.get_by_role("link", name="Read the article")
    expect(link).to_have_attribute("href", re.compile(rf"^{re.escape(app_server.base_url)}/kb/KB\d{{7}}$"))
    expect(link).to_have_attribute("rel", NO_REFERRER)
    expect(link).to_have_attribute("target", "_blank")
    expect(agent.get_by_role("log", name="Conversation").get_by_role("article", name=title)).to_be_visible()
    with customer.context.expect_page() as opened:
        link.click()
    article_page = opened.value
    expect(article_page.get_by_role("heading", name=title)).to_be_visible()


def test_a_300_character_word_wraps_inside_its_bubble_on_a_phone(app_server, world, new_context):
    _queue, agent, customer, _name = chat_pair(app_server, world, new_context)
    customer.set_viewport_size({"width": 390, "height": 800})
    word = "W" + "x" * 298 + "Z"
    _send(agent, word)
    bubble = customer.get_by_test_id("message").filter(has_text=word[:40])
    text = bubble.get_by_text(word)
    expect(text).to_be_visible()
    box, inner = bubble.bounding_box(), text.bounding_box()
    assert box is not None and inner is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert inner["x"] >= box["x"] and inner["x"] + inner["width"] <= box["x"] + box["width"] + 0.5
    assert inner["height"] > 3 * 20  # wrapped onto several lines
    assert text.evaluate("el => el.scrollWidth <= el.clientWidth")  # nothing cut off inside
    assert customer.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
