"""The workspace and the supervisor dashboard on a phone (390x844; issue 20 leftovers):
a customer's earlier chats fold away so the message box stays in view, the shortcuts
help keeps the focus where it belongs, and the dashboard's header is compact."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import select

from agent_workspace.models import Queue
from agent_workspace.services import conversations
from tests.e2e.conftest import agent_page, start_customer_chat, unique
from tests.e2e.test_accessibility import serious_violations
from tests.e2e.test_interaction_tools import accept_chat

SHOTS = "/tmp/shots-phone"
PHONE = {"width": 390, "height": 844}
EARLIER_CHATS = 5  # as many as the customer information lists


def _earlier_chats(world, email: str) -> list[str]:
    """Chats this email asked before, in a queue of their own (nobody is offered them); their numbers."""
    queue = world.queue("Earlier")
    with world.session() as session:
        queue_id = session.exec(select(Queue.id).where(Queue.name == queue)).one()
        return [
            conversations.start_chat(
                session, name="Lee Earlier", email=email, queue_id=queue_id, question=f"Order {n} never came"
            ).number
            or ""
            for n in range(EARLIER_CHATS)
        ]


def _fill_conversation(customer: Page, agent: Page) -> None:
    """Enough lines for the conversation to fill its box."""
    conversation = agent.get_by_role("log", name="Conversation")
    for n in range(10):
        customer.get_by_label("Message").fill(f"Line {n} of a long story")
        customer.get_by_label("Message").press("Enter")
        expect(conversation).to_contain_text(f"Line {n} of a long story")


def test_on_a_phone_earlier_chats_fold_away_and_the_message_box_is_in_view(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    email = f"{unique('earlier').replace(' ', '')}@example.com"
    earlier = _earlier_chats(world, email)
    name = unique("Lee")
    customer = start_customer_chat(new_context, base, name=name, queue=queue, question="Where is it?", email=email)
    agent = agent_page(new_context, base, username, password)
    agent.set_viewport_size(PHONE)
    accept_chat(agent, name)
    _fill_conversation(customer, agent)
    agent.evaluate("window.scrollTo(0, 0)")

    info = agent.get_by_label("Customer information")
    toggle = info.get_by_role("button", name="Customer information")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_contain_text(f"{EARLIER_CHATS} earlier")
    # Whole in view without scrolling, once the customer's typing line (a few seconds) has gone.
    expect(agent.get_by_label("Message")).to_be_in_viewport(ratio=1)
    expect(agent.get_by_role("button", name="Send")).to_be_in_viewport()
    assert agent.evaluate("window.scrollY") == 0
    expect(info.get_by_role("link", name=re.compile(f"^{earlier[0]}"))).to_be_hidden()
    agent.screenshot(path=f"{SHOTS}/phone-customer-info-folded.png")
    assert serious_violations(agent) == []

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(info).to_contain_text(email)
    expect(info.get_by_text("Earlier interactions")).to_be_visible()
    for number in earlier:
        expect(info.get_by_role("link", name=re.compile(f"^{number}"))).to_be_visible()
    agent.screenshot(path=f"{SHOTS}/phone-customer-info-open.png", full_page=True)
    assert serious_violations(agent) == []
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(info.get_by_text("Earlier interactions")).to_be_hidden()

    agent.set_viewport_size({"width": 1280, "height": 900})  # a wide screen: everything shows, nothing to unfold
    expect(toggle).to_be_hidden()
    expect(info).to_contain_text(email)
    for number in earlier:
        expect(info.get_by_role("link", name=re.compile(f"^{number}"))).to_be_visible()


def test_on_a_phone_the_shortcuts_help_takes_the_focus_and_gives_it_back(app_server, world, new_context):
    username, password = world.agent(queues=[world.queue()])
    agent = agent_page(new_context, app_server.base_url, username, password, available=False)
    agent.set_viewport_size(PHONE)
    header = agent.locator("header.aw-header")
    menu = header.get_by_role("button", name="Menu")
    shortcuts = header.get_by_role("button", name="Shortcuts")
    dialog = agent.get_by_role("dialog", name="Keyboard shortcuts")
    close_help = dialog.get_by_role("button", name="Close help")

    # Menu, then Shortcuts: the focus goes into the dialog, and back to Shortcuts on Escape or Close help.
    menu.click()
    shortcuts.click()
    expect(close_help).to_be_focused()
    agent.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(shortcuts).to_be_focused()
    agent.keyboard.press("Enter")
    expect(close_help).to_be_focused()
    agent.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(shortcuts).to_be_focused()

    # Alt+H with the menu closed opens the menu too, so the focus has a visible button to come back to.
    menu.click()
    expect(shortcuts).to_be_hidden()
    agent.get_by_role("combobox", name="Presence").focus()
    agent.keyboard.press("Alt+H")
    expect(close_help).to_be_focused()
    agent.screenshot(path=f"{SHOTS}/phone-shortcuts-help.png", animations="disabled")
    agent.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(shortcuts).to_be_focused()
    expect(shortcuts).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")


def test_on_a_phone_the_supervisor_header_is_compact_and_every_control_reachable(app_server, world, new_context):
    username, password = world.agent(
        queues=[world.queue()], roles=("workspace_user", "supervisor"), name="Alexandra Montgomery-Whitfield"
    )
    page = agent_page(new_context, app_server.base_url, username, password, available=False)
    page.set_viewport_size(PHONE)
    page.goto(f"{app_server.base_url}/supervisor")
    expect(page.get_by_role("table", name="Queues today")).to_be_visible()
    header = page.locator("header.aw-header")
    box = header.bounding_box()
    assert box is not None and box["height"] <= 80, box  # it was about 150
    page.screenshot(path=f"{SHOTS}/phone-supervisor.png")
    links = ("Inbox", "Interactions", "Cases", "Incidents", "Supervisor dashboard")
    for name in links:
        expect(header.get_by_role("link", name=name)).to_be_in_viewport()
    expect(header.get_by_role("link", name="Supervisor dashboard")).to_have_attribute("aria-current", "page")

    menu = header.get_by_role("button", name="Menu")
    expect(menu).to_be_in_viewport()
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(header.get_by_role("button", name="Toggle dark mode")).to_be_focused()
    for control in ("Toggle dark mode", "Log out"):
        expect(header.get_by_role("button", name=control)).to_be_in_viewport()
    expect(header.get_by_title("Alexandra Montgomery-Whitfield")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/phone-supervisor-menu-open.png")
    # The header only: the dashboard's wide tables scroll sideways on a phone, a region
    # axe wants focusable (Radix's scroll viewport, outside this fix).
    assert serious_violations(page, within="header.aw-header") == []
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(header.get_by_role("button", name="Log out")).to_be_hidden()
