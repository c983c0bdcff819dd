"""Small labels an agent and a customer read all day: "Saved" only under the chat
saved, the customer's own upload as "You", and after a transfer the previous
agent's messages under their name and in a style that is not the reader's own."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import agent_page, start_customer_chat, unique
from tests.e2e.test_accessibility import serious_violations
from tests.e2e.test_interaction_tools import accept_chat, chat_pair

SHOTS = "/tmp/shots-readable"
MINE, COLLEAGUE, THEIRS = re.compile(r"\baw-mine\b"), re.compile(r"\baw-colleague\b"), re.compile(r"\baw-theirs\b")


def test_saved_shows_only_under_the_chat_that_was_saved(app_server, world, new_context):
    queue, agent, _customer, first = chat_pair(app_server, world, new_context)
    second = unique("Cust")
    start_customer_chat(new_context, app_server.base_url, name=second, queue=queue, question="Second question")
    accept_chat(agent, second)

    agent.get_by_role("tab", name=first).click()
    # The tab shows once the server has it: fill only then, or the text lands in the other chat's form.
    expect(agent.get_by_role("tab", name=first)).to_have_attribute("aria-selected", "true")
    agent.get_by_label("Work notes").fill("Saved in the first chat")
    agent.get_by_role("button", name="Save", exact=True).click()
    saved = agent.get_by_role("status").filter(has_text="Saved")
    expect(saved).to_be_visible()

    agent.get_by_role("tab", name=second).click()
    expect(agent.get_by_role("tab", name=second)).to_have_attribute("aria-selected", "true")
    expect(agent.get_by_label("Work notes")).to_have_value("")
    expect(saved).to_have_count(0)
    agent.get_by_role("tab", name=first).click()
    expect(saved).to_be_visible()  # it is still that chat's


def test_the_customers_own_upload_reads_you(app_server, world, new_context, tmp_path):
    _queue, agent, customer, name = chat_pair(app_server, world, new_context)
    notes = tmp_path / "notes.txt"
    notes.write_text("error code 0x80070005\n")
    customer.locator("#customer-attachments input[type=file]").set_input_files(notes)
    customer.get_by_role("button", name="Upload files").click()

    def bubble(page):
        return page.get_by_test_id("message").filter(has=page.get_by_role("link", name="notes.txt"))

    expect(bubble(customer)).to_contain_text("You")
    expect(bubble(customer)).not_to_contain_text(name)
    expect(bubble(customer)).to_have_class(MINE)
    expect(bubble(agent)).to_contain_text(name)
    expect(bubble(agent)).to_have_class(THEIRS)
    customer.get_by_role("log", name="Conversation").screenshot(path=f"{SHOTS}/customer-upload-you.png")


def test_after_a_transfer_the_previous_agents_messages_are_theirs(app_server, world, new_context):
    queue = world.queue()
    first_name, second_name = unique("First"), unique("Second")
    first_user, first_password = world.agent(queues=[queue], name=first_name)
    second_user, second_password = world.agent(queues=[], name=second_name)
    name = unique("Cust")
    customer = start_customer_chat(new_context, app_server.base_url, name=name, queue=queue, question="My laptop")
    first = agent_page(new_context, app_server.base_url, first_user, first_password)
    accept_chat(first, name)
    first.get_by_label("Message").fill("Let me hand you to a colleague.")
    first.get_by_role("button", name="Send").click()
    sent = first.get_by_test_id("message").filter(has_text="Let me hand you to a colleague.")
    expect(sent).to_contain_text("You")
    expect(sent).to_have_class(MINE)
    expect(customer.get_by_role("log", name="Conversation")).to_contain_text("Let me hand you to a colleague.")

    second = agent_page(new_context, app_server.base_url, second_user, second_password)
    first.get_by_role("button", name="Transfer to agent").click()
    dialog = first.get_by_role("dialog", name="Transfer to another agent")
    dialog.get_by_label("Agent", exact=True).select_option(label=f"{second_name} — Available, 0/4 chats")
    dialog.get_by_label("Note for the agent").fill("Over to you")
    dialog.get_by_role("button", name="Offer transfer").click()
    second.get_by_test_id("transfer-card").filter(has_text=name).get_by_role("button", name="Accept transfer").click()
    expect(second.get_by_role("tab", name=name)).to_be_visible()
    # The chat's history is not news: no unread count on the tab just taken over (found on a shift).
    expect(second.get_by_role("tab", name=name).get_by_label(re.compile("unread"))).to_have_count(0)

    earlier = second.get_by_test_id("message").filter(has_text="Let me hand you to a colleague.")
    expect(earlier).to_contain_text(first_name)
    expect(earlier).not_to_contain_text("You")
    expect(earlier).to_have_class(COLLEAGUE)
    second.get_by_label("Message").fill("Hi, I am taking over.")
    second.get_by_role("button", name="Send").click()
    own = second.get_by_test_id("message").filter(has_text="Hi, I am taking over.")
    expect(own).to_contain_text("You")
    expect(own).to_have_class(MINE)
    second.get_by_role("log", name="Conversation").screenshot(path=f"{SHOTS}/transfer-colleague-light.png")

    second.reload()  # read again from the database: the same
    second.get_by_role("tab", name=name).click()
    expect(earlier).to_have_class(COLLEAGUE)
    expect(own).to_have_class(MINE)
    for text in ("Let me hand you to a colleague.", "Hi, I am taking over."):  # the agents' side, to the customer
        expect(customer.get_by_test_id("message").filter(has_text=text)).to_have_class(THEIRS)
    second.get_by_role("button", name="Toggle dark mode").click()
    expect(second.locator("html.dark")).to_have_count(1)
    second.get_by_role("log", name="Conversation").screenshot(path=f"{SHOTS}/transfer-colleague-dark.png")
    assert serious_violations(second) == []


def test_typed_details_survive_a_push_that_rereads_the_chat(app_server, world, new_context):
    """What an agent types in Details and has not saved yet stays while a push
    re-reads the chat: here the same email starts another chat, so the open chat's
    "earlier interactions" list grows under the agent's hands."""
    email = f"{unique('same').replace(' ', '')}@example.com"
    queue, other_queue = world.queue(), world.queue()
    username, password = world.agent(queues=[queue])
    name = unique("Cust")
    start_customer_chat(new_context, app_server.base_url, name=name, queue=queue, question="First", email=email)
    agent = agent_page(new_context, app_server.base_url, username, password)
    accept_chat(agent, name)
    notes = agent.get_by_label("Work notes")
    notes.fill("Typed, not saved yet")
    start_customer_chat(new_context, app_server.base_url, name=name, queue=other_queue, question="Second", email=email)
    info = agent.get_by_label("Customer information")
    expect(info.get_by_role("link", name=re.compile(r"\(opens in a new tab\)"))).to_have_count(1)  # the push came
    expect(notes).to_have_value("Typed, not saved yet")
