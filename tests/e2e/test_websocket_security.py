"""Every event handler, called over the websocket by someone it is not meant for, does nothing."""

from __future__ import annotations

import inspect
import time
import uuid
from dataclasses import dataclass

import httpx
import pytest
from reflex.state import State
from reflex.utils.format import format_event_handler
from sqlalchemy import func, or_, text
from sqlmodel import col, select

import agent_workspace.agent_workspace  # noqa: F401  (registers every page and state)
from agent_workspace import security
from agent_workspace.models import (
    Attachment,
    AuditLog,
    ClientConnection,
    EmailStatus,
    Interaction,
    Message,
    OfferRejection,
    OutgoingEmail,
    Queue,
    SenderKind,
    SupportRecord,
    User,
)
from agent_workspace.pages.kb_article import ArticlePageState
from agent_workspace.security import Access, rule_for
from agent_workspace.services import (
    attachment_storage,
    attachments,
    auth,
    chat_files,
    conversations,
    email,
    left_messages,
    records,
    routing,
    transfers,
)
from agent_workspace.state.assist import AssistState
from agent_workspace.state.auth import AuthState, LoginState
from agent_workspace.state.customer import CustomerChatState
from agent_workspace.state.left_messages import LeftMessagesState
from agent_workspace.state.supervisor import SupervisorState
from agent_workspace.state.tools import ToolsState
from agent_workspace.state.widget import WidgetState
from agent_workspace.state.workspace import LiveState, WorkspaceState
from tests.e2e.record_handlers import RECORD_PAYLOADS, RECORD_STATES, record_attacks
from tests.e2e.ws_client import USER_AGENT, EventClient

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
    "run_quick_action": {"index": 0},
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


def app_states() -> list[type[State]]:
    """Every state class of the app (importing the app module registers them all)."""
    found, stack = [], list(State.get_substates())
    while stack:
        cls = stack.pop()
        stack.extend(cls.get_substates())
        if cls.__module__.startswith("agent_workspace."):
            found.append(cls)
    return found


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


def _cookie_for(world, username: str, password: str) -> str:
    """A session cookie bound, like a browser's, to the client that will use it (EventClient)."""
    with world.session() as session:
        ticket, _ = auth.login(session, username=username, password=password)
        token = auth.redeem_ticket(
            session, ticket=ticket, client=auth.Client(user_agent=USER_AGENT, address="127.0.0.1")
        )
    return f"{security.SESSION_COOKIE}={token}"


@pytest.mark.parametrize("caller", ["anonymous", "signed in without workspace_user"])
def test_protected_handlers_refuse_callers_without_the_role(app_server, world, caller):
    queue = world.queue()
    cookie = None
    if caller != "anonymous":
        username, password = world.agent(queues=[queue], roles=())
        cookie = _cookie_for(world, username, password)
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
    client = EventClient(app_server.base_url, cookie=_cookie_for(world, username, password))
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
    cookie = _cookie_for(world, username, password)
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
    client = EventClient(app_server.base_url, cookie=_cookie_for(world, username, password))
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


# ---------------------------------------------------------------- an agent of another queue


@dataclass(frozen=True)
class Upload:
    """A handler that takes files is called through Reflex's upload endpoint, as the page calls it."""

    files: tuple[tuple[str, bytes], ...]


@dataclass
class Victim:
    """Someone else's queue with a live chat full of data, and a chat waiting in it."""

    queue_id: int
    chat_id: int
    waiting_id: int
    record_id: int
    left_record_id: int  # a message a customer left in the victim's queue
    owner_client_id: str  # of the owner's message, for retry_message
    secrets: tuple[str, ...]  # what must never reach the intruder


