"""The workspace and the supervisor dashboard on a phone (390x844 and 360x740; issue 20
leftovers): a customer's earlier chats fold away so the message box stays in view, the
shortcuts help keeps the focus where it belongs, the dashboard's header is compact and its
tables fit, and no page scrolls sideways or has more than one h1."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import select

from agent_workspace.models import InteractionState, Queue, utcnow
from agent_workspace.services import conversations
from tests.e2e.conftest import agent_page, sign_in, start_customer_chat, unique
from tests.e2e.test_accessibility import serious_violations
from tests.e2e.test_interaction_tools import accept_chat

SHOTS = "/tmp/shots-phone"
PHONE = {"width": 390, "height": 844}
PHONES = ({"width": 360, "height": 740}, PHONE)
HEADER_MAX = 72  # the workspace's is 69 px on a phone
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"
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


def _supervisor(world, queue: str) -> tuple[str, str]:
    """A supervisor with the longest name the header holds, working ``queue``."""
    return world.agent(queues=[queue], roles=("workspace_user", "supervisor"), name="Alexandra Montgomery-Whitfield")


def test_on_a_phone_the_supervisor_header_is_compact_and_every_control_reachable(app_server, world, new_context):
    username, password = _supervisor(world, world.queue())
    phone = new_context(viewport=PHONES[0], has_touch=True)
    page = phone.new_page()
    sign_in(page, app_server.base_url, username, password)
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    page.goto(f"{app_server.base_url}/supervisor")
    expect(page.get_by_role("heading", name="Supervisor dashboard", level=1)).to_be_visible()
    header = page.locator("header.aw-header")
    for viewport in PHONES:
        page.set_viewport_size(viewport)
        box = header.bounding_box()
        assert box is not None and box["height"] <= HEADER_MAX, (viewport, box)  # 134 at 360 px before
        page.screenshot(path=f"{SHOTS}/phone-supervisor-{viewport['width']}.png")
        for name in ("Inbox", "Interactions", "Cases", "Incidents", "Supervisor dashboard"):
            expect(header.get_by_role("link", name=name)).to_be_in_viewport()
        expect(header.get_by_role("link", name="Supervisor dashboard")).to_have_attribute("aria-current", "page")

    # By touch: Menu shows the rest, in view.
    menu = header.get_by_role("button", name="Menu")
    expect(menu).to_be_in_viewport()
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.tap()
    expect(menu).to_have_attribute("aria-expanded", "true")
    for control in ("Toggle dark mode", "Log out"):
        expect(header.get_by_role("button", name=control)).to_be_in_viewport()
    expect(header.get_by_title("Alexandra Montgomery-Whitfield")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/phone-supervisor-menu-open.png")
    assert serious_violations(page, within="header.aw-header") == []
    menu.tap()
    expect(header.get_by_role("button", name="Log out")).to_be_hidden()

    # By keyboard: Enter opens it, Tab goes on into it, Enter on Menu closes it.
    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(header.get_by_role("button", name="Toggle dark mode")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(header.get_by_role("button", name="Log out")).to_be_hidden()


def test_on_a_phone_the_supervisor_tables_scroll_in_their_own_box_and_the_page_passes_axe(
    app_server, world, new_context
):
    """A table too wide for a phone scrolls sideways inside its own focusable, labelled
    box (by touch and by keyboard); the page itself does not."""
    base = app_server.base_url
    queue = world.queue("Narrow")
    username, password = _supervisor(world, queue)
    name = unique("Lee")
    start_customer_chat(new_context, base, name=name, queue=queue, question="My parcel went to the wrong street")
    page = agent_page(new_context, base, username, password, available=False)
    page.goto(f"{base}/supervisor")
    chat = page.get_by_role("table", name="Active interactions").get_by_role("row").filter(has_text=name)
    for viewport in PHONES:
        page.set_viewport_size(viewport)
        expect(chat.get_by_role("button", name=re.compile("^View IMS"))).to_be_visible()
        box = page.get_by_role("region", name="Queues today, scrolls sideways")
        queue_row = box.get_by_role("row").filter(has_text=queue)
        expect(queue_row.get_by_role("cell").nth(1)).to_have_text("1")  # Waiting
        box.focus()
        expect(box).to_be_focused()
        box.press("End")  # the keyboard scrolls the box to its far edge
        queue_row.get_by_role("cell").last.scroll_into_view_if_needed()
        expect(queue_row.get_by_role("cell").last).to_be_in_viewport()  # Hours: reachable, not clipped away
        assert page.evaluate(NO_SIDEWAYS_SCROLL), viewport
        page.screenshot(path=f"{SHOTS}/phone-supervisor-tables-{viewport['width']}.png", full_page=True)
        problems = serious_violations(page)
        assert problems == [], (viewport, problems)


def _closed_record(world, queue: str) -> str:
    """A closed chat of ``queue``, made in the database: the number of its record page."""
    with world.session() as session:
        queue_id = session.exec(select(Queue.id).where(Queue.name == queue)).one()
        item = conversations.start_chat(
            session,
            name="Lee Narrowboat-Fairweather",
            email="lee.narrowboat-fairweather@example.com",
            queue_id=queue_id,
            question="The parcel was left with a neighbour three streets away; who signed for it?",
        )
        item.state, item.closed_at = InteractionState.CLOSED_COMPLETE, utcnow()
        session.add(item)
        session.commit()
        return item.number or ""


def test_at_phone_widths_no_page_scrolls_sideways_and_each_has_one_h1(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue("Narrow")
    number = _closed_record(world, queue)
    username, password = _supervisor(world, queue)
    page = agent_page(new_context, base, username, password, available=False)
    titles = {
        "/interactions": "Interactions",
        "/cases": "Cases",
        "/incidents": "Incidents",
        f"/interaction/{number}": number,
        "/supervisor": "Supervisor dashboard",
        "/workspace": "Agent Workspace",
        "/chat": "Chat with support",
    }
    for viewport in PHONES:
        page.set_viewport_size(viewport)
        for path, title in titles.items():
            page.goto(base + path)
            expect(page.get_by_role("heading", level=1, name=re.compile(f"^{title}"))).to_be_visible()
            expect(page.locator("h1")).to_have_count(1)
            page.screenshot(path=f"{SHOTS}/phone{path.replace('/', '-')}-{viewport['width']}.png", full_page=True)
            assert page.evaluate(NO_SIDEWAYS_SCROLL), (viewport, path)
