"""SIGKILL the server in the middle of chats: nothing acknowledged is lost, pages resume."""

from __future__ import annotations

import signal

from playwright.sync_api import expect
from sqlmodel import func, select

from agent_workspace.models import Message
from tests.e2e.conftest import agent_page, start_customer_chat, unique
from tests.e2e.test_interaction_tools import accept_chat


def test_kill_and_restart_keeps_every_sent_message(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    name = unique("Kai")
    customer = start_customer_chat(new_context, base, name=name, queue=queue, question="Crash test")
    agent = agent_page(new_context, base, username, password)
    accept_chat(agent, name)
    customer_log = customer.get_by_role("log", name="Conversation")
    agent_log = agent.get_by_role("log", name="Conversation")
    for n in range(3):
        customer.get_by_label("Message").fill(f"before crash {n}")
        customer.get_by_role("button", name="Send", exact=True).click()
        agent.get_by_label("Message").fill(f"agent before crash {n}")
        agent.get_by_role("button", name="Send").click()
    expect(agent_log).to_contain_text("before crash 2")
    expect(customer_log).to_contain_text("agent before crash 2")
    expect(customer_log.get_by_text("Sending…")).to_have_count(0)
    expect(agent_log.get_by_text("Sending…")).to_have_count(0)

    app_server.stop(signal.SIGKILL)
    # Typed while the server is down: sent once it is back.
    customer.get_by_label("Message").fill("typed while down")
    customer.get_by_role("button", name="Send", exact=True).click()
    app_server.start()

    for n in range(3):
        expect(agent_log).to_contain_text(f"before crash {n}", timeout=60_000)
        expect(customer_log).to_contain_text(f"agent before crash {n}", timeout=60_000)
    expect(customer_log.get_by_text("typed while down")).to_be_visible()
    expect(customer_log.get_by_text("Sending…")).to_have_count(0, timeout=60_000)
    expect(agent_log).to_contain_text("typed while down", timeout=60_000)
    agent.get_by_label("Message").fill("after restart")
    agent.get_by_role("button", name="Send").click()
    expect(customer_log).to_contain_text("after restart")
    with world.session() as session:
        assert (
            session.exec(select(func.count()).select_from(Message).where(Message.body == "typed while down")).one() == 1
        )
        for n in range(3):
            assert (
                session.exec(select(func.count()).select_from(Message).where(Message.body == f"before crash {n}")).one()
                == 1
            )