def _victim(world, monkeypatch) -> Victim:
    """Made with the services, straight in the app's database (and its attachment folder)."""
    monkeypatch.setenv("AW_DATA_DIR", str(world.app.data_dir))
    mark = uuid.uuid4().hex[:8]
    queue_name = world.queue("Victim")
    owner_name, _ = world.agent(queues=[queue_name])
    colleague_name, _ = world.agent(queues=[])
    with world.session() as session:
        queue = session.exec(select(Queue).where(Queue.name == queue_name)).one()
        owner, colleague = (
            session.exec(select(User).where(User.username == n)).one() for n in (owner_name, colleague_name)
        )
        for agent in (owner, colleague):
            routing.touch_agent(session, user_id=agent.id)
            routing.set_presence(session, user_id=agent.id, presence="available")
        chat = conversations.start_chat(
            session,
            name=f"Victim {mark}",
            email=f"victim-{mark}@example.com",
            queue_id=queue.id,
            question=f"Secret question {mark}",
        ).interaction
        routing.accept(session, user_id=owner.id, queue_id=queue.id)
        conversations.post_message(
            session,
            interaction_id=chat.id,
            sender_kind=SenderKind.CUSTOMER,
            body=f"Secret message {mark}",
            client_id=f"cust-{mark}",
        )
        conversations.post_message(
            session,
            interaction_id=chat.id,
            sender_kind=SenderKind.AGENT,
            sender_user_id=owner.id,
            body=f"Secret reply {mark}",
            client_id=f"owner-{mark}",
        )
        secret_file = attachments.check_file(f"secret-{mark}.txt", b"secret\n")
        chat_files.share_file(
            session,
            interaction_id=chat.id,
            sender_kind=SenderKind.CUSTOMER,
            checked=secret_file,
            storage_name=attachment_storage.write_file(secret_file.data),
        )
        record = records.create_from_interaction(session, interaction_id=chat.id, kind="case", created_by_id=owner.id)
        sent = email.send_email(
            session,
            interaction_id=chat.id,
            to_address=f"victim-{mark}@example.com",
            subject=f"Secret subject {mark}",
            body="b",
            created_by_id=owner.id,
        )
        transfers.to_agent(
            session, interaction_id=chat.id, user_id=owner.id, target_user_id=colleague.id, note=f"Secret note {mark}"
        )
        routing.set_presence(session, user_id=owner.id, presence="away")  # the waiting chat stays unoffered
        waiting = conversations.start_chat(
            session,
            name=f"Waiting {mark}",
            email=f"waiting-{mark}@example.com",
            queue_id=queue.id,
            question=f"Secret wait {mark}",
        ).interaction
        left = left_messages.leave_message(
            session,
            queue_id=queue.id,
            name=f"Left {mark}",
            email=f"left-{mark}@example.com",
            message=f"Secret left {mark}",
        )
        attachment = session.exec(select(Attachment).where(Attachment.interaction_id == chat.id)).one()
        assert session.get(Interaction, chat.id).agent_id == owner.id and sent.id
        return Victim(
            queue_id=queue.id,
            chat_id=chat.id,
            waiting_id=waiting.id,
            record_id=record.id,
            left_record_id=left.record_id,
            owner_client_id=f"owner-{mark}",
            secrets=(
                mark,
                chat.public_id,
                waiting.public_id,
                attachment.public_id,
                chat.number,
                record.number,
                left.number,
            ),
        )


def _wait_for_outbox(world, victim: Victim, timeout: float = 15) -> None:
    """The app's mail worker delivers the victim's email in the background; the
    snapshot is taken once it has, so only the intruder could change the row."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with world.session() as session:
            pending = session.exec(
                select(OutgoingEmail.id).where(
                    OutgoingEmail.interaction_id == victim.chat_id,
                    col(OutgoingEmail.status).in_([EmailStatus.QUEUED, EmailStatus.SENDING]),
                )
            ).first()
        if pending is None:
            return
        time.sleep(0.1)
    raise AssertionError("the victim's email was never delivered")


def _victim_snapshot(world, victim: Victim, intruder_id: int) -> dict[str, object]:
    """Every row of the victim's chats, and what the intruder left in the audit log."""
    chats = (victim.chat_id, victim.waiting_id)
    with world.session() as session:

        def rows(model, *where):
            return [row.model_dump() for row in session.exec(select(model).where(*where).order_by(model.id))]

        record_ids = [
            r.id for r in session.exec(select(SupportRecord).where(col(SupportRecord.interaction_id).in_(chats)))
        ]
        record_ids.append(victim.left_record_id)
        return {
            "interactions": rows(Interaction, col(Interaction.id).in_(chats)),
            "messages": rows(Message, col(Message.interaction_id).in_(chats)),
            "records": rows(SupportRecord, col(SupportRecord.id).in_(record_ids)),
            "emails": rows(
                OutgoingEmail,
                or_(col(OutgoingEmail.interaction_id).in_(chats), col(OutgoingEmail.record_id).in_(record_ids)),
            ),
            "attachments": rows(
                Attachment, or_(col(Attachment.interaction_id).in_(chats), col(Attachment.record_id).in_(record_ids))
            ),
            "rejections": [
                r.model_dump()
                for r in session.exec(select(OfferRejection).where(col(OfferRejection.interaction_id).in_(chats)))
            ],
            "audit about the victim": rows(
                AuditLog,
                or_(
                    (AuditLog.target_kind == "interaction") & col(AuditLog.target_id).in_(chats),
                    (AuditLog.target_kind == "record") & col(AuditLog.target_id).in_(record_ids),
                ),
            ),
            "audit by the intruder": rows(
                AuditLog, AuditLog.actor_id == intruder_id, AuditLog.action != "presence.changed"
            ),
            "stored files": sorted(p.name for p in (world.app.data_dir / "attachments").iterdir()),
        }


