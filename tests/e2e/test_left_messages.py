"""Messages left by customers: the queue's agents see them in the Inbox and reply by email."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect
from sqlmodel import select

from agent_workspace.models import Queue, SupportRecord
from agent_workspace.services import left_messages
from tests.e2e.conftest import agent_page, unique

TICK_TIMEOUT_MS = 30_000  # the list is re-read every 15 s


def leave(world, queue_name: str, *, name: str, message: str, email: str) -> left_messages.LeftMessage:
    """A message left in the queue, stored by the service the public page calls."""
    with world.session() as session:
        queue_id = session.exec(select(Queue.id).where(Queue.name == queue_name)).one()
        return left_messages.leave_message(session, queue_id=queue_id, name=name, email=email, message=message)


def test_an_agent_of_the_queue_replies_by_email_and_resolves(app_server, world, new_context):
    queue = world.queue("Messages")
    other_queue = world.queue("Elsewhere")
    username, password = world.agent(queues=[queue], name=unique("Agent"))
    outsider, outsider_password = world.agent(queues=[other_queue], name=unique("Outsider"))
    name, other_name = unique("Left"), unique("Other")
    email = f"left-{uuid.uuid4().hex[:8]}@example.com"
    left = leave(world, queue, name=name, message="My parcel never arrived.\nOrder 12345.", email=email)
    theirs = leave(world, other_queue, name=other_name, message="Unrelated question", email="other@example.com")

    # An agent of another queue sees the messages of their own queue only.
    elsewhere = agent_page(new_context, app_server.base_url, outsider, outsider_password, available=False)
    expect(elsewhere.get_by_role("article", name=f"Message from {other_name}")).to_contain_text(theirs.number)
    expect(elsewhere.get_by_role("article", name=f"Message from {name}")).to_have_count(0)

    agent = agent_page(new_context, app_server.base_url, username, password, available=False)
    section = agent.get_by_role("region", name="Messages left")
    expect(section.get_by_role("heading", name="Messages left")).to_be_visible()
    card = section.get_by_role("article", name=f"Message from {name}")
    for text in (left.number, email, queue, "My parcel never arrived.", "Order 12345."):
        expect(card).to_contain_text(text)
    expect(section.get_by_role("article", name=f"Message from {other_name}")).to_have_count(0)
    agent.screenshot(path="/tmp/left-messages-inbox.png", full_page=True)

    card.get_by_role("button", name=f"Reply by email to {name}").click()
    dialog = agent.get_by_role("dialog", name="Reply by email")
    subject = f"Re: your message {left.number}"
    expect(dialog.get_by_label("To", exact=True)).to_have_value(email)
    expect(dialog.get_by_label("Subject", exact=True)).to_have_value(subject)
    dialog.get_by_label("Message", exact=True).fill("Hello,\n\nYour parcel is on its way again.")
    dialog.get_by_label("Mark as resolved").check()
    agent.screenshot(path="/tmp/left-messages-reply.png", full_page=True)
    dialog.get_by_role("button", name="Send").click()

    expect(dialog).to_be_hidden()
    # Queued at once; the delivery worker sends it and resolves the case, and the list's tick shows it.
    expect(
        agent.get_by_text(f"Reply to {email} queued for sending. {left.number} is resolved when it is delivered.")
    ).to_be_visible()
    expect(card).to_have_count(0, timeout=TICK_TIMEOUT_MS)
    message = app_server.mailbox.wait_for(subject)
    assert message["To"] == email
    assert "Your parcel is on its way again." in message.get_content()
    with world.session() as session:
        assert session.get(SupportRecord, left.record_id).state == left_messages.RecordState.RESOLVED

    # A message left while the page is open appears without a reload.
    later_name = unique("Later")
    later = leave(world, queue, name=later_name, message="One more thing", email=email)
    expect(section.get_by_role("article", name=f"Message from {later_name}")).to_contain_text(
        later.number, timeout=TICK_TIMEOUT_MS
    )


def test_a_refused_reply_keeps_the_dialog_open_with_the_reason(app_server, world, new_context):
    queue = world.queue("Messages")
    username, password = world.agent(queues=[queue])
    name = unique("Left")
    left = leave(world, queue, name=name, message="Call me back", email="refused@example.com")

    agent = agent_page(new_context, app_server.base_url, username, password, available=False)
    agent.get_by_role("button", name=f"Reply by email to {name}").click()
    dialog = agent.get_by_role("dialog", name="Reply by email")
    dialog.get_by_label("Message", exact=True).fill("   ")  # only spaces: the server refuses it
    dialog.get_by_role("button", name="Send").click()

    expect(dialog.get_by_role("alert")).to_contain_text("The message is empty.")
    with world.session() as session:
        assert session.get(SupportRecord, left.record_id).state == left_messages.RecordState.NEW


# Whatever in the card sticks out of it, or out of its own box, as "tag.class: overflow in px".
OVERFLOWING = """card => {
    const edge = card.getBoundingClientRect().right + 1;
    return [card, ...card.querySelectorAll("*")]
        .filter(el => el.scrollWidth > el.clientWidth + 1 || el.getBoundingClientRect().right > edge)
        .map(el => `${el.tagName}.${el.className}: ${Math.round(Math.max(el.scrollWidth - el.clientWidth, el.getBoundingClientRect().right - edge))}`);
}"""


def test_long_unbroken_text_wraps_inside_the_card(app_server, world, new_context):
    queue = world.queue("Messages")
    username, password = world.agent(queues=[queue])
    name = unique("N").replace(" ", "") + "n" * 113  # 120 characters, no space
    email = f"{'a' * 64}@{'b' * 60}.example.com"
    left = leave(world, queue, name=name, message="m" * 4000, email=email)

    agent = agent_page(new_context, app_server.base_url, username, password, available=False)
    card = agent.get_by_role("article", name=f"Message from {name}")
    expect(card).to_contain_text(left.number)
    for width in (1280, 390):
        agent.set_viewport_size({"width": width, "height": 800})
        card.scroll_into_view_if_needed()
        agent.screenshot(path=f"/tmp/left-messages-long-{width}.png", full_page=True)
        assert card.evaluate(OVERFLOWING) == [], f"clipped at {width} px"
