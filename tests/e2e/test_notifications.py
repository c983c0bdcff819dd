"""Sound alerts for new offers and messages, the sound switch, keyboard shortcuts."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import agent_page, start_customer_chat, unique

COUNT_BEEPS = """
window.__beeps = 0;
const realCreateOscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__beeps += 1; return realCreateOscillator.call(this); };
"""


def test_offers_and_messages_beep_until_sound_is_turned_off(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    context = new_context()
    context.add_init_script(COUNT_BEEPS)
    agent_context_page = agent_page(lambda: context, base, username, password)
    name = unique("Bea")
    customer = start_customer_chat(new_context, base, name=name, queue=queue, question="Beep?")
    expect(agent_context_page.get_by_test_id("inbox-card").filter(has_text=name)).to_be_visible()
    agent_context_page.wait_for_function("window.__beeps >= 1")

    agent_context_page.keyboard.press("Alt+A")  # shortcut: accept
    expect(agent_context_page.get_by_role("tab", name=name)).to_be_visible()
    beeps = agent_context_page.evaluate("window.__beeps")
    customer.get_by_label("Message").fill("Hello?")
    customer.get_by_role("button", name="Send", exact=True).click()
    agent_context_page.wait_for_function(f"window.__beeps > {beeps}")

    agent_context_page.get_by_role("button", name="Sound on").click()
    expect(agent_context_page.get_by_role("button", name="Sound off")).to_be_visible()
    beeps = agent_context_page.evaluate("window.__beeps")
    customer.get_by_label("Message").fill("Still there?")
    customer.get_by_role("button", name="Send", exact=True).click()
    expect(agent_context_page.get_by_role("log", name="Conversation")).to_contain_text("Still there?")
    assert agent_context_page.evaluate("window.__beeps") == beeps

    agent_context_page.keyboard.press("Alt+H")
    expect(agent_context_page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
