"""Actions toolbar, Details and More options, end to end with real browsers."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

from playwright.sync_api import Page, expect
from sqlmodel import select

from agent_workspace.models import AuditLog, Interaction
from tests.e2e.conftest import ATTACHMENT_LIMIT, agent_page, close_chat, start_customer_chat, unique

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f80f0000010101005bd0f6b20000000049454e44ae426082"
)


def accept_chat(agent: Page, customer_name: str) -> None:
    agent.get_by_role("tab", name=re.compile("^Inbox")).click()
    agent.get_by_test_id("inbox-card").filter(has_text=customer_name).get_by_role("button", name="Accept").click()
    expect(agent.get_by_role("tab", name=customer_name)).to_be_visible()


def chat_pair(app_server, world, new_context, *, queues: list[str] | None = None, question: str = "My laptop is slow"):
    queue = world.queue()
    username, password = world.agent(queues=[queue, *(queues or [])], name=unique("Agent"))
    name = unique("Cust")
    customer = start_customer_chat(new_context, app_server.base_url, name=name, queue=queue, question=question)
    agent = agent_page(new_context, app_server.base_url, username, password)
    accept_chat(agent, name)
    return queue, agent, customer, name


def test_attachments_both_ways_and_refused_by_the_server(app_server, world, new_context, tmp_path):
    _queue, agent, customer, name = chat_pair(app_server, world, new_context)

    image = tmp_path / "screenshot.png"
    image.write_bytes(PNG)
    notes = tmp_path / "notes.txt"
    notes.write_text("error code 0x80070005\n")
    customer.locator("#customer-attachments input[type=file]").set_input_files([image, notes])
    customer.get_by_role("button", name="Upload files").click()
    conversation = agent.get_by_role("log", name="Conversation")
    expect(conversation.get_by_role("link", name="screenshot.png")).to_be_visible()
    expect(conversation.get_by_role("link", name="notes.txt")).to_be_visible()
    expect(conversation.get_by_role("img", name="screenshot.png")).to_be_visible()  # preview

    guide = tmp_path / "guide.pdf"
    guide.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    agent.get_by_role("button", name="Add attachment").click()
    agent.locator("#attachments input[type=file]").set_input_files(guide)
    agent.get_by_role("button", name="Upload", exact=True).click()
    expect(customer.get_by_role("log", name="Conversation").get_by_role("link", name="guide.pdf")).to_be_visible()

    # Over the server's limit: refused by the server (the browser sets no limit).
    big = tmp_path / "big.txt"
    big.write_text("x" * (ATTACHMENT_LIMIT + 10))
    agent.get_by_role("button", name="Add attachment").click()
    agent.locator("#attachments input[type=file]").set_input_files(big)
    agent.get_by_role("button", name="Upload", exact=True).click()
    expect(agent.get_by_role("dialog").get_by_role("alert")).to_contain_text("File too large")
    agent.get_by_role("button", name="Cancel").click()
    expect(conversation.get_by_role("link", name="big.txt")).to_have_count(0)

    # The file URL works for the two participants only.
    href = conversation.get_by_role("link", name="notes.txt").get_attribute("href")
    url = app_server.base_url + href
    assert agent.request.get(url).text() == "error code 0x80070005\n"
    assert customer.request.get(url).status == 200
    outsider = start_customer_chat(
        new_context, app_server.base_url, name=unique("Mallory"), queue=_queue, question="hi"
    )
    assert outsider.request.get(url).status == 404
    try:
        urllib.request.urlopen(url, timeout=5)
        raise AssertionError("anonymous download succeeded")
    except urllib.error.HTTPError as error:
        assert error.code == 404


def test_transfer_to_queue_keeps_history_and_note(app_server, world, new_context):
    target_queue = world.queue("Escalations")
    _queue, agent, customer, name = chat_pair(app_server, world, new_context)
    agent.get_by_label("Message").fill("Let me get a specialist.")
    agent.get_by_role("button", name="Send").click()
    expect(customer.get_by_role("log", name="Conversation")).to_contain_text("Let me get a specialist.")

    agent.get_by_role("button", name="Transfer to queue").click()
    dialog = agent.get_by_role("dialog", name="Transfer to another queue")
    dialog.get_by_label("Queue").select_option(label=target_queue)
    dialog.get_by_label("Note for the next agent").fill("Needs a hardware swap")
    dialog.get_by_role("button", name="Transfer").click()
    expect(agent.get_by_role("tab", name=name)).to_have_count(0)
    expect(customer.get_by_role("log", name="Conversation")).to_contain_text("is transferring you to")

    second_user, second_password = world.agent(queues=[target_queue], name="Second Agent")
    second = agent_page(new_context, app_server.base_url, second_user, second_password)
    card = second.get_by_test_id("inbox-card").filter(has_text=name)
    expect(card).to_contain_text("Needs a hardware swap")
    card.get_by_role("button", name="Accept").click()
    expect(second.get_by_role("log", name="Conversation")).to_contain_text("Let me get a specialist.")
    expect(second.get_by_label("Customer information")).to_contain_text("Needs a hardware swap")
    expect(customer.get_by_role("heading", name="Chatting with Second Agent")).to_be_visible()


def test_transfer_to_agent_accept_and_decline(app_server, world, new_context):
    queue, agent, customer, name = chat_pair(app_server, world, new_context)
    colleague_name = unique("Colleague")
    colleague_user, colleague_password = world.agent(queues=[], name=colleague_name)
    colleague = agent_page(new_context, app_server.base_url, colleague_user, colleague_password)

    def offer(note: str) -> None:
        agent.get_by_role("button", name="Transfer to agent").click()
        dialog = agent.get_by_role("dialog", name="Transfer to another agent")
        dialog.get_by_label("Agent", exact=True).select_option(label=f"{colleague_name} — Available, 0/4 chats")
        dialog.get_by_label("Note for the agent").fill(note)
        dialog.get_by_role("button", name="Offer transfer").click()
        expect(dialog).to_be_hidden()

    offer("Can you take this one?")
    card = colleague.get_by_test_id("transfer-card").filter(has_text=name)
    expect(card).to_contain_text("Can you take this one?")
    card.get_by_role("button", name="Decline transfer").click()
    notices = agent.get_by_role("status", name="Notices")
    expect(notices).to_contain_text("declined the transfer")
    expect(agent.get_by_role("tab", name=name)).to_be_visible()
    # The note was for the colleague: the chat that stays no longer shows it.
    expect(agent.get_by_label("Customer information")).not_to_contain_text("Can you take this one?")

    offer("Second try")
    colleague.get_by_test_id("transfer-card").filter(has_text=name).get_by_role(
        "button", name="Accept transfer"
    ).click()
    expect(colleague.get_by_role("tab", name=name)).to_be_visible()
    expect(colleague.get_by_label("Customer information")).to_contain_text("Transfer note: Second try")
    expect(notices).to_contain_text("accepted the transfer")
    expect(notices).not_to_contain_text("declined the transfer")  # moot once the chat was offered again
    expect(agent.get_by_role("tab", name=name)).to_have_count(0)
    colleague.get_by_label("Message").fill("Hi, I am taking over.")
    colleague.get_by_role("button", name="Send").click()
    expect(customer.get_by_role("log", name="Conversation")).to_contain_text("Hi, I am taking over.")


def test_the_customer_page_says_the_chat_ended_once_the_agent_closes_it(app_server, world, new_context):
    _queue, agent, customer, _name = chat_pair(app_server, world, new_context)
    expect(customer.get_by_role("heading", name=re.compile("^Chatting with "))).to_be_visible()

    close_chat(agent)
    expect(customer.get_by_text("This chat has ended.")).to_be_visible()
    expect(customer.get_by_role("heading", name=re.compile("^You chatted with Agent "))).to_be_visible()
    expect(customer.get_by_role("heading", name=re.compile("Chatting with"))).to_have_count(0)


def test_details_update_persists_and_is_audited(app_server, world, new_context):
    _queue, agent, _customer, name = chat_pair(app_server, world, new_context)
    agent.get_by_label("Short description").fill("")
    agent.get_by_role("button", name="Save", exact=True).click()
    expect(agent.get_by_role("alert")).to_contain_text("short description")
    agent.get_by_label("Short description").fill("Laptop slow after update")
    agent.get_by_label("Category").select_option("technical")
    agent.get_by_label("Priority").select_option("2")
    agent.get_by_label("Work notes").fill("Checked disk usage: 95% full")
    agent.get_by_role("button", name="Save", exact=True).click()
    expect(agent.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    agent.reload()
    agent.get_by_role("tab", name=name).click()
    expect(agent.get_by_label("Short description")).to_have_value("Laptop slow after update")
    expect(agent.get_by_label("Category")).to_have_value("technical")
    expect(agent.get_by_label("Priority")).to_have_value("2")
    expect(agent.get_by_label("Work notes")).to_have_value("Checked disk usage: 95% full")
    with world.session() as session:
        item = session.exec(
            select(Interaction).where(Interaction.short_description == "Laptop slow after update")
        ).one()
        assert session.exec(
            select(AuditLog).where(AuditLog.action == "interaction.updated", AuditLog.target_id == item.id)
        ).first()


def test_case_and_incident_created_and_escalated(app_server, world, new_context):
    _queue, agent, _customer, _name = chat_pair(app_server, world, new_context, question="VPN drops every hour")
    agent.get_by_role("button", name="Create case").click()
    case_tab = agent.get_by_role("tab", name=re.compile(r"^CS\d{7}$"))
    expect(case_tab).to_be_visible()
    expect(agent.get_by_role("heading", name=re.compile(r"^Case CS\d{7}"))).to_be_visible()
    expect(agent.get_by_label("Description", exact=True)).to_contain_text("VPN drops every hour")

    agent.get_by_role("tab", name="Details").click()
    # The panel re-renders when the tab switches: click once it shows Details, not mid-render.
    expect(agent.get_by_role("tab", name="Details")).to_have_attribute("aria-selected", "true")
    agent.get_by_role("button", name="Create incident").click()
    expect(agent.get_by_role("tab", name=re.compile(r"^INC\d{7}$"))).to_be_visible()
    agent.get_by_label("Escalation group").fill("Network Operations")
    agent.get_by_label("Reason").fill("Affects the whole office")
    agent.get_by_role("button", name="Escalate").click()
    expect(agent.get_by_text(re.compile("Escalated L1 · Network Operations"))).to_be_visible()
    expect(agent.get_by_label("Record activity")).to_contain_text("escalated")
    expect(agent.get_by_label("Priority")).to_have_value("3")  # raised from 4


def test_send_email_arrives_over_smtp(app_server, world, new_context):
    _queue, agent, _customer, _name = chat_pair(app_server, world, new_context)
    agent.get_by_label("Message").fill("Here is what we found.")
    agent.get_by_role("button", name="Send").click()
    agent.get_by_role("button", name="More options").click()
    agent.get_by_role("menuitem", name="Send email").click()
    dialog = agent.get_by_role("dialog", name="Send email")
    expect(dialog.get_by_label("To")).to_have_value("customer@example.com")
    subject = dialog.get_by_label("Subject").input_value()
    assert re.search(r"IMS\d{7}", subject)
    dialog.get_by_label("Message").fill("Hello,\n\nYour ticket is resolved.")
    dialog.get_by_label("Include the chat transcript").check()
    dialog.get_by_role("button", name="Send email").click()
    expect(dialog).to_be_hidden()
    message = app_server.mailbox.wait_for(subject)
    assert message["To"] == "customer@example.com"
    body = message.get_content()
    assert "Your ticket is resolved." in body
    assert "Here is what we found." in body
    expect(agent.get_by_text(re.compile(f"{re.escape(subject)} · to customer@example.com · sent"))).to_be_visible()
