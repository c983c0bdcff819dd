"""Closed chats can be found again: the lists, search by number, the record page, the export (issue 19)."""

from __future__ import annotations

import csv
import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlmodel import select

from agent_workspace.models import Interaction, InteractionState, Queue, utcnow
from agent_workspace.services import conversations
from agent_workspace.services.record_pages import TAB_CLOSED_NOTICE
from tests.e2e.conftest import agent_page, close_chat, sign_in, start_customer_chat, unique
from tests.e2e.test_accessibility import serious_violations
from tests.e2e.test_interaction_tools import accept_chat, chat_pair

SHOTS = "/tmp/shots"
SEARCH = "Search by number, customer or words"


def _number(world, question: str) -> str:
    with world.session() as session:
        return session.exec(select(Interaction.number).where(Interaction.question == question)).one()


def _say(agent: Page, text: str) -> None:
    agent.get_by_label("Message").fill(text)
    agent.get_by_role("button", name="Send").click()
    expect(agent.get_by_role("log", name="Conversation").get_by_text(text)).to_be_visible()


def _shoot(page: Page, name: str) -> None:
    """The page as a desktop and as a 390 px wide phone shows it."""
    page.screenshot(path=f"{SHOTS}/records-{name}-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=f"{SHOTS}/records-{name}-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_an_agent_finds_a_closed_chat_by_its_number_and_reads_it(app_server, world, new_context):
    question = unique("My printer is offline")
    queue, agent, customer, name = chat_pair(app_server, world, new_context, question=question)
    _say(agent, f"Hello {name}, let us restart the print queue.")
    customer.get_by_label("Message").fill("It prints again, thank you")
    customer.get_by_role("button", name="Send", exact=True).click()
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text("It prints again, thank you")
    close_chat(agent)  # Details › Close saves the history
    expect(agent.get_by_role("tab", name=name)).to_have_count(0)
    number = _number(world, question)

    sections = agent.get_by_role("navigation", name="Sections")
    expect(sections.get_by_role("link", name="Inbox")).to_have_attribute("aria-current", "page")
    workspace = agent
    with agent.context.expect_page() as opened:  # beside the Inbox: the workspace stays with its chats
        sections.get_by_role("link", name="Interactions (opens in a new tab)").click()
    agent = opened.value
    expect(agent.get_by_role("heading", name="Interactions", level=1)).to_be_visible()
    expect(workspace.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(agent.get_by_role("navigation", name="Sections").get_by_role("link", name="Interactions")).to_have_attribute(
        "aria-current", "page"
    )
    table = agent.get_by_role("table", name="Interactions")
    expect(table.get_by_role("row").filter(has_text=name)).to_contain_text(number)
    expect(agent.get_by_role("columnheader", name=re.compile("Opened"))).to_have_attribute("aria-sort", "descending")
    agent.get_by_role("button", name=re.compile("^Customer")).click()
    expect(agent.get_by_role("columnheader", name=re.compile("^Customer"))).to_have_attribute("aria-sort", "ascending")
    expect(agent.get_by_text("Chat closed; transcript saved")).to_have_count(0)  # the toast (not this page's) has gone
    assert serious_violations(agent) == [], "list"
    _shoot(agent, "list")

    agent.get_by_label(SEARCH).fill(number.lower())
    agent.get_by_label(SEARCH).press("Enter")
    expect(agent).to_have_url(re.compile(f"/interaction/{number}$"))
    expect(agent.get_by_role("heading", name=re.compile(number), level=1)).to_be_visible()
    conversation = agent.get_by_role("log", name="Conversation")
    expect(conversation).to_contain_text(f"Hello {name}, let us restart the print queue.")
    expect(conversation).to_contain_text("It prints again, thank you")
    expect(agent.get_by_text("This record is closed, read-only.")).to_be_visible()
    expect(agent.get_by_text(TAB_CLOSED_NOTICE)).to_have_count(0)
    expect(agent.get_by_role("link", name="Download transcript")).to_have_attribute(
        "href", f"/api/records/{number}/transcript.txt"
    )
    for title in (
        "Details",
        "Conversation",
        "Work notes",
        "Related records",
        "Emails",
        "Transfers",
        "Escalations",
        "Rating",
        "History",
    ):
        expect(agent.get_by_role("heading", name=title, exact=True, level=2)).to_be_visible()
    assert serious_violations(agent) == [], "record"
    _shoot(agent, "record")
    agent.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Interactions").click()
    expect(agent.get_by_role("table", name="Interactions")).to_be_visible()


def test_a_chat_closed_by_its_tab_says_its_history_was_not_saved(app_server, world, new_context):
    question = unique("Change my address")
    _queue, agent, _customer, name = chat_pair(app_server, world, new_context, question=question)
    _say(agent, "One moment please")
    agent.get_by_role("button", name=f"Close tab {name}").click()
    agent.get_by_role("alertdialog").get_by_role("button", name="End chat without saving").click()
    expect(agent.get_by_role("tab", name=name)).to_have_count(0)
    number = _number(world, question)
    agent.goto(f"{app_server.base_url}/interaction/{number}")
    expect(agent.get_by_text(TAB_CLOSED_NOTICE)).to_be_visible()
    _shoot(agent, "unsaved")


def test_an_agent_of_another_queue_cannot_open_the_record(app_server, world, new_context):
    question = unique("Secret billing question")
    chat_pair(app_server, world, new_context, question=question)
    number = _number(world, question)
    outsider, password = world.agent(queues=[world.queue("Elsewhere")])
    page = agent_page(new_context, app_server.base_url, outsider, password, available=False)
    page.goto(f"{app_server.base_url}/interaction/{number}")
    expect(page.get_by_role("heading", name=f"No record {number} that you can open")).to_be_visible()
    expect(page.get_by_text(question)).to_have_count(0)
    page.goto(f"{app_server.base_url}/interactions")
    page.get_by_label(SEARCH).fill(question)
    page.get_by_label(SEARCH).press("Enter")
    expect(page.get_by_text("No interactions match.", exact=False)).to_be_visible()


def _closed_chats(world, queue_name: str, questions: list[str]) -> None:
    """Closed chats of one queue, made with the services straight in the database."""
    with world.session() as session:
        queue_id = session.exec(select(Queue.id).where(Queue.name == queue_name)).one()
        for question in questions:
            item = conversations.start_chat(
                session, name=unique("Exported"), email="export@example.com", queue_id=queue_id, question=question
            )
            item.state, item.closed_at = InteractionState.CLOSED_COMPLETE, utcnow() + timedelta(minutes=3)
            session.add(item)
        session.commit()


def test_a_supervisor_exports_the_filtered_list(app_server, world, new_context, tmp_path):
    kept, other = world.queue("Exported"), world.queue("Filtered out")
    _closed_chats(world, kept, [unique("=SUM(A1:A9) refund"), unique("Where is my parcel")])
    _closed_chats(world, other, [unique("Not this one")])
    username, password = world.agent(queues=[], roles=("workspace_user", "supervisor"))
    page = new_context().new_page()
    sign_in(page, app_server.base_url, username, password)
    with page.context.expect_page() as opened:
        page.get_by_role("navigation", name="Sections").get_by_role(
            "link", name="Interactions (opens in a new tab)"
        ).click()
    page = opened.value
    expect(page.get_by_role("radio", name="All")).to_be_checked()
    page.get_by_label("Queue", exact=True).select_option(label=kept)
    page.get_by_role("button", name="Apply filters").click()
    rows = page.get_by_role("table", name="Interactions").get_by_role("row")
    expect(rows).to_have_count(3)  # the header and the two chats of the kept queue
    assert serious_violations(page) == [], "supervisor's list"
    _shoot(page, "supervisor")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    path = tmp_path / "export.csv"
    download.value.save_as(path)
    exported = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))
    with world.session() as session:
        queue_id = session.exec(select(Queue.id).where(Queue.name == kept)).one()
        expected = set(session.exec(select(Interaction.number).where(Interaction.queue_id == queue_id)))
    assert {row["Number"] for row in exported} == expected and len(exported) == 2
    assert {row["Queue"] for row in exported} == {kept}
    assert any(row["Summary"].startswith("'=SUM") for row in exported)


