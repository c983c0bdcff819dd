# TEMPORARY (not for commit): screenshots of the inbox cards for a visual check.
from playwright.sync_api import expect

from tests.e2e.conftest import agent_page, set_presence, start_customer_chat, unique
from tests.e2e.test_interaction_tools import accept_chat


def test_screens(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    other = world.queue("Other")
    username, password = world.agent(queues=[queue, other], capacity=2, name="Screen Agent")
    names = [unique("Fay"), unique("Gus"), unique("Hal")]
    start_customer_chat(new_context, base, name=names[0], queue=queue, question="A fairly long question about an invoice that was charged twice last month")
    start_customer_chat(new_context, base, name=names[1], queue=other, question="Second")
    start_customer_chat(new_context, base, name=names[2], queue=queue, question="Third")
    agent = agent_page(new_context, base, username, password, available=False)
    set_presence(agent, "Away")
    expect(agent.get_by_test_id("inbox-card").first).to_be_visible()
    agent.screenshot(path="/tmp/aw-away-1280.png", full_page=True)
    agent.set_viewport_size({"width": 390, "height": 844})
    agent.screenshot(path="/tmp/aw-away-390.png", full_page=True)
    agent.set_viewport_size({"width": 1280, "height": 800})
    set_presence(agent, "Available")
    expect(agent.get_by_role("timer").first).to_be_visible()
    agent.screenshot(path="/tmp/aw-offered-1280.png", full_page=True)
    agent.set_viewport_size({"width": 390, "height": 844})
    agent.screenshot(path="/tmp/aw-offered-390.png", full_page=True)
    agent.set_viewport_size({"width": 1280, "height": 800})
    accept_chat(agent, names[0])
    accept_chat(agent, names[1])
    agent.get_by_role("tab", name="Inbox").click()
    expect(agent.get_by_test_id("inbox-card").first).to_be_visible()
    agent.screenshot(path="/tmp/aw-capacity-1280.png", full_page=True)
    agent.set_viewport_size({"width": 390, "height": 844})
    agent.screenshot(path="/tmp/aw-capacity-390.png", full_page=True)