def _attacks(victim: Victim, *, intruder_id: int, intruder_queue_id: int) -> dict[tuple[type[State], str], list]:
    """Every handler of every agent-level state, with arguments aimed at the victim's chat.

    In order: handlers that pick a target first (dialogs, tabs, composer), then
    those that act on it, then those that reset; the whole list runs twice so
    every target picked in one pass is acted on in the next.
    """
    chat, record, left = victim.chat_id, victim.record_id, victim.left_record_id
    return {
        (WorkspaceState, "on_load"): [{}],
        (LeftMessagesState, "load"): [{}],
        (WorkspaceState, "set_presence"): [{"label": "Available"}],
        (WorkspaceState, "set_after_hours"): [{"enabled": False}],  # True would audit the intruder's own opt-in
        (WorkspaceState, "setvar"): [{"var_name": "reject_target_id", "value": victim.waiting_id}],
        (LiveState, "setvar"): [{"var_name": "conversations", "value": {str(chat): []}}],
        (ToolsState, "setvar"): [{"var_name": "interaction_id", "value": chat}],
        (AssistState, "setvar"): [{"var_name": "interaction_id", "value": chat}],
        (LeftMessagesState, "open_reply"): [{"record_id": left}],
        (LeftMessagesState, "setvar"): [{"var_name": "reply_id", "value": left}],
        (WorkspaceState, "select_tab"): [{"value": str(chat)}],
        (WorkspaceState, "select_child_tab"): [{"interaction_id": chat, "value": "details"}],
        (WorkspaceState, "open_reject"): [{"interaction_id": victim.waiting_id}],
        (WorkspaceState, "open_close_tab"): [{"interaction_id": chat}],
        (ToolsState, "open_dialog"): [
            {"kind": kind, "interaction_id": chat} for kind in ("attach", "transfer_queue", "transfer_agent", "email")
        ],
        (ToolsState, "composer_changed"): [
            {"interaction_id": chat, "text": "/r"},
            {"interaction_id": chat, "text": "typing"},
        ],
        (AssistState, "open_for"): [{"interaction_id": chat}],
        (AssistState, "search_from_chat"): [{"interaction_id": chat, "query": "password"}],
        (AssistState, "search"): [{"query": "password"}],
        (AssistState, "open_article"): [{"number": "KB0010001"}],
        (WorkspaceState, "accept"): [{"queue_id": victim.queue_id}],
        (WorkspaceState, "reject"): [{"form": {"reason": "intrusion"}}],
        (WorkspaceState, "send_message"): [{"form": {"interaction_id": str(chat), "body": "intrusion"}}],
        (WorkspaceState, "retry_message"): [{"interaction_id": chat, "client_id": victim.owner_client_id}],
        (WorkspaceState, "answer_transfer"): [
            {"interaction_id": chat, "accept": True},
            {"interaction_id": chat, "accept": False},
        ],
        (WorkspaceState, "confirm_close_tab"): [{}],
        (WorkspaceState, "close_chat"): [{"interaction_id": chat}],
        (ToolsState, "transfer_to_queue"): [{"form": {"queue_id": str(intruder_queue_id), "note": "x"}}],
        (ToolsState, "transfer_to_agent"): [{"form": {"agent_id": str(intruder_id), "note": "x"}}],
        (ToolsState, "send_email"): [
            {"form": {"to_address": "attacker@example.com", "subject": "s", "body": "b", "include_transcript": True}}
        ],
        (ToolsState, "upload"): [Upload(files=(("intrusion.txt", b"intrusion\n"),))],
        (ToolsState, "save_details"): [
            {
                "form": {
                    "interaction_id": str(chat),
                    "short_description": "hijacked",
                    "category": "inquiry",
                    "priority": "1",
                    "work_notes": "hijacked",
                }
            }
        ],
        (ToolsState, "create_record"): [
            {"interaction_id": chat, "kind": "case"},
            {"interaction_id": chat, "kind": "incident"},
        ],
        (ToolsState, "save_record"): [
            {
                "form": {
                    "record_id": str(record),
                    "short_description": "hijacked",
                    "description": "",
                    "priority": "1",
                    "state": "resolved",
                    "resolution_notes": "x",
                }
            }
        ],
        (ToolsState, "escalate"): [{"form": {"record_id": str(record), "group": "Network", "reason": "intrusion"}}],
        (ToolsState, "run_quick_action"): [{"index": 0}],
        (AssistState, "send_in_chat"): [{"number": "KB0010001"}],
        (LeftMessagesState, "send_reply"): [
            {"form": {"subject": "Re: your message", "body": "intrusion", "resolve": "on"}}
        ],
        (LeftMessagesState, "tick"): [{"_value": ""}],
        (LeftMessagesState, "close_reply"): [{}],
        (WorkspaceState, "cancel_reject"): [{}],
        (WorkspaceState, "cancel_close_tab"): [{}],
        (WorkspaceState, "dismiss_notice"): [{"index": 0}],
        (WorkspaceState, "tick"): [{"_value": ""}],
        (LiveState, "toggle_sound"): [{}],
        (ToolsState, "close_dialog"): [{}],
        (ToolsState, "close_quick_actions"): [{}],
        (AssistState, "close_article"): [{}],
        **record_attacks(victim),
    }


