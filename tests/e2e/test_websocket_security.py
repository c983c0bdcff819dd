"""Every event handler, called over the websocket by someone it is not meant for, does nothing.

Here: the rule of every state class, callers without the role (anonymous, or
signed in without ``workspace_user``), a revoked session, and a plain agent
calling the supervisor's handlers. An agent of another queue is
test_websocket_security_other_queue's.
"""

from __future__ import annotations

import inspect

import pytest
from reflex.state import State
from sqlalchemy import func, text
from sqlmodel import select

from agent_workspace.models import AuditLog, ClientConnection, Interaction, Queue, User
from agent_workspace.pages.kb_article import ArticlePageState
from agent_workspace.security import Access, rule_for
from agent_workspace.services import auth
from agent_workspace.state.assist import AssistState
from agent_workspace.state.auth import AuthState, LoginState
from agent_workspace.state.chat_slots import SLOT_STATES
from agent_workspace.state.customer import CustomerChatState
from agent_workspace.state.left_messages import LeftMessagesState
from agent_workspace.state.supervisor import SupervisorState
from agent_workspace.state.tools import ToolsState
from agent_workspace.state.widget import WidgetState
from agent_workspace.state.workspace import LiveState, WorkspaceState
from tests.e2e.record_handlers import RECORD_PAYLOADS, RECORD_STATES
from tests.e2e.ws_callers import app_states, cookie_for
from tests.e2e.ws_client import EventClient

# The intended audience of every state class of the app. A state added later
# without an entry here (and a rule in security.py) fails test_every_state_has_a_rule.
EXPECTED = {
    AuthState: Access.PUBLIC,
    LoginState: Access.PUBLIC,
    CustomerChatState: Access.PUBLIC,
    WidgetState: Access.PUBLIC,
    WorkspaceState: Access.WORKSPACE,
    LiveState: Access.WORKSPACE,
    ToolsState: Access.WORKSPACE,
    AssistState: Access.WORKSPACE,
    ArticlePageState: Access.PUBLIC,
    SupervisorState: Access.SUPERVISOR,
    LeftMessagesState: Access.WORKSPACE,
    **RECORD_STATES,
    **dict.fromkeys(SLOT_STATES, Access.WORKSPACE),
}

# Arguments that would make each handler act if it were allowed to run.
PAYLOADS = {
    "set_presence": {"label": "Available"},
    "set_after_hours": {"enabled": True},
    "accept": {"queue_id": 1},
    "open_reject": {"interaction_id": 1},
    "reject": {"form": {"reason": "x"}},
    "send_message": {"form": {"interaction_id": "1", "body": "intrusion"}},
    "retry_message": {"interaction_id": 1, "client_id": "abcdefgh"},
    "typing": {"interaction_id": 1},
    "close_chat": {"interaction_id": 1},
    "open_close_tab": {"interaction_id": 1},
    "select_tab": {"value": "1"},
    "tick": {"_value": ""},
    "answer_transfer": {"interaction_id": 1, "accept": True},
    "select_child_tab": {"interaction_id": 1, "value": "assist"},
    "open_dialog": {"kind": "transfer_queue", "interaction_id": 1},
    "transfer_to_queue": {"form": {"queue_id": "1", "note": "x"}},
    "transfer_to_agent": {"form": {"agent_id": "1", "note": "x"}},
    "send_email": {"form": {"to_address": "victim@example.com", "subject": "s", "body": "b"}},
    "save_details": {
        "form": {
            "interaction_id": "1",
            "short_description": "x",
            "category": "inquiry",
            "priority": "3",
            "work_notes": "",
        }
    },
    "create_record": {"interaction_id": 1, "kind": "case"},
    "save_record": {
        "form": {
            "record_id": "1",
            "short_description": "x",
            "description": "",
            "priority": "3",
            "state": "new",
            "resolution_notes": "",
        }
    },
    "escalate": {"form": {"record_id": "1", "group": "Network", "reason": "r"}},
    "open_for": {"interaction_id": 1},
    "search": {"query": "password"},
    "open_article": {"number": "KB0010001"},
    "send_in_chat": {"number": "KB0010001"},
    "view_chat": {"interaction_id": 1},
    "composer_changed": {"interaction_id": 1, "text": "hello"},
    "composer_typing": {"interaction_id": 1, "text": "hello"},
    "run_quick_action": {"index": 0},
    "composer_submitted": {"form": {"interaction_id": "1", "body": "/kb printer"}},
    "search_from_chat": {"interaction_id": 1, "query": "vpn"},
    "create_canned": {"form": {"title": "Injected", "body": "x", "queue_id": ""}},
    "delete_canned": {"response_id": 1},
    "save_hours": {
        "form": {
            "queue_id": "1",
            "weekly_hours": "Mon 09:00-10:00",
            "time_zone": "UTC",
            "closures": "2000-01-01",
            "closed_message": "Injected",
        }
    },
    "open_reply": {"record_id": 1},
    "send_reply": {"form": {"subject": "Re: your message", "body": "intrusion", "resolve": "on"}},
    "close_reply": {},
    **RECORD_PAYLOADS,
}


def protected_handlers() -> list[tuple[type[State], str]]:
    return [
        (cls, name)
        for cls in app_states()
        if rule_for(cls.get_full_name()) != Access.PUBLIC
        for name in cls.event_handlers
    ]


