"""axe-core on every page, and on the workspace in its coloured states (a customer
waiting 30 s / 60 s, selected and not), with a dialog open and in dark mode:
no serious or critical violations."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect
from sqlmodel import select

from agent_workspace.config import PROJECT_ROOT
from agent_workspace.models import InteractionState, KnowledgeArticle, Queue, User
from tests.e2e.conftest import agent_page, start_customer_chat, unique
from tests.e2e.test_interaction_tools import accept_chat
from tests.factories import add_message, make_customer, make_interaction

SHOTS = "/tmp/shots-readable"

AXE = (PROJECT_ROOT / ".tools/node_modules/axe-core/axe.min.js").read_text()


def serious_violations(page: Page, within: str = "") -> list[str]:
    """axe's serious and critical findings on the page, or only ``within`` the element this CSS selector finds."""
    page.add_script_tag(content=AXE)
    result = page.evaluate(
        "async (within) => await axe.run(within ? document.querySelector(within) : document, {resultTypes: ['violations']})",
        within,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[(n['target'], n['failureSummary']) for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_public_pages(app_server, world, new_context):
    page = new_context().new_page()
    for path, landmark in (("/", "Chat with support"), ("/login", "Sign in"), ("/chat", "Start chat")):
        page.goto(app_server.base_url + path)
        expect(
            page.get_by_role("button", name=landmark).or_(page.get_by_role("link", name=landmark)).first
        ).to_be_visible()
        assert serious_violations(page) == [], path
    with world.session() as session:
        number = session.exec(select(KnowledgeArticle.number).order_by(KnowledgeArticle.id)).first()
    page.goto(f"{app_server.base_url}/kb/{number}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert serious_violations(page) == []


def test_workspace_pages(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue], roles=("workspace_user", "supervisor"))
    name = unique("Yara")
    customer = start_customer_chat(new_context, base, name=name, queue=queue, question="Where is my refund?")
    agent = agent_page(new_context, base, username, password)
    expect(agent.get_by_test_id("inbox-card").first).to_be_visible()
    assert serious_violations(agent) == [], "inbox"
    accept_chat(agent, name)
    agent.get_by_label("Message").fill("Hello, checking")
    agent.get_by_role("button", name="Send").click()
    expect(customer.get_by_role("log", name="Conversation")).to_contain_text("Hello, checking")
    problems = serious_violations(agent)
    assert problems == [], problems
    assert serious_violations(customer) == [], "customer chat"
    agent.get_by_role("tab", name="Agent Assist").click()
    expect(agent.get_by_test_id("assist-result").first).to_be_visible()
    assert serious_violations(agent) == [], "Agent Assist"
    agent.goto(f"{base}/supervisor")
    expect(agent.get_by_role("table", name="Queues today")).to_be_visible()
    assert serious_violations(agent) == [], "supervisor"
    assert re.search("supervisor", agent.url)


def _chat_waiting(world, *, username: str, queue: str, name: str, seconds: int) -> None:
    """A chat of this agent whose customer wrote ``seconds`` ago and has had no reply:
    the tab's colour is read from the message's stored time, so no test waits for it."""
    with world.session() as session:
        agent = session.exec(select(User).where(User.username == username)).one()
        agent.last_seen_at = datetime.now(
            UTC
        )  # their workspace is about to open: an absent agent's chats go back in line
        item = make_interaction(
            session,
            queue=session.exec(select(Queue).where(Queue.name == queue)).one(),
            customer=make_customer(session, name=name),
            agent=agent,
            state=InteractionState.WORK_IN_PROGRESS,
        )
        item.accepted_at = datetime.now(UTC) - timedelta(seconds=seconds + 5)
        session.add(item)
        session.commit()
        add_message(
            session, item, "Are you there?", sender_name=name, created_at=datetime.now(UTC) - timedelta(seconds=seconds)
        )


def test_the_coloured_tabs_light_and_dark_with_a_dialog_open(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue], name=unique("Agent"))
    amber, red = unique("Amber"), unique("Red")
    _chat_waiting(world, username=username, queue=queue, name=amber, seconds=45)
    _chat_waiting(world, username=username, queue=queue, name=red, seconds=90)
    start_customer_chat(new_context, base, name=unique("Queued"), queue=queue, question="Still waiting in line")
    agent = agent_page(new_context, base, username, password, available=False)
    amber_tab = agent.get_by_role("tab", name=re.compile(rf"^{amber}\W+customer waiting over 30 s"))
    red_tab = agent.get_by_role("tab", name=re.compile(rf"^{red}\W+customer waiting over 1 min"))
    inbox_tab = agent.get_by_role("tab", name=re.compile("^Inbox 1"))  # with its count badge
    tabs = agent.get_by_role("tablist", name="Interactions")

    for mode in ("light", "dark"):
        if mode == "dark":
            agent.get_by_role("button", name="Toggle dark mode").click()
            expect(agent.locator("html.dark")).to_have_count(1)
        for tab, shown in ((inbox_tab, "inbox"), (amber_tab, "amber"), (red_tab, "red")):
            tab.click()
            expect(tab).to_have_attribute("aria-selected", "true")
            tabs.screenshot(path=f"{SHOTS}/tabs-{shown}-selected-{mode}.png")
            problems = serious_violations(agent)
            assert problems == [], (mode, shown, problems)
        agent.get_by_role("button", name="Shortcuts").click()
        dialog = agent.get_by_role("dialog", name="Keyboard shortcuts")
        expect(dialog).to_be_visible()
        agent.screenshot(path=f"{SHOTS}/help-dialog-{mode}.png")
        problems = serious_violations(agent)
        assert problems == [], (mode, "help dialog", problems)
        dialog.get_by_role("button", name="Close help").click()
        expect(dialog).to_be_hidden()
    agent.set_viewport_size({"width": 390, "height": 800})
    agent.screenshot(path=f"{SHOTS}/workspace-390-dark.png", full_page=True)