def agent_handlers() -> set[tuple[type[State], str]]:
    """Every handler of every state an agent of any queue may call."""
    return {
        (cls, name)
        for cls in app_states()
        if rule_for(cls.get_full_name()) == Access.WORKSPACE
        for name in cls.event_handlers
    }


def _upload(app_server, client: EventClient, cookie: str, handler, upload: Upload) -> str:
    response = httpx.post(
        f"{app_server.base_url}/_upload",
        files=[("files", (name, data, "text/plain")) for name, data in upload.files],
        headers={
            "Reflex-Client-Token": client.token,
            "Reflex-Event-Handler": format_event_handler(handler),
            "Cookie": cookie,
            "User-Agent": USER_AGENT,
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.text


def _wait_for_background_answer(client: EventClient, name: str, mark: int) -> None:
    """A background handler runs beside the tab's event queue, so ``drain`` does
    not wait for it: wait for the answer each one gives an intruder instead."""
    if name == "accept":
        client.wait_for_value(WorkspaceState, "claiming_queue_id", 0, after=mark)
    elif name == "send_message":
        client.wait_for_text("That chat is not open in this workspace.", after=mark)
    elif name == "retry_message":
        client.wait_for_text("That message is not waiting to be sent again.", after=mark)
    elif name == "send_reply":
        client.wait_for_text(left_messages.NOT_FOUND, after=mark)
    else:
        raise AssertionError(f"background handler {name}: say here what it answers an intruder")


def test_an_agent_of_another_queue_can_do_nothing_to_someone_elses_chat(app_server, world, monkeypatch):
    """Every agent handler, aimed at a live chat of another queue: nothing of it changes or leaks."""
    victim = _victim(world, monkeypatch)
    _wait_for_outbox(world, victim)
    intruder_queue = world.queue("Intruder")
    intruder_name, intruder_password = world.agent(queues=[intruder_queue])
    with world.session() as session:
        intruder_id = session.exec(select(User.id).where(User.username == intruder_name)).one()
        intruder_queue_id = session.exec(select(Queue.id).where(Queue.name == intruder_queue)).one()
    attacks = _attacks(victim, intruder_id=intruder_id, intruder_queue_id=intruder_queue_id)
    missing = agent_handlers() - set(attacks)
    assert not missing, (
        f"no attack for {sorted(f'{cls.__name__}.{name}' for cls, name in missing)}: add one to _attacks"
    )
    assert len(attacks) >= 40

    cookie = _cookie_for(world, intruder_name, intruder_password)
    client = EventClient(app_server.base_url, cookie=cookie)
    upload_answers = []
    try:
        client.send(WorkspaceState.on_load)
        client.wait_for_value(WorkspaceState, "loaded", True)
        before = _victim_snapshot(world, victim, intruder_id)
        for _pass in range(2):
            for (cls, name), calls in attacks.items():
                handler = cls.event_handlers[name]
                for call in calls:
                    if isinstance(call, Upload):
                        upload_answers.append(_upload(app_server, client, cookie, handler, call))
                        continue
                    mark = client.mark()
                    client.send(handler, call)
                    if handler.is_background:  # runs beside the queue: wait for this one to finish
                        _wait_for_background_answer(client, name, mark)
        client.drain()
        client.drain()  # and the events those handlers chained
    finally:
        client.close()

    assert _victim_snapshot(world, victim, intruder_id) == before
    received = "\n".join([*client.received, *upload_answers])
    leaked = [secret for secret in victim.secrets if secret in received]
    assert not leaked, f"the intruder received {leaked}"
    # The calls were handled, not dropped: the services refused them.
    assert "That chat is not yours." in received
    with world.session() as session:
        assert session.get(User, intruder_id).presence == "available"