def test_every_state_has_a_rule():
    states = app_states()
    assert set(states) == set(EXPECTED), "a state class was added or removed: give it a rule here and in security.py"
    for cls in states:
        assert rule_for(cls.get_full_name()) == EXPECTED[cls], cls.__name__


# What a caller's events could change. The background sweeper (presence expiry,
# offer timeouts) changes presences, offers and writes "system" audit rows at
# any time, so those are left out.
WATCHED_TABLES = (
    "user",
    "queue",
    "queue_member",
    "customer",
    "interaction",
    "message",
    "attachment",
    "support_record",
    "outgoing_email",
    "knowledge_article",
    "agent_notice",
    "auth_session",
    "canned_response",
)


def _snapshot(world, token: str) -> dict[str, object]:
    with world.session() as session:
        counts = {table: session.exec(text(f'SELECT count(*) FROM "{table}"')).one()[0] for table in WATCHED_TABLES}
        counts["audit by people"] = session.exec(
            select(func.count()).select_from(AuditLog).where(AuditLog.actor_kind != "system")
        ).one()
        counts["this client registered"] = session.get(ClientConnection, token) is not None
        counts["business hours"] = tuple(
            session.exec(
                select(Queue.id, Queue.weekly_hours, Queue.time_zone, Queue.closures, Queue.closed_message).order_by(
                    Queue.id
                )
            ).all()
        )
        counts["interactions"] = tuple(
            session.exec(
                select(
                    Interaction.id,
                    Interaction.agent_id,
                    Interaction.queue_id,
                    Interaction.short_description,
                    Interaction.closed_at,
                ).order_by(Interaction.id)
            ).all()
        )
        return counts


@pytest.mark.parametrize("caller", ["anonymous", "signed in without workspace_user"])
def test_protected_handlers_refuse_callers_without_the_role(app_server, world, caller):
    queue = world.queue()
    cookie = None
    if caller != "anonymous":
        username, password = world.agent(queues=[queue], roles=())
        cookie = cookie_for(world, username, password)
    handlers = protected_handlers()
    assert len(handlers) >= 15
    client = EventClient(app_server.base_url, cookie=cookie)
    before = _snapshot(world, client.token)
    try:
        client.send(WorkspaceState.on_load)
        for cls, name in handlers:
            client.send(cls.event_handlers[name], PAYLOADS.get(name, {}))
        client.drain()
        touched = client.states_touched()
    finally:
        client.close()
    for cls, _ in handlers:
        assert cls.get_full_name() not in touched, f"{cls.__name__} answered an unauthorised caller"
    assert _snapshot(world, client.token) == before


def test_the_same_calls_work_for_an_agent(app_server, world):
    """Positive control: the refusal above is the middleware's doing, not bad arguments."""
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    client = EventClient(app_server.base_url, cookie=cookie_for(world, username, password))
    try:
        client.send(WorkspaceState.on_load)
        assert client.wait_for_state(WorkspaceState.get_full_name())
        client.send(WorkspaceState.event_handlers["set_presence"], PAYLOADS["set_presence"])
        client.drain()
    finally:
        client.close()
    with world.session() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        assert user.presence == "available"
        assert (
            session.exec(
                select(func.count()).select_from(ClientConnection).where(ClientConnection.user_id == user.id)
            ).one()
            == 1
        )
        assert (
            session.exec(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.actor_id == user.id, AuditLog.action == "presence.changed")
            ).one()
            == 1
        )


def test_a_revoked_session_is_refused_at_once(app_server, world):
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    cookie = cookie_for(world, username, password)
    client = EventClient(app_server.base_url, cookie=cookie)
    try:
        client.send(WorkspaceState.on_load)
        assert client.wait_for_state(WorkspaceState.get_full_name())
        with world.session() as session:
            auth.set_password(session, username=username, password="a-brand-new-password")
        client.send(WorkspaceState.event_handlers["set_presence"], PAYLOADS["set_presence"])
        client.drain()
    finally:
        client.close()
    with world.session() as session:
        assert session.exec(select(User.presence).where(User.username == username)).one() == "offline"


def test_public_handlers_take_no_chat_id_from_the_client():
    """Customers reach their chat only through the server-held id; no handler accepts one."""
    for name, handler in CustomerChatState.event_handlers.items():
        params = set(inspect.signature(handler.fn).parameters) - {"self"}
        assert not params & {"interaction_id", "public_id", "chat_id"}, name


def test_supervisor_handlers_refuse_a_plain_agent(app_server, world):
    queue = world.queue()
    username, password = world.agent(queues=[queue])
    before = _snapshot(world, "")
    client = EventClient(app_server.base_url, cookie=cookie_for(world, username, password))
    try:
        client.send(SupervisorState.event_handlers["load"], path="/supervisor")
        client.send(SupervisorState.event_handlers["view_chat"], PAYLOADS["view_chat"], path="/supervisor")
        client.send(SupervisorState.event_handlers["save_hours"], PAYLOADS["save_hours"], path="/supervisor")
        client.send(WorkspaceState.on_load)  # allowed: proves the socket works
        assert client.wait_for_state(WorkspaceState.get_full_name())
        client.drain()
        assert SupervisorState.get_full_name() not in client.states_touched()
    finally:
        client.close()
    assert _snapshot(world, "")["business hours"] == before["business hours"]
