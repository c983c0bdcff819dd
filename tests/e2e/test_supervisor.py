"""The supervisor dashboard, live, and a read-only look into a chat."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import sign_in, start_customer_chat, unique


def test_supervisor_sees_live_figures_and_opens_a_chat_read_only(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue("Returns")
    username, password = world.agent(queues=[queue], roles=("workspace_user", "supervisor"), name=unique("Sup"))
    page = new_context().new_page()
    sign_in(page, base, username, password)
    expect(page.get_by_role("link", name="Supervisor dashboard")).to_be_visible()
    page.goto(f"{base}/supervisor")
    queues = page.get_by_role("table", name="Queues today")
    expect(queues).to_be_visible()
    row = queues.get_by_role("row").filter(has_text=queue)
    expect(row.get_by_role("cell").nth(1)).to_have_text("0")

    name = unique("Xena")
    customer = start_customer_chat(new_context, base, name=name, queue=queue, question="Return a damaged kettle")
    customer.get_by_label("Message").fill("It arrived cracked")
    customer.get_by_role("button", name="Send", exact=True).click()
    expect(row.get_by_role("cell").nth(1)).to_have_text("1")  # live, no reload

    chats = page.get_by_role("table", name="Active interactions")
    chat_row = chats.get_by_role("row").filter(has_text=name)
    chat_row.get_by_role("button").click()
    viewer = page.get_by_role("dialog")
    expect(viewer.get_by_role("log", name="Conversation")).to_contain_text("It arrived cracked")
    expect(viewer.get_by_role("textbox")).to_have_count(0)  # read-only
    viewer.get_by_role("button", name="Close").click()
    expect(page.get_by_role("table", name="Audit log (latest 100)")).to_contain_text("interaction.requested")


def test_a_plain_agent_cannot_open_the_dashboard(app_server, world, new_context):
    username, password = world.agent(queues=[])
    page = new_context().new_page()
    sign_in(page, app_server.base_url, username, password)
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(page.get_by_role("link", name="Supervisor dashboard")).to_have_count(0)
    page.goto(f"{app_server.base_url}/supervisor")
    expect(page.get_by_role("heading", name="You need the supervisor role")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)