def test_earlier_interactions_link_to_their_record_page(app_server, world, new_context):
    queue = world.queue("Returning")
    username, password = world.agent(queues=[queue])
    name, email, first_question = (
        unique("Rita"),
        f"{unique('rita').replace(' ', '')}@example.com",
        unique("Kettle arrived cracked"),
    )
    customer = start_customer_chat(
        new_context, app_server.base_url, name=name, queue=queue, question=first_question, email=email
    )
    agent = agent_page(new_context, app_server.base_url, username, password)
    accept_chat(agent, name)
    close_chat(agent)
    expect(customer.get_by_text("This chat has ended.")).to_be_visible()
    first_number = _number(world, first_question)

    customer.get_by_role("button", name="Start a new chat").first.click()
    customer.get_by_label("Your name").fill(name)
    customer.get_by_label("Email").fill(email)
    customer.get_by_label("What do you need help with?").select_option(label=queue)
    customer.get_by_label("Your question").fill("The replacement is cracked too")
    customer.get_by_role("button", name="Start chat").click()
    accept_chat(agent, name)
    info = agent.get_by_label("Customer information")
    with agent.context.expect_page() as opened:  # the live chat stays open in the workspace
        info.get_by_role("link", name=f"{first_number} (opens in a new tab)").click()
    record = opened.value
    expect(record).to_have_url(re.compile(f"/interaction/{first_number}$"))
    expect(record.get_by_role("heading", name=re.compile(first_number), level=1)).to_be_visible()
    expect(agent.get_by_role("tab", name=name)).to_be_visible()


def test_a_signed_out_visitor_signs_in_and_lands_on_the_record_they_asked_for(app_server, world, new_context):
    question, name, queue = unique("Where is my parcel"), unique("Paula"), world.queue()
    username, password = world.agent(queues=[queue])
    start_customer_chat(new_context, app_server.base_url, name=name, queue=queue, question=question)
    agent = agent_page(new_context, app_server.base_url, username, password)
    accept_chat(agent, name)
    close_chat(agent)
    expect(agent.get_by_role("tab", name=name)).to_have_count(0)
    number = _number(world, question)
    page = new_context().new_page()
    page.goto(f"{app_server.base_url}/interaction/{number}")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Finteraction%2F" + number + "$"))
    expect(page.get_by_role("status").filter(has_text="Sign in to continue to")).to_contain_text(
        f"/interaction/{number}"
    )
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(f"/interaction/{number}$"))
    expect(page.get_by_role("heading", name=re.compile(number), level=1)).to_be_visible()
