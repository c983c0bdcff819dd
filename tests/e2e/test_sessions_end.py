"""A session that ends, ends everywhere; a tab's token alone reveals nothing (issue 17).

Over the real websocket against the production build: the agent's tab with a
live chat in it is signed out by a logout in another request, a password
change, a deactivation or a role removal; its token replayed without its
cookie, or with another agent's cookie, gets nothing of the agent's.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import expect
from reflex.state import State
from reflex.utils.format import format_event_handler
from sqlmodel import select

from agent_workspace import security
from agent_workspace.models import ClientConnection, Presence, Queue, User
from agent_workspace.services import audience, auth
from agent_workspace.services.events import InteractionChanged
from agent_workspace.state.assist import AssistState
from agent_workspace.state.customer import CustomerChatState
from agent_workspace.state.tools import ToolsState
from agent_workspace.state.workspace import WorkspaceState
from tests.e2e.conftest import agent_page, start_customer_chat
from tests.e2e.ws_client import USER_AGENT, EventClient

HYDRATE = format_event_handler(State.event_handlers["hydrate"])


def _cookie_for(world, username: str, password: str) -> str:
    with world.session() as session:
        ticket, _ = auth.login(session, username=username, password=password)
        token = auth.redeem_ticket(
            session, ticket=ticket, client=auth.Client(user_agent=USER_AGENT, address="127.0.0.1")
        )
    return f"{security.SESSION_COOKIE}={token}"


@dataclass
class LiveChat:
    """An agent's tab (over the websocket) with a customer's chat open in it."""

    username: str
    password: str
    cookie: str
    agent: EventClient
    customer: EventClient
    chat_id: int
    secrets: tuple[str, ...]  # what only the agent's tab may hold

    def close(self) -> None:
        for client in (self.agent, self.customer):
            client.close()


def _live_chat(app_server, world) -> LiveChat:
    mark = uuid.uuid4().hex[:8]
    queue_name = world.queue("Ends")
    username, password = world.agent(queues=[queue_name], name=f"Agent {mark}")
    with world.session() as session:
        queue_id = session.exec(select(Queue.id).where(Queue.name == queue_name)).one()
    cookie = _cookie_for(world, username, password)
    agent = EventClient(app_server.base_url, cookie=cookie)
    customer = EventClient(app_server.base_url)
    agent.send(WorkspaceState.on_load)
    agent.send(WorkspaceState.event_handlers["set_presence"], {"label": "Available"})
    agent.drain()
    customer.send(CustomerChatState.on_load, path="/chat")
    form = {
        "name": f"Customer {mark}",
        "email": f"c-{mark}@example.com",
        "queue_id": str(queue_id),
        "question": f"Question {mark}",
    }
    customer.send(CustomerChatState.event_handlers["start_chat"], {"form": form}, path="/chat")
    customer.drain()
    agent.send(WorkspaceState.event_handlers["accept"], {"queue_id": queue_id})
    agent.wait_for_text(f"Question {mark}")
    customer.send(CustomerChatState.event_handlers["send"], {"form": {"body": f"Secret before {mark}"}}, path="/chat")
    agent.wait_for_text(f"Secret before {mark}")  # pushed to the agent's tab
    with world.session() as session:
        chat_id = session.exec(
            select(ClientConnection.interaction_id).where(ClientConnection.token == customer.token)
        ).one()
    return LiveChat(
        username,
        password,
        cookie,
        agent,
        customer,
        chat_id,
        (f"Customer {mark}", f"c-{mark}", f"Question {mark}", f"Secret before {mark}", f"Agent {mark}"),
    )


def _hydrate(client: EventClient) -> dict:
    """The whole state tree Reflex sends for this token (what ``hydrate`` replays)."""
    mark = client.mark()
    client.send(HYDRATE)
    client.drain()
    snapshot = {}
    for delta in client.deltas[mark:]:
        for state, values in delta.items():
            snapshot.setdefault(state, {}).update(values)
    assert WorkspaceState.get_full_name() in snapshot, "hydrate sent no snapshot"
    return snapshot


def _assert_nothing_private(chat: LiveChat, client: EventClient, after: int = 0) -> None:
    heard = "".join(client.received[after:])
    for secret in chat.secrets:
        assert secret not in heard, f"{secret!r} reached a client that must not have it"


def _registered(world, token: str) -> bool:
    with world.session() as session:
        return session.get(ClientConnection, token) is not None


def _pushed_to(world, chat_id: int) -> set[str]:
    """The tabs a change of the chat is pushed to (exactly realtime's lookup)."""
    with world.session() as session:
        return set(audience.tokens_for(session, [InteractionChanged(chat_id)]))


def _signed_out(client: EventClient, after: int) -> None:
    """The tab was told it is signed out: its view emptied, and sent to the login page."""
    client.wait_for_text('"_redirect"', after=after)
    client.wait_for_value(WorkspaceState, "tabs", [], after=after)


def test_a_logged_out_tab_gets_no_push_and_an_empty_hydrate(app_server, world):
    chat = _live_chat(app_server, world)
    try:
        assert _pushed_to(world, chat.chat_id) >= {chat.agent.token}
        mark = chat.agent.mark()
        response = httpx.get(
            f"{app_server.base_url}/api/logout",
            headers={"Cookie": chat.cookie, "User-Agent": USER_AGENT},
            follow_redirects=False,
        )
        assert response.status_code == 303
        _signed_out(chat.agent, after=mark)
        assert not _registered(world, chat.agent.token)
        assert chat.agent.token not in _pushed_to(world, chat.chat_id)
        with world.session() as session:  # no chat is offered to someone who signed out
            assert session.exec(select(User.presence).where(User.username == chat.username)).one() == Presence.OFFLINE

        heard = len(chat.agent.received)
        chat.customer.send(
            CustomerChatState.event_handlers["send"], {"form": {"body": "Secret after logout"}}, path="/chat"
        )
        chat.customer.wait_for_text("Secret after logout")
        chat.agent.drain()
        assert "Secret after logout" not in "".join(chat.agent.received[heard:])

        snapshot = _hydrate(chat.agent)
        assert snapshot[WorkspaceState.get_full_name()]["tabs_rx_state_"] == []
        _assert_nothing_private(chat, chat.agent, after=heard)
    finally:
        chat.close()


def test_a_tab_token_without_its_cookie_gets_nothing_private(app_server, world):
    chat = _live_chat(app_server, world)
    chat.agent.close()  # the tab is gone (or offline); its state stays on the server
    thief = EventClient(app_server.base_url, token=chat.agent.token)
    try:
        snapshot = _hydrate(thief)
        assert snapshot[WorkspaceState.get_full_name()]["tabs_rx_state_"] == []
        thief.send(
            WorkspaceState.event_handlers["select_child_tab"], {"interaction_id": chat.chat_id, "value": "assist"}
        )
        thief.drain()
        _assert_nothing_private(chat, thief)
    finally:
        thief.close()
        chat.customer.close()


def test_a_customers_tab_token_without_the_chat_cookie_replays_nothing(app_server, world):
    """The customer's token travels in the websocket URL too: alone it shows
    neither the conversation nor the chat key that would open it."""
    chat = _live_chat(app_server, world)
    chat.customer.send(CustomerChatState.event_handlers["send"], {"form": {"body": "Customer secret"}}, path="/chat")
    chat.customer.wait_for_text("Customer secret")
    chat_key = chat.customer.latest(CustomerChatState)["chat_key"]
    assert chat_key
    chat.customer.close()
    thief = EventClient(app_server.base_url, token=chat.customer.token)
    try:
        mark = thief.mark()
        thief.send(HYDRATE)
        thief.drain()
        heard = "".join(thief.received[mark:])
        assert CustomerChatState.get_full_name() in heard, "hydrate sent no snapshot"
        for secret in ("Customer secret", chat_key, *chat.secrets):
            assert secret not in heard, f"{secret!r} reached a client without the chat cookie"
    finally:
        thief.close()
        chat.agent.close()


def test_another_agents_cookie_with_this_tabs_token_acts_as_nobody_but_themselves(app_server, world):
    chat = _live_chat(app_server, world)
    chat.agent.close()
    other_name, other_password = world.agent(queues=[])
    intruder = EventClient(
        app_server.base_url, token=chat.agent.token, cookie=_cookie_for(world, other_name, other_password)
    )
    try:
        # No hydrate first: straight to handlers that show or act on the tab's chat.
        intruder.send(AssistState.event_handlers["search_from_chat"], {"interaction_id": chat.chat_id, "query": "vpn"})
        intruder.send(
            WorkspaceState.event_handlers["select_child_tab"], {"interaction_id": chat.chat_id, "value": "details"}
        )
        intruder.send(ToolsState.event_handlers["open_dialog"], {"kind": "email", "interaction_id": chat.chat_id})
        intruder.send(
            WorkspaceState.event_handlers["send_message"],
            {"form": {"interaction_id": str(chat.chat_id), "body": "intrusion"}},
        )
        intruder.send(WorkspaceState.event_handlers["set_presence"], {"label": "Away"})
        intruder.drain()
        _assert_nothing_private(chat, intruder)
        snapshot = _hydrate(intruder)
        assert snapshot[WorkspaceState.get_full_name()]["tabs_rx_state_"] == []
        _assert_nothing_private(chat, intruder)
    finally:
        intruder.close()
        chat.customer.close()
    with world.session() as session:
        presence = dict(
            session.exec(
                select(User.username, User.presence).where(User.username.in_([chat.username, other_name]))
            ).all()
        )
    assert presence == {chat.username: "available", other_name: "away"}  # it acted as the intruder, never as the agent
    assert "intrusion" not in "".join(chat.customer.received)


@pytest.mark.parametrize("ending", ["password change", "deactivation", "role removal"])
def test_ending_the_users_sessions_elsewhere_signs_the_tab_out(app_server, world, ending):
    chat = _live_chat(app_server, world)
    try:
        mark = chat.agent.mark()
        with world.session() as session:  # another process (as the CLI would): the app finds the tabs in the database
            if ending == "password change":
                auth.set_password(session, username=chat.username, password="a-brand-new-password")
            elif ending == "deactivation":
                auth.deactivate(session, username=chat.username)
            else:
                auth.set_roles(session, username=chat.username, roles=[])
        assert chat.agent.token not in _pushed_to(world, chat.chat_id)
        _signed_out(chat.agent, after=mark)
        assert not _registered(world, chat.agent.token)
        heard = len(chat.agent.received)
        assert _hydrate(chat.agent)[WorkspaceState.get_full_name()]["tabs_rx_state_"] == []
        _assert_nothing_private(chat, chat.agent, after=heard)
    finally:
        chat.close()


def test_signing_out_in_one_tab_signs_out_the_other_tab_with_a_chat_open(app_server, world, new_context):
    """Walk it: two tabs of one agent, a chat open in one; Log out in the other."""
    mark = uuid.uuid4().hex[:6]
    queue = world.queue("Walk")
    username, password = world.agent(queues=[queue])
    first = agent_page(new_context, app_server.base_url, username, password)
    customer = start_customer_chat(
        new_context, app_server.base_url, name=f"Walker {mark}", queue=queue, question=f"Walk question {mark}"
    )
    first.get_by_test_id("inbox-card").filter(has_text=f"Walker {mark}").get_by_role("button", name="Accept").click()
    expect(first.get_by_text(f"Walk question {mark}")).to_be_visible()
    customer.get_by_label("Message").fill(f"Hello before {mark}")
    customer.get_by_role("button", name="Send").click()
    expect(first.get_by_text(f"Hello before {mark}")).to_be_visible()

    second = first.context.new_page()  # same browser, same session cookie
    second.goto(f"{app_server.base_url}/workspace")
    expect(second.get_by_role("heading", name="Inbox")).to_be_visible()
    second.get_by_role("button", name="Log out").click()
    expect(second).to_have_url(re.compile(r"/login"))

    expect(first).to_have_url(re.compile(r"/login"))  # the other tab shows it is signed out
    expect(first.get_by_label("Username")).to_be_visible()
    expect(first.get_by_text(f"Walk question {mark}")).to_have_count(0)
    customer.get_by_label("Message").fill(f"Hello after {mark}")
    customer.get_by_role("button", name="Send").click()
    expect(customer.get_by_text(f"Hello after {mark}")).to_be_visible()
    first.goto(f"{app_server.base_url}/workspace")  # and nothing of it comes back
    expect(first).to_have_url(re.compile(r"/login"))
    expect(first.get_by_text(f"Hello after {mark}")).to_have_count(0)
