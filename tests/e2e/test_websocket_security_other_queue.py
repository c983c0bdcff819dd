"""Every handler an agent may call, aimed by an agent of another queue at a live
chat of that queue (``victim_chat``): nothing of it changes or leaks."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from reflex.state import State
from reflex.utils.format import format_event_handler
from sqlmodel import select

from agent_workspace.models import Queue, User
from agent_workspace.security import Access, rule_for
from agent_workspace.services import left_messages
from agent_workspace.state.assist import AssistState
from agent_workspace.state.chat_slots import SLOT_STATES
from agent_workspace.state.left_messages import LeftMessagesState
from agent_workspace.state.tools import ToolsState
from agent_workspace.state.workspace import LiveState, WorkspaceState
from tests.e2e.record_handlers import record_attacks
from tests.e2e.victim_chat import Victim, make_victim, victim_snapshot, wait_for_outbox
from tests.e2e.ws_callers import app_states, cookie_for
from tests.e2e.ws_client import USER_AGENT, EventClient


@dataclass(frozen=True)
class Upload:
    """A handler that takes files is called through Reflex's upload endpoint, as the page calls it."""

    files: tuple[tuple[str, bytes], ...]


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
        (LiveState, "setvar"): [{"var_name": "typing_now", "value": {str(chat): True}}],
        **{(slot, "setvar"): [{"var_name": "messages", "value": []}] for slot in SLOT_STATES},
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
        (ToolsState, "composer_typing"): [{"interaction_id": chat, "text": "typing"}],
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
        (ToolsState, "composer_submitted"): [{"form": {"interaction_id": str(chat), "body": "/kb printer"}}],
        (AssistState, "send_in_chat"): [{"number": "KB0010001"}],
        (LeftMessagesState, "send_reply"): [
            {"form": {"subject": "Re: your message", "body": "intrusion", "resolve": "on"}}
        ],
        (LeftMessagesState, "tick"): [{"_value": ""}],
        (LeftMessagesState, "close_reply"): [{}],
        (WorkspaceState, "cancel_reject"): [{}],
        (WorkspaceState, "cancel_close_tab"): [{}],
        (WorkspaceState, "dismiss_notice"): [{"index": 0}],
        (WorkspaceState, "dismiss_all_notices"): [{}],
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
    victim = make_victim(world, monkeypatch)
    wait_for_outbox(world, victim)
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

    cookie = cookie_for(world, intruder_name, intruder_password)
    client = EventClient(app_server.base_url, cookie=cookie)
    upload_answers = []
    try:
        client.send(WorkspaceState.on_load)
        client.wait_for_value(WorkspaceState, "loaded", True)
        before = victim_snapshot(world, victim, intruder_id)
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

    assert victim_snapshot(world, victim, intruder_id) == before
    received = "\n".join([*client.received, *upload_answers])
    leaked = [secret for secret in victim.secrets if secret in received]
    assert not leaked, f"the intruder received {leaked}"
    # The calls were handled, not dropped: the services refused them.
    assert "That chat is not yours." in received
    with world.session() as session:
        assert session.get(User, intruder_id).presence == "available"
