"""Script and markup in names, messages and articles render as text: nothing runs, nothing foreign appears."""

from __future__ import annotations

from playwright.sync_api import expect

from agent_workspace.services import knowledge
from tests.e2e.conftest import agent_page, start_customer_chat
from tests.e2e.test_interaction_tools import accept_chat

PAYLOAD = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script><b id="foreign">bold</b>'
MARKDOWN = '# Title\n\n<img src=x onerror="window.__pwned=1"><div id="foreign">raw html</div>\n\n[click](javascript:window.__pwned=1)'


def assert_clean(page) -> None:
    assert page.evaluate("window.__pwned") is None
    expect(page.locator("#foreign")).to_have_count(0)
    expect(page.locator("img[src='x']")).to_have_count(0)


def test_markup_from_customers_and_articles_is_inert(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    name = f"Eve {PAYLOAD}"
    customer = start_customer_chat(new_context, base, name=name, queue=queue, question=PAYLOAD)
    customer.get_by_label("Message").fill(PAYLOAD)
    customer.get_by_role("button", name="Send", exact=True).click()
    agent = agent_page(new_context, base, username, password)
    expect(agent.get_by_test_id("inbox-card").first).to_contain_text("<script>")  # shown as text
    assert_clean(agent)
    accept_chat(agent, name)
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text('onerror="window.__pwned=1"')
    assert_clean(agent)
    assert_clean(customer)

    with world.session() as session:
        article = knowledge.upsert_article(session, title="Hostile article", body=MARKDOWN)
        session.commit()
        number = article.number
    page = new_context().new_page()
    page.goto(f"{base}/kb/{number}")
    expect(page.get_by_role("heading", name="Hostile article")).to_be_visible()
    assert_clean(page)
    link = page.get_by_role("link", name="click")
    if link.count():
        assert "javascript:" not in (link.get_attribute("href") or "")
