"""The supervisor dashboard, live, and a read-only look into a chat."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import agent_page, sign_in, start_customer_chat, unique


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
    customer.get_by_label("Message").fill("The lid is missing too")
    customer.get_by_role("button", name="Send", exact=True).click()
    expect(viewer.get_by_role("log", name="Conversation")).to_contain_text("The lid is missing too")  # live
    viewer.get_by_role("button", name="Close").click()
    audit_log = page.get_by_role("table", name="Audit log (latest 100)")
    expect(audit_log).to_contain_text("Chat requested")
    expect(audit_log).to_contain_text("The customer started the chat IMS")  # in words, not ids and JSON
    expect(audit_log).to_contain_text(f"in {queue}")


def test_a_plain_agent_cannot_open_the_dashboard(app_server, world, new_context):
    username, password = world.agent(queues=[])
    page = new_context().new_page()
    sign_in(page, app_server.base_url, username, password)
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(page.get_by_role("link", name="Supervisor dashboard")).to_have_count(0)
    page.goto(f"{app_server.base_url}/supervisor")
    expect(page.get_by_role("heading", name="You need the supervisor role")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)


def test_canned_responses_and_quick_actions(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue("Canned")
    sup_user, sup_password = world.agent(queues=[], roles=("workspace_user", "supervisor"))
    supervisor = new_context().new_page()
    sign_in(supervisor, base, sup_user, sup_password)
    expect(supervisor.get_by_role("heading", name="Inbox")).to_be_visible()
    supervisor.goto(f"{base}/supervisor")
    title = unique("Warm welcome")
    supervisor.get_by_label("Title").fill(title)
    supervisor.get_by_label("Queue", exact=True).select_option(label=queue)
    supervisor.get_by_label("Reply").fill("Welcome {customer_first_name}! This is {agent_name}.")
    supervisor.get_by_role("button", name="Save canned response").click()
    expect(supervisor.get_by_role("table", name="Canned responses")).to_contain_text(title)

    username, password = world.agent(queues=[queue], name="Quinn Quick")
    customer = start_customer_chat(new_context, base, name="Maya Customer", queue=queue, question="Hello there")
    agent = agent_page(new_context, base, username, password)
    agent.get_by_test_id("inbox-card").filter(has_text="Maya Customer").get_by_role("button", name="Accept").click()
    composer = agent.get_by_label("Message")
    composer.fill("/r warm")
    menu = agent.get_by_role("listbox", name="Quick actions")
    menu.get_by_role("option", name=f"/r {title}").click()
    expect(composer).to_have_value("Welcome Maya! This is Quinn Quick.")
    agent.get_by_role("button", name="Send").click()
    expect(customer.get_by_role("log", name="Conversation")).to_contain_text("Welcome Maya! This is Quinn Quick.")

    composer.fill("/tq")
    agent.get_by_role("listbox", name="Quick actions").get_by_role(
        "option", name="/tq Transfer to another queue"
    ).click()
    expect(agent.get_by_role("dialog", name="Transfer to another queue")).to_be_visible()
