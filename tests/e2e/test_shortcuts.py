"""Every keyboard shortcut of the workspace, pressed, and its effect read as a person sees it.

The help dialog is checked against the registry (components/shortcuts.py), and
every key it lists is pressed by a test here."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import select

from agent_workspace.components.shortcuts import SHORTCUTS
from agent_workspace.models import Interaction, InteractionState
from tests.e2e.conftest import agent_page, start_customer_chat, unique
from tests.e2e.test_interaction_tools import accept_chat

INBOX = re.compile("^Inbox")
SHOTS = "/tmp/shots"  # Playwright makes the folder


def _offer(agent: Page, new_context, base: str, queue: str, question: str) -> tuple[str, Page]:
    """A new customer in the queue, offered to the agent (the card shows it)."""
    name = unique("Cust")
    customer = start_customer_chat(new_context, base, name=name, queue=queue, question=question)
    if agent.get_by_role("tab", name=INBOX).get_attribute("aria-selected") == "true":
        expect(agent.get_by_test_id("inbox-card").filter(has_text=name)).to_be_visible()
    else:
        expect(agent.get_by_role("tab", name=INBOX)).to_contain_text("1")  # the Inbox count
    return name, customer


def _selected(page: Page, name) -> None:
    expect(page.get_by_role("tab", name=name)).to_have_attribute("aria-selected", "true")


def test_the_help_dialog_lists_exactly_the_registry(app_server, world, new_context):
    username, password = world.agent(queues=[world.queue()])
    agent = agent_page(new_context, app_server.base_url, username, password)
    agent.keyboard.press("Alt+H")
    dialog = agent.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    rows = dialog.get_by_role("row")
    expect(rows).to_have_count(len(SHORTCUTS))
    agent.screenshot(path=f"{SHOTS}/shortcuts-help.png", animations="disabled")
    for row, shortcut in zip(rows.all(), SHORTCUTS, strict=True):
        expect(row.get_by_role("cell")).to_have_text([shortcut.keys, shortcut.description])
    assert sorted(s.keys for s in SHORTCUTS) == [
        "Alt+A",
        "Alt+C",
        "Alt+H",
        "Alt+K",
        "Alt+M",
        "Alt+N",
        "Alt+P",
    ]  # tested here
    agent.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(agent.get_by_role("button", name="Shortcuts")).to_be_focused()


def test_alt_a_accepts_the_offered_chat_from_the_inbox_and_from_a_chat_tab(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    agent = agent_page(new_context, base, username, password)
    first, _ = _offer(agent, new_context, base, queue, "First question")
    agent.keyboard.press("Alt+A")
    _selected(agent, first)

    # A chat tab is showing, not the Inbox: Alt+A still takes the next offer.
    second, second_customer = _offer(agent, new_context, base, queue, "Second question")
    _selected(agent, first)
    agent.keyboard.press("Alt+A")
    _selected(agent, second)
    expect(agent.get_by_role("tab", name=first)).to_be_visible()
    expect(second_customer.get_by_role("heading", name=re.compile("^Chatting with"))).to_be_visible()


def test_alt_a_with_nothing_offered_shows_the_empty_inbox(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    agent = agent_page(new_context, base, username, password)
    name, _ = _offer(agent, new_context, base, queue, "Only one")
    accept_chat(agent, name)
    agent.keyboard.press("Alt+A")
    _selected(agent, INBOX)
    expect(agent.get_by_text("No customers are waiting in your queues.")).to_be_visible()
    expect(agent.get_by_role("tab", name=name)).to_be_visible()


def test_alt_n_and_alt_p_move_to_the_next_and_previous_tab_and_wrap(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    agent = agent_page(new_context, base, username, password)
    names = []
    for question in ("One", "Two"):
        name, _ = _offer(agent, new_context, base, queue, question)
        accept_chat(agent, name)
        names.append(name)
    agent.get_by_role("tab", name=INBOX).click()
    _selected(agent, INBOX)  # the switch is a server round trip: a key pressed before it acts on the chat
    strip = agent.get_by_role("tablist", name="Interactions").get_by_role("tab")
    expect(strip).to_have_count(3)
    for position in (1, 2, 0):  # the strip's own order, wrapping after the last
        agent.keyboard.press("Alt+N")
        expect(strip.nth(position)).to_have_attribute("aria-selected", "true")
        expect(strip.nth(position)).to_be_focused()
    expect(strip.nth(0)).to_have_accessible_name(INBOX)
    for position in (2, 1, 0):  # back again, wrapping before the first (the Inbox) to the last
        agent.keyboard.press("Alt+P")
        expect(strip.nth(position)).to_have_attribute("aria-selected", "true")
        expect(strip.nth(position)).to_be_focused()
    for name in names:
        expect(strip.filter(has_text=name)).to_have_count(1)


def test_alt_m_focuses_the_message_box_and_enter_sends(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    agent = agent_page(new_context, base, username, password)
    name, customer = _offer(agent, new_context, base, queue, "Can you hear me?")
    accept_chat(agent, name)
    agent.get_by_role("tab", name="Details").focus()
    agent.keyboard.press("Alt+M")
    expect(agent.get_by_label("Message")).to_be_focused()
    agent.keyboard.type("Loud and clear")
    agent.keyboard.press("Enter")
    expect(customer.get_by_role("log", name="Conversation")).to_contain_text("Loud and clear")


def test_alt_k_opens_agent_assist(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    agent = agent_page(new_context, base, username, password)
    name, _ = _offer(agent, new_context, base, queue, "Printer jam")
    accept_chat(agent, name)
    _selected(agent, "Details")
    agent.keyboard.press("Alt+K")
    _selected(agent, "Agent Assist")
    search = agent.get_by_label("Search the knowledge base")
    expect(search).to_be_focused()  # found on a shift: it stayed put
    expect(search).not_to_have_value("")  # the automatic query from the chat
    agent.keyboard.press("Alt+M")
    expect(agent.get_by_label("Message")).to_be_focused()
    agent.keyboard.press("Alt+K")  # back to the search: what it holds is selected
    expect(search).to_be_focused()
    agent.keyboard.type("toner")  # found on a shift: typing was added to the end of the query
    expect(search).to_have_value("toner")


def test_alt_a_accepts_a_transfer_offered_to_this_agent(app_server, world, new_context):
    """Found on a shift: the help says "the first chat offered to you", and a colleague's
    transfer is offered to you by name, but Alt+A left it waiting."""
    base = app_server.base_url
    queue = world.queue()
    first_user, first_password = world.agent(queues=[queue])
    second_name = unique("Second")
    second_user, second_password = world.agent(queues=[], name=second_name)
    first = agent_page(new_context, base, first_user, first_password)
    name, _ = _offer(first, new_context, base, queue, "Hand me over")
    accept_chat(first, name)
    second = agent_page(new_context, base, second_user, second_password)
    first.get_by_role("button", name="Transfer to agent").click()
    dialog = first.get_by_role("dialog", name="Transfer to another agent")
    dialog.get_by_label("Agent", exact=True).select_option(label=f"{second_name} — Available, 0/4 chats")
    dialog.get_by_role("button", name="Offer transfer").click()
    expect(second.get_by_test_id("transfer-card").filter(has_text=name)).to_be_visible()
    second.keyboard.press("Alt+A")
    _selected(second, name)
    expect(second.get_by_test_id("transfer-card")).to_have_count(0)


def _record(world, question: str) -> Interaction:
    with world.session() as session:
        return session.exec(
            select(Interaction).where(Interaction.question == question).order_by(Interaction.id.desc())
        ).first()


def test_alt_c_closes_the_current_of_two_chats_after_confirming(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    agent = agent_page(new_context, base, username, password)
    questions = {unique("Keep open"): None, unique("Close me"): None}
    chats = {}
    for question in questions:
        name, customer = _offer(agent, new_context, base, queue, question)
        accept_chat(agent, name)
        agent.get_by_label("Message").fill(f"Hello {name}")
        agent.get_by_label("Message").press("Enter")
        expect(customer.get_by_role("log", name="Conversation")).to_contain_text(f"Hello {name}")
        chats[question] = (name, customer)
    keep_q, close_q = list(chats)
    (keep, _), (closing, closing_customer) = chats[keep_q], chats[close_q]
    _selected(agent, closing)

    # From the Agent Assist tab: Alt+C opens Details and asks first.
    agent.keyboard.press("Alt+K")
    _selected(agent, "Agent Assist")
    agent.keyboard.press("Alt+C")
    dialog = agent.get_by_role("alertdialog", name="Close the chat and save its transcript?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"The chat with {closing} ends for the customer")
    expect(dialog).to_contain_text(_record(world, close_q).number)
    expect(dialog.get_by_role("button", name="Close and save")).to_be_focused()
    agent.screenshot(path=f"{SHOTS}/close-confirm.png", animations="disabled")

    # Escape changes nothing, and focus is back on Close.
    agent.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(agent.get_by_role("button", name="Close", exact=True)).to_be_focused()
    expect(agent.get_by_role("tab", name=closing)).to_be_visible()
    assert _record(world, close_q).state == InteractionState.WORK_IN_PROGRESS
    expect(closing_customer.get_by_label("Message")).to_be_enabled()

    # Enter confirms: the current chat closes with its transcript, the other stays open.
    agent.keyboard.press("Alt+C")
    expect(dialog.get_by_role("button", name="Close and save")).to_be_focused()
    agent.keyboard.press("Enter")
    expect(agent.get_by_role("tab", name=closing)).to_have_count(0)
    expect(agent.get_by_role("tab", name=INBOX)).to_be_focused()  # the focus left with the chat: to the tab shown
    expect(closing_customer.get_by_text("This chat has ended.")).to_be_visible()
    expect(agent.get_by_role("tab", name=keep)).to_be_visible()
    closed, kept = _record(world, close_q), _record(world, keep_q)
    assert closed.state == InteractionState.CLOSED_COMPLETE and closed.close_reason == "agent_ended"
    assert f"Hello {closing}" in (closed.transcript or "")
    assert kept.state == InteractionState.WORK_IN_PROGRESS and kept.transcript is None


def test_accept_pressed_with_enter_leaves_the_focus_on_the_new_chats_tab(app_server, world, new_context):
    """Accept takes the Inbox panel, and its own button, off the page: the focus goes
    to the chat's tab, not to the page's body (assets/focus_rescue.js)."""
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    agent = agent_page(new_context, base, username, password)
    name, _customer = _offer(agent, new_context, base, queue, unique("Focus"))
    agent.get_by_test_id("inbox-card").filter(has_text=name).get_by_role("button", name="Accept").focus()
    agent.keyboard.press("Enter")
    _selected(agent, name)
    expect(agent.get_by_role("tab", name=name)).to_be_focused()


def test_alt_c_on_the_inbox_does_nothing(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    agent = agent_page(new_context, base, username, password)
    name, _ = _offer(agent, new_context, base, queue, "Still here")
    accept_chat(agent, name)
    agent.get_by_role("tab", name=INBOX).click()
    _selected(agent, INBOX)  # the switch is a server round trip: Alt+C pressed before it closes the chat
    agent.keyboard.press("Alt+C")
    agent.keyboard.press("Alt+H")  # a later key is handled: the one before it did nothing
    expect(agent.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    expect(agent.get_by_role("alertdialog")).to_have_count(0)
    agent.keyboard.press("Escape")
    expect(agent.get_by_role("tab", name=name)).to_be_visible()
    _selected(agent, INBOX)
