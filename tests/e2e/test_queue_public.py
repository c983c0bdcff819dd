"""Per-queue "Shown on the public page": a supervisor's switch, the topic list of the
public page, and a forged start for a hidden queue refused over the websocket."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlmodel import func, select

from agent_workspace.models import Customer, Queue
from agent_workspace.services import queue_visibility
from agent_workspace.state.customer import CustomerChatState
from tests.e2e.conftest import sign_in, unique
from tests.e2e.ws_client import EventClient

SHOTS = "/tmp/shots-readable"


def _queue_id(world, name: str) -> int:
    with world.session() as session:
        return session.exec(select(Queue.id).where(Queue.name == name)).one()


def test_a_supervisor_hides_a_queue_from_the_public_page_and_lists_it_again(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue("Internal")
    customer = new_context().new_page()
    customer.goto(f"{base}/chat")
    topics = customer.get_by_label("What do you need help with?")
    expect(topics.get_by_role("option", name=queue)).to_have_count(1)

    page = new_context().new_page()
    sign_in(page, base, "sam", "sam-demo-pass")
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    page.goto(f"{base}/supervisor")
    switch = page.get_by_role("group", name=queue).get_by_role("switch", name="Shown on the public page")
    expect(switch).to_be_checked()
    switch.click()
    expect(switch).not_to_be_checked()
    audit = page.get_by_role("table", name="Audit log (latest 100)")
    expect(audit).to_contain_text(f"hid the queue {queue} from the public chat page")
    page.get_by_role("group", name=queue).screenshot(path=f"{SHOTS}/queue-hidden-switch.png")
    with world.session() as session:
        assert session.exec(select(Queue.public).where(Queue.name == queue)).one() is False

    customer.reload()
    expect(topics.get_by_role("option").first).to_be_attached()
    expect(topics.get_by_role("option", name=queue)).to_have_count(0)

    switch.click()
    expect(switch).to_be_checked()
    expect(audit).to_contain_text(f"listed the queue {queue} on the public chat page")
    audit.screenshot(path=f"{SHOTS}/audit-log.png")  # looked at: who, what, which record in words
    customer.reload()
    expect(topics.get_by_role("option", name=queue)).to_have_count(1)


def test_a_forged_start_for_a_hidden_queue_is_refused_and_stores_nothing(app_server, world):
    queue = world.queue("Hidden")
    with world.session() as session:
        queue_visibility.set_public(session, queue_id=_queue_id(world, queue), public=False, actor_id=None)
    name = unique("Forger")
    client = EventClient(app_server.base_url)
    try:
        mark = client.mark()
        form = {"name": name, "email": "forger@example.com", "queue_id": str(_queue_id(world, queue)), "question": "Hi"}
        client.send(CustomerChatState.event_handlers["start_chat"], {"form": form}, path="/chat")
        client.wait_for_value(CustomerChatState, "form_error", queue_visibility.HIDDEN_QUEUE_REFUSAL, after=mark)
        assert not client.latest(CustomerChatState).get("chat_key")
    finally:
        client.close()
    with world.session() as session:
        assert session.exec(select(func.count()).select_from(Customer).where(Customer.name == name)).one() == 0
