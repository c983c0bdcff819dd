"""The seed procedure end to end: a customer asks, an agent accepts and they talk."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlmodel import select

from agent_workspace.models import Interaction, Message
from agent_workspace.services import conversations
from agent_workspace.state.chat_cookies import PARTITIONED_CHAT_COOKIE, STRICT_CHAT_COOKIE
from tests.e2e.conftest import agent_page, close_chat, end_chat, sign_in, start_customer_chat, unique
from tests.e2e.test_interaction_tools import chat_pair


def test_agent_signs_in_and_reaches_the_inbox(app_server, world, new_context):
    queue = world.queue()
    username, password = world.agent(queues=[queue], name="Grace Hopper")
    page = agent_page(new_context, app_server.base_url, username, password, available=False)
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text("All")
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text("Workspace Home")
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text("Inbox")
    expect(page.get_by_text("Grace Hopper")).to_be_visible()
    expect(page.get_by_text("No customers are waiting in your queues.")).to_be_visible()


def test_wrong_password_is_refused(app_server, world, new_context):
    username, _password = world.agent(queues=[])
    page = new_context().new_page()
    sign_in(page, app_server.base_url, username, "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password.")
    page.goto(f"{app_server.base_url}/workspace")
    expect(page).to_have_url(re.compile(r"/login"))


def test_user_without_the_role_is_refused(app_server, world, new_context):
    username, password = world.agent(queues=[], roles=())
    page = new_context().new_page()
    sign_in(page, app_server.base_url, username, password)
    expect(page.get_by_role("heading", name="You need the workspace_user role")).to_be_visible()
    expect(page.get_by_role("heading", name="Inbox")).to_have_count(0)


def test_customer_and_agent_chat_in_real_time(app_server, world, new_context):
    base = app_server.base_url
    billing, tech = world.queue("Billing"), world.queue("Tech")
    username, password = world.agent(queues=[billing, tech], name="Ada Agent")
    first_name, second_name, other_name = unique("Olive"), unique("Pete"), unique("Quinn")

    first = start_customer_chat(new_context, base, name=first_name, queue=billing, question="I was charged twice")
    expect(first.get_by_test_id("queue-position")).to_have_text("1")
    second = start_customer_chat(new_context, base, name=second_name, queue=billing, question="Where is my invoice?")
    expect(second.get_by_test_id("queue-position")).to_have_text("2")

    agent = agent_page(new_context, base, username, password)
    cards = agent.get_by_test_id("inbox-card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text(first_name)  # oldest first
    cards.first.get_by_role("button", name="Accept").click()

    # Accept connects to the oldest request, with the acknowledgement and customer info.
    expect(agent.get_by_role("tab", name=first_name)).to_be_visible()
    expect(agent.get_by_label("Customer information")).to_contain_text("customer@example.com")
    expect(agent.get_by_label("Customer information")).to_contain_text("I was charged twice")
    conversation = agent.get_by_role("log", name="Conversation")
    expect(conversation).to_contain_text("Your request to")
    expect(first.get_by_role("heading", name="Chatting with Ada Agent")).to_be_visible()
    expect(second.get_by_test_id("queue-position")).to_have_text("1")  # moved up, live

    agent.get_by_label("Message").fill("Hello! Let me look at your account.")
    agent.get_by_role("button", name="Send").click()
    expect(first.get_by_role("log", name="Conversation")).to_contain_text("Hello! Let me look at your account.")
    expect(conversation.get_by_text("Sent")).to_be_visible()
    first.get_by_label("Message").fill("Thank you, it is invoice 42.")
    first.get_by_role("button", name="Send").click()
    expect(conversation).to_contain_text("Thank you, it is invoice 42.")

    # A second chat from another queue opens in a second tab.
    third = start_customer_chat(new_context, base, name=other_name, queue=tech, question="VPN drops every hour")
    agent.get_by_role("tab", name=re.compile("Inbox")).click()
    tech_card = agent.get_by_test_id("inbox-card").filter(has_text=other_name)
    tech_card.get_by_role("button", name="Accept").click()
    expect(agent.get_by_role("tab", name=other_name)).to_be_visible()
    expect(agent.get_by_role("tab", name=first_name)).to_be_visible()
    agent.get_by_label("Message").fill("Hi, which VPN client do you use?")
    agent.get_by_role("button", name="Send").click()
    expect(third.get_by_role("log", name="Conversation")).to_contain_text("which VPN client")
    expect(first.get_by_role("log", name="Conversation")).not_to_contain_text("which VPN client")

    # Unread count on the inactive tab.
    first.get_by_label("Message").fill("Are you still there?")
    first.get_by_role("button", name="Send").click()
    expect(agent.get_by_role("tab", name=first_name)).to_contain_text("1")

    # Reloading either side keeps the whole history.
    first.reload()
    expect(first.get_by_role("log", name="Conversation")).to_contain_text("Hello! Let me look at your account.")
    expect(first.get_by_role("log", name="Conversation")).to_contain_text("Are you still there?")
    agent.reload()
    expect(agent.get_by_role("tab", name=first_name)).to_be_visible()
    expect(agent.get_by_role("tab", name=other_name)).to_be_visible()
    agent.get_by_role("tab", name=first_name).click()
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text("Thank you, it is invoice 42.")


def test_reject_asks_for_a_reason_and_is_not_offered_again(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    name = unique("Rita")
    start_customer_chat(new_context, base, name=name, queue=queue, question="Need a refund")
    agent = agent_page(new_context, base, username, password)
    card = agent.get_by_test_id("inbox-card").filter(has_text=name)
    expect(card).to_contain_text("Time to accept")
    card.get_by_role("button", name="Reject").click()
    dialog = agent.get_by_role("dialog", name="Reject chat")
    dialog.get_by_label("Reason").fill("Wrong language for me")
    dialog.get_by_role("button", name="Reject chat").click()
    expect(dialog).to_be_hidden()
    expect(agent.get_by_test_id("inbox-card").filter(has_text=name)).to_have_count(0)
    agent.reload()
    expect(agent.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(agent.get_by_test_id("inbox-card").filter(has_text=name)).to_have_count(0)


def test_close_saves_the_transcript_and_closing_the_tab_does_not(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    kept, dropped = unique("Kim"), unique("Lou")
    kept_page = start_customer_chat(new_context, base, name=kept, queue=queue, question="Reset my password")
    dropped_page = start_customer_chat(new_context, base, name=dropped, queue=queue, question="Change my address")
    agent = agent_page(new_context, base, username, password)
    for name in (kept, dropped):
        agent.get_by_role("tab", name=re.compile("Inbox")).click()
        agent.get_by_test_id("inbox-card").filter(has_text=name).get_by_role("button", name="Accept").click()
        expect(agent.get_by_role("tab", name=name)).to_be_visible()
        agent.get_by_label("Message").fill(f"Hello {name}")
        agent.get_by_role("button", name="Send").click()
        expect(agent.get_by_role("log", name="Conversation").get_by_text("Sent")).to_be_visible()

    agent.get_by_role("tab", name=kept).click()
    close_chat(agent)
    expect(agent.get_by_role("tab", name=kept)).to_have_count(0)
    expect(kept_page.get_by_text("This chat has ended.")).to_be_visible()
    expect(kept_page.get_by_role("link", name="Download transcript")).to_be_visible()

    agent.get_by_role("tab", name=dropped).click()
    agent.get_by_role("button", name=f"Close tab {dropped}").click()
    warning = agent.get_by_role("alertdialog")
    expect(warning).to_contain_text("NOT saved")
    warning.get_by_role("button", name="End chat without saving").click()
    expect(agent.get_by_role("tab", name=dropped)).to_have_count(0)
    expect(dropped_page.get_by_text("This chat has ended.")).to_be_visible()

    with world.session() as session:
        saved = session.exec(
            select(Interaction).where(Interaction.question == "Reset my password").order_by(Interaction.id.desc())
        ).first()
        unsaved = session.exec(
            select(Interaction).where(Interaction.question == "Change my address").order_by(Interaction.id.desc())
        ).first()
        assert saved.state == "closed_complete" and saved.close_reason == "agent_ended"
        assert f"Hello {kept}" in saved.transcript
        assert unsaved.state == "closed_complete" and unsaved.close_reason == "tab_closed_without_saving"
        assert unsaved.transcript is None


def test_typing_indicators_both_ways(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue], name="Tess Typer")
    name = unique("Uma")
    customer = start_customer_chat(new_context, base, name=name, queue=queue, question="Order status")
    agent = agent_page(new_context, base, username, password)
    agent.get_by_test_id("inbox-card").filter(has_text=name).get_by_role("button", name="Accept").click()
    expect(agent.get_by_role("tab", name=name)).to_be_visible()
    customer.get_by_label("Message").press_sequentially("Where is my parcel", delay=30)
    expect(agent.get_by_text(f"{name} is typing…")).to_be_visible()
    customer.get_by_label("Message").press("Enter")  # the message ends the typing at once
    expect(agent.get_by_role("log", name="Conversation").last).to_contain_text("Where is my parcel")
    expect(agent.get_by_text(f"{name} is typing…")).to_be_hidden()
    agent.get_by_label("Message").press_sequentially("Checking now", delay=30)
    expect(customer.get_by_text("Tess Typer is typing…")).to_be_visible()
    # Nobody sends: the signal expires by itself (TYPING_SECONDS after the last one).
    expect(customer.get_by_text("Tess Typer is typing…")).to_be_hidden(timeout=10_000)


def test_customer_ends_the_chat_and_the_agent_wraps_up(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    name = unique("Vic")
    customer = start_customer_chat(new_context, base, name=name, queue=queue, question="Cancel my plan")
    agent = agent_page(new_context, base, username, password)
    agent.get_by_test_id("inbox-card").filter(has_text=name).get_by_role("button", name="Accept").click()
    expect(customer.get_by_role("heading", name=re.compile("Chatting with"))).to_be_visible()
    end_chat(customer)
    expect(customer.get_by_text("This chat has ended.")).to_be_visible()
    expect(agent.get_by_text("The customer ended the chat. Complete the Details and Close.")).to_be_visible()
    close_chat(agent)
    expect(agent.get_by_role("tab", name=name)).to_have_count(0)
    with world.session() as session:
        item = session.exec(
            select(Interaction).where(Interaction.question == "Cancel my plan").order_by(Interaction.id.desc())
        ).first()
        assert item.close_reason == "customer_ended" and item.transcript


def test_a_customer_cannot_reach_another_customers_chat(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    victim_name = unique("Wendy")
    victim = start_customer_chat(
        new_context, base, name=victim_name, queue=queue, question="My account number is 99-1234"
    )
    victim.get_by_label("Message").fill("secret detail")
    victim.get_by_role("button", name="Send", exact=True).click()
    expect(victim.get_by_role("log", name="Conversation").get_by_text("Sent")).to_be_visible()

    attacker_context = new_context()
    # The chat cookie, and the Strict one it replaced (carried over from browsers that hold it).
    guesses = [(PARTITIONED_CHAT_COOKIE, guess) for guess in ("1", "2", "IMS0001001", "x" * 32)] + [
        (STRICT_CHAT_COOKIE, "IMS0001001")
    ]
    for cookie, guess in guesses:
        attacker_context.clear_cookies()
        attacker_context.add_cookies([{"name": cookie, "value": guess, "url": base}])
        attacker = attacker_context.new_page()
        attacker.goto(f"{base}/chat")
        expect(attacker.get_by_role("button", name="Start chat")).to_be_visible()
        expect(attacker.get_by_text("secret detail")).to_have_count(0)
        expect(attacker.get_by_text(victim_name)).to_have_count(0)
        attacker.close()


def test_customer_rates_the_chat_and_the_supervisor_sees_it(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue("Survey")
    username, password = world.agent(queues=[queue], roles=("workspace_user", "supervisor"))
    name = unique("Zed")
    customer = start_customer_chat(new_context, base, name=name, queue=queue, question="Quick question")
    agent = agent_page(new_context, base, username, password)
    agent.get_by_test_id("inbox-card").filter(has_text=name).get_by_role("button", name="Accept").click()
    close_chat(agent)
    expect(customer.get_by_text("This chat has ended.")).to_be_visible()
    customer.get_by_role("button", name="Send feedback").click()
    expect(customer.get_by_role("alert")).to_contain_text("Choose a rating")
    customer.get_by_role("radio", name="4 out of 5").click()
    customer.get_by_label("Comment (optional)").fill("Fast and friendly")
    customer.get_by_role("button", name="Send feedback").click()
    expect(customer.get_by_text("Thanks for your feedback!")).to_be_visible()
    agent.goto(f"{base}/supervisor")
    row = agent.get_by_role("table", name="Queues today").get_by_role("row").filter(has_text=queue)
    expect(row).to_contain_text("4.0 / 5 (1)")


# Whether a message lies inside the visible part of its scrolling conversation.
SHOWN_IN_ITS_LOG = """message => {
  const log = message.closest('.aw-scroll').getBoundingClientRect(), box = message.getBoundingClientRect();
  return box.top >= log.top - 1 && box.bottom <= log.bottom + 1;
}"""


def test_a_refused_send_shows_failed_and_retry_sends_it_once(app_server, world, new_context):
    _queue, agent, customer, _name = chat_pair(app_server, world, new_context, question="Flood test")
    expect(customer.get_by_role("heading", name=re.compile("Chatting with"))).to_be_visible()

    # Past the per-chat rate limit the server refuses the send: the page says why and offers Retry.
    own = customer.get_by_test_id("message")
    for number in range(1, 12):
        customer.get_by_label("Message").fill(f"burst {number}")
        customer.get_by_role("button", name="Send", exact=True).click()
        expect(own.filter(has_text=f"burst {number}").get_by_text(re.compile("^(Sent|Failed)"))).to_be_visible()
    refused = own.filter(has_text="burst 11")
    expect(refused).to_contain_text("Failed: Slow down")
    # The log overflows and stays scrolled to the newest message on both sides.
    assert customer.get_by_role("log", name="Conversation").evaluate(
        "log => { const box = log.closest('.aw-scroll'); return box.scrollHeight > box.clientHeight; }"
    )
    assert refused.evaluate(SHOWN_IN_ITS_LOG)
    assert agent.get_by_test_id("message").filter(has_text="burst 10").evaluate(SHOWN_IN_ITS_LOG)
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text("burst 10")
    expect(agent.get_by_role("log", name="Conversation")).not_to_contain_text("burst 11")

    # Once the window has passed (the burst is aged in the database rather than
    # waited for), Retry stores it exactly once.
    with world.session() as session:
        item = session.exec(
            select(Interaction).where(Interaction.question == "Flood test").order_by(Interaction.id.desc())
        ).first()
        for message in session.exec(select(Message).where(Message.interaction_id == item.id)):
            message.created_at -= conversations.MESSAGE_RATE_WINDOW
            session.add(message)
        session.commit()
    refused.get_by_role("button", name="Retry").click()
    expect(refused.get_by_text("Sent")).to_be_visible()
    expect(agent.get_by_role("log", name="Conversation").get_by_text("burst 11")).to_have_count(1)
    expect(own.filter(has_text="burst 11")).to_have_count(1)
    with world.session() as session:
        bodies = [m.body for m in session.exec(select(Message).where(Message.interaction_id == item.id))]
        assert bodies.count("burst 11") == 1
