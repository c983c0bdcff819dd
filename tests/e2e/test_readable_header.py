"""The workspace header and notices readable in every state (issue 20, from a tester's
shift): one line from 1280 px, whole controls wrapping below that, a phone's header
compact enough that the open chat's message box is in view, and Dismiss all."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect
from sqlmodel import select

from agent_workspace.models import User
from agent_workspace.services import notices
from tests.e2e.conftest import agent_page, start_customer_chat, unique
from tests.e2e.test_accessibility import serious_violations
from tests.e2e.test_interaction_tools import accept_chat

SHOTS = "/tmp/shots-readable"
PHONE = {"width": 390, "height": 844}


def _header_controls(page: Page) -> list[Locator]:
    header = page.locator("header.aw-header")
    return [
        header.get_by_role("heading", name="Agent Workspace"),
        header.get_by_role("link", name="Inbox"),
        header.get_by_role("link", name="Supervisor dashboard"),
        header.get_by_role("combobox", name="Presence"),
        header.get_by_role("button", name="Sound on"),
        header.get_by_role("button", name="Desktop alerts"),
        header.get_by_role("button", name="Shortcuts"),
        header.get_by_role("button", name="Toggle dark mode"),
        header.get_by_role("button", name="Log out"),
    ]


def _box(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None, locator
    return box


def _no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_header_is_one_line_from_1280_px(app_server, world, new_context):
    """A supervisor's header with a long name, the longest: every control on Log out's row."""
    username, password = world.agent(
        queues=[world.queue()], roles=("workspace_user", "supervisor"), name="Alexandra Montgomery-Whitfield"
    )
    agent = agent_page(new_context, app_server.base_url, username, password, available=False)
    for width in (1280, 1400, 1920):
        agent.set_viewport_size({"width": width, "height": 900})
        logout = _box(agent.get_by_role("button", name="Log out"))
        for control in _header_controls(agent):
            box = _box(control)
            assert box["y"] < logout["y"] + logout["height"] and box["y"] + box["height"] > logout["y"], (
                width,
                control,
                box,
                logout,
            )
        assert _box(agent.locator("header.aw-header"))["height"] < 80, width
        expect(agent.get_by_role("button", name="Menu")).to_be_hidden()  # nothing is tucked away
        _no_horizontal_scroll(agent)
        agent.locator("header.aw-header").screenshot(path=f"{SHOTS}/header-{width}.png")


def test_below_1280_px_the_header_wraps_whole_controls(app_server, world, new_context):
    username, password = world.agent(queues=[world.queue()], roles=("workspace_user", "supervisor"))
    agent = agent_page(new_context, app_server.base_url, username, password, available=False)
    for width in (1100, 900, 768):
        agent.set_viewport_size({"width": width, "height": 900})
        for control in _header_controls(agent):
            expect(control).to_be_visible()
            assert _box(control)["height"] <= 40, (width, control)  # one line of words: none broken
        _no_horizontal_scroll(agent)
        agent.locator("header.aw-header").screenshot(path=f"{SHOTS}/header-{width}.png")


def _notify(world, username: str, *bodies: str) -> None:
    with world.session() as session:
        user_id = session.exec(select(User.id).where(User.username == username)).one()
        for body in bodies:
            notices.notify(session, user_id=user_id, body=body, level="success")
        session.commit()


def test_on_a_phone_the_header_is_compact_and_the_message_box_in_view(app_server, world, new_context):
    """The tester's phone: one chat open with a conversation that fills its box, and a notice."""
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue], name="Alice Martin")
    name = unique("Lee")
    email = f"{unique('phone').replace(' ', '')}@example.com"  # its own: no earlier chats of other tests above the box
    customer = start_customer_chat(
        new_context, base, name=name, queue=queue, question="Where is my transcript?", email=email
    )
    _notify(world, username, "Bob Chen accepted the transfer of IMS0001002.")
    agent = agent_page(new_context, base, username, password)
    agent.set_viewport_size(PHONE)
    accept_chat(agent, name)
    conversation = agent.get_by_role("log", name="Conversation")
    for n in range(10):
        customer.get_by_label("Message").fill(f"Line {n} of a long story")
        customer.get_by_label("Message").press("Enter")
        expect(conversation).to_contain_text(f"Line {n} of a long story")
    agent.evaluate("window.scrollTo(0, 0)")

    agent.screenshot(path=f"{SHOTS}/phone-workspace-chat.png")
    header = agent.locator("header.aw-header")
    assert _box(header)["height"] < 130
    message = agent.get_by_label("Message")
    # Whole in view without scrolling, once the customer's typing line (a few seconds) has gone.
    expect(message).to_be_in_viewport(ratio=1)
    assert agent.evaluate("window.scrollY") == 0
    expect(agent.get_by_role("button", name="Send")).to_be_in_viewport()
    _no_horizontal_scroll(agent)
    assert serious_violations(agent) == []

    # Presence stays in the header; the rest is behind Menu, reachable by keyboard.
    expect(header.get_by_role("combobox", name="Presence")).to_be_visible()
    log_out = header.get_by_role("button", name="Log out")
    expect(log_out).to_be_hidden()
    menu = header.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.focus()
    agent.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    agent.keyboard.press("Tab")
    expect(header.get_by_role("button", name="Sound on")).to_be_focused()
    for control in ("Sound on", "Desktop alerts", "Shortcuts", "Toggle dark mode", "Log out"):
        expect(header.get_by_role("button", name=control)).to_be_in_viewport()
    expect(header.get_by_role("button", name="Shortcuts")).to_have_text("Shortcuts")  # words, on a phone
    agent.screenshot(path=f"{SHOTS}/phone-header-menu-open.png")
    assert serious_violations(agent) == []
    menu.click()
    expect(log_out).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")

    agent.keyboard.press("Alt+H")  # the help's button is behind Menu; its shortcut still works
    dialog = agent.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    agent.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_dismiss_all_clears_every_notice_in_every_tab(app_server, world, new_context):
    username, password = world.agent(queues=[world.queue()])
    bodies = [f"Bob Chen accepted the transfer of IMS000{n}." for n in range(1, 4)]
    _notify(world, username, *bodies)
    first = agent_page(new_context, app_server.base_url, username, password, available=False)
    second = first.context.new_page()
    second.goto(f"{app_server.base_url}/workspace")
    for page in (first, second):
        for body in bodies:
            expect(page.get_by_role("status", name="Notices")).to_contain_text(body)
    first.get_by_role("status", name="Notices").screenshot(path=f"{SHOTS}/notices-dismiss-all.png")

    first.get_by_role("button", name="Dismiss all").click()
    for page in (first, second):  # the other tab on its next refresh
        notices_shown = page.get_by_role("status", name="Notices")
        expect(notices_shown.get_by_role("button", name="Dismiss", exact=True)).to_have_count(0)
        expect(notices_shown.get_by_role("button", name="Dismiss all")).to_have_count(0)
    first.reload()
    expect(first.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(first.get_by_role("status", name="Notices")).not_to_contain_text("Bob Chen")

    _notify(world, username, "Just one.")  # a single notice needs no Dismiss all
    first.reload()
    expect(first.get_by_role("status", name="Notices")).to_contain_text("Just one.")
    expect(first.get_by_role("button", name="Dismiss all")).to_have_count(0)
    expect(first.get_by_role("button", name="Dismiss", exact=True)).to_have_count(1)
