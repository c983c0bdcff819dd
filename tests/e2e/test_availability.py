"""No customer is stranded: a lapsed offer comes back, nobody on duty is said plainly,
the choice of leaving a message or waiting, business hours in the visitor's time zone."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlmodel import col, select

from agent_workspace.models import Interaction, InteractionState, Queue, SupportRecord, utcnow
from agent_workspace.services import availability, hours
from agent_workspace.state.customer import CustomerChatState
from tests.e2e.conftest import agent_page, set_presence, start_customer_chat, unique
from tests.e2e.ws_client import EventClient

SWEEP = 15_000  # ms: the sweeper runs every 2 s, the page's pushes come right after


def _lapse_offers_of(world, queue_name: str) -> None:
    """Time passes for the offer: its deadline is moved into the past, and the app's sweeper does the rest."""
    with world.session() as session:
        queue_id = session.exec(select(Queue.id).where(Queue.name == queue_name)).one()
        session.execute(
            update(Interaction)
            .where(col(Interaction.queue_id) == queue_id, col(Interaction.state) == InteractionState.OFFERED)
            .values(offer_expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()


def _close_for_two_days(world, queue_name: str, message: str = "") -> None:
    today = utcnow().date()
    with world.session() as session:
        queue_id = session.exec(select(Queue.id).where(Queue.name == queue_name)).one()
        hours.set_hours(
            session,
            queue_id=queue_id,
            weekly_hours="Mon-Sun 08:00-17:00",
            time_zone="UTC",
            closures=f"{today}..{today + timedelta(days=1)}",
            closed_message=message,
            actor_id=None,
        )


def _choose_topic(page: Page, base_url: str, queue: str) -> Page:
    page.goto(f"{base_url}/chat")
    page.get_by_label("What do you need help with?").select_option(label=queue)
    return page


def test_a_lone_agent_who_lets_an_offer_lapse_gets_it_again(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue("Lone")
    username, password = world.agent(queues=[queue], name="Lone Agent")
    agent = agent_page(new_context, base, username, password)
    customer = start_customer_chat(new_context, base, name=unique("Stranded"), queue=queue, question="Anyone there?")
    card = agent.get_by_test_id("inbox-card")
    expect(card).to_have_count(1)

    _lapse_offers_of(world, queue)

    # The agent is told why they are Away; the customer is told plainly that nobody is there.
    expect(agent.get_by_role("status", name="Notices")).to_contain_text(
        f"You missed an offer from {queue}; you are Away.", timeout=SWEEP
    )
    expect(agent.get_by_label("Presence")).to_contain_text("Away")
    banner = customer.get_by_role("status", name="Your place in line")
    expect(banner).to_contain_text(f"Nobody from {queue} is available right now.", timeout=SWEEP)
    expect(customer.get_by_test_id("queue-position")).to_have_text("1")

    # The notice stays until dismissed: a reload (or another tab) shows it again.
    agent.reload()
    notices = agent.get_by_role("status", name="Notices")
    expect(notices).to_contain_text(f"You missed an offer from {queue}")
    notices.get_by_role("button", name="Dismiss").click()
    expect(notices).not_to_contain_text("You missed an offer")
    agent.reload()
    expect(agent.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(agent.get_by_role("status", name="Notices")).not_to_contain_text("You missed an offer")

    # Back to Available: the same chat is offered to the same agent, who takes it.
    set_presence(agent, "Available")
    expect(card).to_contain_text("Time to accept")
    card.get_by_role("button", name="Accept").click()
    expect(customer.get_by_role("heading", name="Chatting with Lone Agent")).to_be_visible()


def test_nobody_on_duty_is_said_before_starting_and_a_message_can_be_left(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue("Nobody")
    username, password = world.agent(queues=[queue], name="Offline Agent")
    name = unique("Writer")
    page = _choose_topic(new_context().new_page(), base, queue)
    notice = page.get_by_role("status", name="Availability")
    expect(notice).to_contain_text(f"Nobody from {queue} is available right now.")

    # It changes while the visitor looks: an agent comes on duty, then leaves again.
    agent = agent_page(new_context, base, username, password)
    expect(notice).to_contain_text("An agent is available now.", timeout=SWEEP + 10_000)
    set_presence(agent, "Offline")
    expect(notice).to_contain_text(f"Nobody from {queue} is available right now.", timeout=SWEEP + 10_000)

    # What was typed comes along into the message form.
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill("writer@example.com")
    page.get_by_label("Your question").fill("My parcel never arrived.")
    notice.get_by_role("button", name="Leave a message").click()
    expect(page.get_by_role("heading", name="Leave a message")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value(name)
    expect(page.get_by_label("Email")).to_have_value("writer@example.com")
    expect(page.get_by_label("Your message")).to_have_value("My parcel never arrived.")
    page.get_by_role("button", name="Send message").click()

    expect(page.get_by_role("heading", name="Thanks, we got your message")).to_be_visible()
    thanks = page.get_by_role("status").filter(has_text="A confirmation is on its way to your inbox.")
    expect(thanks).to_be_visible()  # (the page's other status region is the connection banner)
    with world.session() as session:
        record = session.exec(
            select(SupportRecord).where(SupportRecord.description == "My parcel never arrived.")
        ).one()
    expect(thanks).to_contain_text(record.number)
    confirmation = app_server.mailbox.wait_for(f"We received your message ({record.number})")
    assert confirmation["To"] == "writer@example.com"


def test_bad_input_in_the_message_form_changes_nothing(app_server, world, new_context):
    queue = world.queue("Typo")
    page = _choose_topic(new_context().new_page(), app_server.base_url, queue)
    page.get_by_role("status", name="Availability").get_by_role("button", name="Leave a message").click()
    expect(
        page.get_by_role("heading", name="Leave a message")
    ).to_be_visible()  # else the pre-chat form's field is filled
    page.get_by_label("Your name").fill("Someone")
    page.get_by_label("Email").fill("not-an-email@x")
    page.get_by_label("Your message").fill("Hello")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter a valid email address")
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_role("heading", name="Chat with support")).to_be_visible()


def test_keep_waiting_stays_in_line_until_someone_is_available(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue("Patience")
    username, password = world.agent(queues=[queue], name="Late Agent")
    customer = start_customer_chat(new_context, base, name=unique("Patient"), queue=queue, question="I can wait.")
    banner = customer.get_by_role("status", name="Your place in line")
    expect(banner).to_contain_text(f"Nobody from {queue} is available right now.")
    expect(customer.get_by_role("log", name="Conversation")).to_contain_text("nobody is available right now")
    banner.get_by_role("button", name="Keep waiting").click()
    expect(banner).to_contain_text("You're still in line")
    expect(banner.get_by_role("button", name="Keep waiting")).to_have_count(0)

    agent = agent_page(new_context, base, username, password)
    expect(banner).to_contain_text("An agent is about to join.", timeout=SWEEP)
    agent.get_by_test_id("inbox-card").get_by_role("button", name="Accept").click()
    expect(customer.get_by_role("heading", name="Chatting with Late Agent")).to_be_visible()


def test_a_waiting_customer_can_leave_a_message_instead(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue("Instead")
    name = unique("Leaver")
    customer = start_customer_chat(
        new_context, base, name=name, queue=queue, question="Never mind the chat.", email="leaver@example.com"
    )
    banner = customer.get_by_role("status", name="Your place in line")
    banner.get_by_role("button", name="Leave a message").click()
    expect(customer.get_by_label("Your name")).to_have_value(name)
    expect(customer.get_by_label("Email")).to_have_value("leaver@example.com")
    customer.get_by_label("Your message").fill("Please call me back about my order.")
    customer.get_by_role("button", name="Send message").click()
    expect(customer.get_by_role("heading", name="Thanks, we got your message")).to_be_visible()

    # The chat it waited in is over (nobody will be offered it); a reload keeps the confirmation.
    with world.session() as session:
        chat = session.exec(select(Interaction).where(Interaction.question == "Never mind the chat.")).one()
        assert chat.state == InteractionState.CLOSED_ABANDONED
        record = session.exec(select(SupportRecord).where(SupportRecord.interaction_id == chat.id)).one()
        # What was written in the chat comes along (nothing a customer writes is lost).
        assert record.description.startswith("Please call me back about my order.")
        assert "Never mind the chat." in record.description
    customer.reload()
    expect(customer.get_by_role("status").filter(has_text=f"Your reference is {record.number}.")).to_be_visible()
    customer.get_by_role("button", name="Start a new chat").click()
    expect(customer.get_by_role("heading", name="Chat with support")).to_be_visible()


def test_out_of_hours_says_when_the_team_is_back_in_the_visitors_time_zone(app_server, world, browser):
    queue = world.queue("Hours")
    _close_for_two_days(world, queue, message="We are closed for stocktaking.")
    context = browser.new_context(timezone_id="Asia/Tokyo", viewport={"width": 390, "height": 800})
    try:
        page = _choose_topic(context.new_page(), app_server.base_url, queue)
        notice = page.get_by_role("status", name="Availability")
        with world.session() as session:
            queue_row = session.exec(select(Queue).where(Queue.name == queue)).one()
            opens = hours.next_opening(hours.hours_of(queue_row), utcnow())
        back = availability.when_back(opens, time_zone="Asia/Tokyo")
        assert back.endswith("at 17:00")  # 08:00 UTC
        expect(notice).to_contain_text(f"{queue} is closed right now. We're back {back} (your time).")
        expect(notice).to_contain_text("We are closed for stocktaking.")
        expect(notice.get_by_role("button", name="Leave a message")).to_be_visible()
        page.screenshot(path=str(app_server.data_dir / "out-of-hours-mobile.png"), full_page=True)
    finally:
        context.close()


def test_the_new_public_handlers_refuse_hostile_input_over_the_websocket(app_server, world):
    """What the internet can send them: huge strings, wrong types, out-of-order calls."""
    queue = world.queue("Hostile")
    with world.session() as session:
        queue_id = session.exec(select(Queue.id).where(Queue.name == queue)).one()
        records_before = len(session.exec(select(SupportRecord)).all())
    client = EventClient(app_server.base_url)
    handlers = CustomerChatState.event_handlers
    huge = "x" * 30_000  # six per event stay under the socket's 256 KB frame limit, which drops the connection
    try:
        client.send(CustomerChatState.on_load, path="/chat")
        client.send(handlers["set_time_zone"], {"name": huge}, path="/chat")
        client.send(handlers["set_time_zone"], {"name": {"nested": [huge]}}, path="/chat")
        client.send(handlers["choose_topic"], {"queue_id": [huge] * 3}, path="/chat")
        client.send(
            handlers["leave_message"],
            {"form": {"name": "A", "email": "a@example.com", "message": "out of order"}},
            path="/chat",
        )
        client.send(handlers["choose_topic"], {"queue_id": str(queue_id)}, path="/chat")
        client.send(handlers["open_leave_form"], {"typed": [[huge], {"a": huge}, huge, huge, huge, huge]}, path="/chat")
        client.drain()
        view = client.latest(CustomerChatState)
        assert view["phase"] == "leave"
        assert (view["leave_name"], view["leave_email"], len(view["leave_text"])) == ("", "", 4000)  # cut to the limit
        # The topic of a message being left is fixed: no steering it to a staffed queue.
        client.send(handlers["choose_topic"], {"queue_id": "1"}, path="/chat")
        client.drain()
        assert client.latest(CustomerChatState)["topic"] == str(queue_id)
        mark = client.mark()
        client.send(
            handlers["leave_message"], {"form": {"name": "A", "email": "a@example.com", "message": huge}}, path="/chat"
        )
        client.wait_for_value(
            CustomerChatState, "leave_error", "The message is too long: 30,000 characters (limit 4,000).", after=mark
        )
        client.send(handlers["leave_message"], {"form": ["not", "a", "dict"]}, path="/chat")
        client.drain()
        assert client.latest(CustomerChatState)["phase"] == "leave"
    finally:
        client.close()
    with world.session() as session:
        assert len(session.exec(select(SupportRecord)).all()) == records_before


def test_accept_on_an_offers_card_opens_that_customer(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue("Cards")
    username, password = world.agent(queues=[queue], name="Card Agent")
    first, second = unique("Gina"), unique("Gus")
    for name in (first, second):
        start_customer_chat(new_context, base, name=name, queue=queue, question="Which one?")
    agent = agent_page(new_context, base, username, password)
    cards = agent.get_by_test_id("inbox-card")
    expect(cards.filter(has_text="Time to accept")).to_have_count(2)
    cards.filter(has_text=second).get_by_role("button", name="Accept").click()
    expect(agent.get_by_role("tab", name=second)).to_be_visible()
    expect(agent.get_by_role("tab", name=first)).to_have_count(0)


def test_a_closed_queues_cards_need_the_after_hours_switch(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue("Closed")
    username, password = world.agent(queues=[queue], name="Night Agent")
    _close_for_two_days(world, queue)
    name = unique("Owl")
    start_customer_chat(new_context, base, name=name, queue=queue, question="Are you there at night?")
    agent = agent_page(new_context, base, username, password)
    card = agent.get_by_test_id("inbox-card").filter(has_text=name)
    accept = card.get_by_role("button", name="Accept")
    reason = f"{queue} is closed now. Switch on Take chats after hours to take its chats."
    expect(accept).to_be_disabled()
    expect(accept).to_have_accessible_description(reason)

    agent.get_by_label("Take chats after hours").click()
    expect(card).to_contain_text("Time to accept")  # offered to an agent who opted in
    expect(accept).to_be_enabled()
    accept.click()
    expect(agent.get_by_role("tab", name=name)).to_be_visible()
