"""axe-core on every page: no serious or critical violations."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import select

from agent_workspace.config import PROJECT_ROOT
from agent_workspace.models import KnowledgeArticle
from tests.e2e.conftest import agent_page, start_customer_chat, unique
from tests.e2e.test_interaction_tools import accept_chat

AXE = (PROJECT_ROOT / ".tools/node_modules/axe-core/axe.min.js").read_text()


def serious_violations(page: Page) -> list[str]:
    page.add_script_tag(content=AXE)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_public_pages(app_server, world, new_context):
    page = new_context().new_page()
    for path, landmark in (("/", "Chat with support"), ("/login", "Sign in"), ("/chat", "Start chat")):
        page.goto(app_server.base_url + path)
        expect(
            page.get_by_role("button", name=landmark).or_(page.get_by_role("link", name=landmark)).first
        ).to_be_visible()
        assert serious_violations(page) == [], path
    with world.session() as session:
        number = session.exec(select(KnowledgeArticle.number).order_by(KnowledgeArticle.id)).first()
    page.goto(f"{app_server.base_url}/kb/{number}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert serious_violations(page) == []


def test_workspace_pages(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue], roles=("workspace_user", "supervisor"))
    name = unique("Yara")
    customer = start_customer_chat(new_context, base, name=name, queue=queue, question="Where is my refund?")
    agent = agent_page(new_context, base, username, password)
    expect(agent.get_by_test_id("inbox-card").first).to_be_visible()
    assert serious_violations(agent) == [], "inbox"
    accept_chat(agent, name)
    agent.get_by_label("Message").fill("Hello, checking")
    agent.get_by_role("button", name="Send").click()
    expect(customer.get_by_role("log", name="Conversation")).to_contain_text("Hello, checking")
    problems = serious_violations(agent)
    assert problems == [], problems
    assert serious_violations(customer) == [], "customer chat"
    agent.get_by_role("tab", name="Agent Assist").click()
    expect(agent.get_by_test_id("assist-result").first).to_be_visible()
    assert serious_violations(agent) == [], "Agent Assist"
    agent.goto(f"{base}/supervisor")
    expect(agent.get_by_role("table", name="Queues today")).to_be_visible()
    assert serious_violations(agent) == [], "supervisor"
    assert re.search("supervisor", agent.url)
