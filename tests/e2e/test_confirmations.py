"""Details › Close and the customer's End chat ask first: Enter confirms, Escape
(or the other button) cancels and changes nothing, focus returns to the button."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.test_accessibility import serious_violations
from tests.e2e.test_interaction_tools import chat_pair

SHOTS = "/tmp/shots"  # Playwright makes the folder


def _end_dialog(customer: Page):
    return customer.get_by_role("alertdialog", name="End this chat?")


def test_the_customer_confirms_end_chat_escape_keeps_it_going_enter_ends_it(app_server, world, new_context):
    _queue, agent, customer, _name = chat_pair(app_server, world, new_context)
    expect(customer.get_by_role("heading", name=re.compile("^Chatting with"))).to_be_visible()
    end = customer.get_by_role("button", name="End chat", exact=True)
    end.click()
    dialog = _end_dialog(customer)
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("This ends the conversation, and it cannot be reopened.")
    expect(dialog.get_by_role("button", name="End chat now")).to_be_focused()
    customer.screenshot(path=f"{SHOTS}/end-chat-confirm.png", animations="disabled")
    assert serious_violations(customer) == []

    customer.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(end).to_be_focused()
    customer.get_by_label("Message").fill("Still here")
    customer.get_by_label("Message").press("Enter")
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text("Still here")  # the chat goes on

    end.focus()
    customer.keyboard.press("Enter")  # opens the dialog
    expect(dialog.get_by_role("button", name="End chat now")).to_be_focused()
    customer.keyboard.press("Enter")  # confirms
    expect(customer.get_by_text("This chat has ended.")).to_be_visible()
    expect(agent.get_by_text("The customer ended the chat. Complete the Details and Close.")).to_be_visible()


def test_keep_chat_open_cancels_details_close(app_server, world, new_context):
    _queue, agent, customer, name = chat_pair(app_server, world, new_context)
    close = agent.get_by_role("button", name="Close", exact=True)
    close.click()
    dialog = agent.get_by_role("alertdialog", name="Close the chat and save its transcript?")
    expect(dialog).to_be_visible()
    assert serious_violations(agent) == []
    dialog.get_by_role("button", name="Keep chat open").click()
    expect(dialog).to_be_hidden()
    expect(close).to_be_focused()
    expect(agent.get_by_role("tab", name=name)).to_be_visible()
    expect(customer.get_by_label("Message")).to_be_visible()  # not ended


def test_the_dialogs_fit_a_phone(app_server, world, new_context):
    _queue, agent, customer, _name = chat_pair(app_server, world, new_context)
    for page in (agent, customer):
        page.set_viewport_size({"width": 390, "height": 844})
    customer.emulate_media(color_scheme="dark")
    customer.get_by_role("button", name="End chat", exact=True).click()
    expect(_end_dialog(customer)).to_be_visible()
    customer.screenshot(path=f"{SHOTS}/end-chat-confirm-390-dark.png", animations="disabled")
    agent.get_by_role("button", name="Close", exact=True).click()
    dialog = agent.get_by_role("alertdialog", name="Close the chat and save its transcript?")
    expect(dialog).to_be_visible()
    agent.screenshot(path=f"{SHOTS}/close-confirm-390.png", animations="disabled")
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390  # fits the screen
