"""Agent Assist end to end: search with typos, open, send in chat, the public article page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from agent_workspace.services import knowledge
from tests.e2e.conftest import agent_page, start_customer_chat, unique
from tests.e2e.test_interaction_tools import accept_chat


def test_assist_finds_sends_and_the_customer_opens_the_article(app_server, world, new_context):
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    name = unique("Ivy")
    customer = start_customer_chat(
        new_context, app_server.base_url, name=name, queue=queue, question="I forgot my pasword, how do I reest it?"
    )
    agent = agent_page(new_context, app_server.base_url, username, password)
    accept_chat(agent, name)

    agent.get_by_role("tab", name="Agent Assist").click()
    results = agent.get_by_test_id("assist-result")
    expect(results.first).to_contain_text(re.compile("password", re.I))  # auto search despite typos

    agent.get_by_label("Search the knowledge base").fill("vnp not conecting")
    expect(results.first).to_contain_text("VPN")
    title = results.first.get_by_role("heading").inner_text()
    results.first.get_by_role("button", name=f"Open {title}").click()
    expect(agent.get_by_role("article", name=title)).to_be_visible()
    agent.get_by_role("article", name=title).get_by_role("button", name="Send in chat").click()

    card = customer.get_by_role("log", name="Conversation").get_by_role("article", name=title)
    href = card.get_by_role("link", name="Read the article").get_attribute("href")
    number = re.search(r"/kb/(KB\d{7})$", href).group(1)
    customer.goto(f"{app_server.base_url}/kb/{number}")
    expect(customer.get_by_role("heading", name=title)).to_be_visible()


def test_unpublished_articles_are_neither_public_nor_found(app_server, world, new_context):
    secret = unique("Internal escalation runbook")
    with world.session() as session:
        article = knowledge.upsert_article(session, title=secret, body="Only for staff.", published=False)
        number = article.number
    page = new_context().new_page()
    page.goto(f"{app_server.base_url}/kb/{number}")
    expect(page.get_by_role("heading", name="Article not found")).to_be_visible()
    expect(page.get_by_text(secret)).to_have_count(0)

    queue = world.queue()
    username, password = world.agent(queues=[queue])
    name = unique("Jon")
    start_customer_chat(new_context, app_server.base_url, name=name, queue=queue, question="escalation runbook")
    agent = agent_page(new_context, app_server.base_url, username, password)
    accept_chat(agent, name)
    agent.get_by_role("tab", name="Agent Assist").click()
    agent.get_by_label("Search the knowledge base").fill(secret)
    expect(agent.get_by_text("Searching…")).to_have_count(0)
    expect(agent.get_by_test_id("assist-result").filter(has_text=secret)).to_have_count(0)
