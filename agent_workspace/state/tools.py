"""Working an interaction: Actions toolbar, Details, cases/incidents, More options › Send email.

One dialog is open at a time; every action goes through a service that checks
the chat is the caller's, then the workspace re-reads its view.
"""

from __future__ import annotations

import dataclasses
import json
import time

import reflex as rx
from reflex.event import EventSpec

from agent_workspace.config import settings
from agent_workspace.db import run_blocking
from agent_workspace.models import Interaction, SenderKind, SupportRecord
from agent_workspace.security import Access, access
from agent_workspace.services import canned, chat_close, chat_files, conversations, email, records, transfers
from agent_workspace.services.canned import QuickCommand
from agent_workspace.services.errors import NotFound, ServiceError
from agent_workspace.services.events import TYPING_SIGNAL_SECONDS
from agent_workspace.state.assist import AssistState
from agent_workspace.state.common import run_action, run_action_then_mail, run_query
from agent_workspace.state.workspace import WorkspaceState

PRESENCE_TEXT = {"available": "Available", "away": "Away", "offline": "Offline"}


def _agent_choices(session, *, user_id: int) -> list[list[str]]:
    return [
        [
            str(a.user_id),
            f"{a.display_name} — {PRESENCE_TEXT.get(a.presence, a.presence)}, {a.active_chats}/{a.capacity} chats",
        ]
        for a in transfers.candidates(session, user_id=user_id)
        if a.presence == "available" and a.active_chats < a.capacity
    ]


def _queue_choices(session, *, interaction_id: int) -> list[list[str]]:
    return [[str(q.id), q.name] for q in transfers.transfer_queues(session, interaction_id=interaction_id)]


def _check_mine(session, *, interaction_id: int, user_id: int) -> Interaction:
    item = session.get(Interaction, interaction_id)
    if item is None or item.agent_id != user_id:
        raise NotFound("That chat is not yours.")
    return item


def _send_email(session, *, interaction_id: int, user_id: int, **fields):
    _check_mine(session, interaction_id=interaction_id, user_id=user_id)
    return email.send_email(session, interaction_id=interaction_id, created_by_id=user_id, **fields)


def _create_record(*, interaction_id: int, user_id: int, kind: str):
    """Blocking, with no session of its own: the chat's files are copied with none open."""
    return records.create_with_files(
        interaction_id=interaction_id,
        kind=kind,
        created_by_id=user_id,
        authorize=lambda session: _check_mine(session, interaction_id=interaction_id, user_id=user_id),
    )


def _record_of_mine(session, *, record_id: int, user_id: int) -> SupportRecord:
    record = session.get(SupportRecord, record_id)
    if record is None or record.interaction_id is None:
        raise NotFound("No such case or incident.")
    _check_mine(session, interaction_id=record.interaction_id, user_id=user_id)
    return record


def _update_record(session, *, record_id: int, user_id: int, **fields):
    _record_of_mine(session, record_id=record_id, user_id=user_id)
    return records.update_record(session, record_id=record_id, actor_id=user_id, **fields)


def _escalate(session, *, record_id: int, user_id: int, group: str, reason: str):
    _record_of_mine(session, record_id=record_id, user_id=user_id)
    return records.escalate(session, record_id=record_id, actor_id=user_id, group=group, reason=reason)


def fill_input(element_id: str, text: str) -> EventSpec:
    """Put text in an uncontrolled input the way typing would (React sees the change) and focus it."""
    return rx.call_script(
        f"(() => {{ const el = document.getElementById({json.dumps(element_id)}); if (!el) return;"
        " Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, "
        f"{json.dumps(text)}); el.dispatchEvent(new Event('input', {{bubbles: true}})); el.focus(); }})()"
    )


def _int(value, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@dataclasses.dataclass
class QuickActionView:
    command: str = ""
    label: str = ""
    text: str = ""


@access(Access.WORKSPACE, owner=WorkspaceState)
class ToolsState(rx.State):
    dialog: str = ""  # attach | transfer_queue | transfer_agent | email
    interaction_id: int = 0
    choices: list[list[str]] = []
    error: str = ""
    email_to: str = ""
    email_subject: str = ""
    email_body: str = ""
    details_status: str = ""
    details_error: str = ""
    details_for: int = 0  # the chat whose Details form the status and error are about
    record_error: str = ""
    uploading: bool = False
    quick_for: int = 0
    quick_actions: list[QuickActionView] = []
    _typing_sent_at: dict[int, float] = {}

    @rx.var
    def max_upload_mb(self) -> int:
        return settings().attachment_max_bytes // (1024 * 1024)

    async def _workspace(self) -> WorkspaceState:
        return await self.get_state(WorkspaceState)

    async def _user_id(self) -> int:
        return await (await self._workspace())._me()

    async def _after(self) -> None:
        await (await self._workspace())._refresh()

    # ------------------------------------------------------------ dialogs

    @rx.event
    async def open_dialog(self, kind: str, interaction_id: int):
        if kind not in ("attach", "transfer_queue", "transfer_agent", "email"):
            return
        interaction_id = _int(interaction_id)
        user_id = await self._user_id()
        try:
            await run_query(_check_mine, interaction_id=interaction_id, user_id=user_id)
            if kind == "transfer_queue":
                choices = await run_query(_queue_choices, interaction_id=interaction_id)
            elif kind == "transfer_agent":
                choices = await run_query(_agent_choices, user_id=user_id)
            else:
                choices = []
            if kind == "email":
                defaults = await run_query(email.compose_defaults, interaction_id=interaction_id)
                self.email_to, self.email_subject, self.email_body = (
                    defaults["to_address"],
                    defaults["subject"],
                    defaults["body"],
                )
        except ServiceError as error:
            return rx.toast.error(str(error))
        self.interaction_id, self.choices, self.error = interaction_id, choices, ""
        self.dialog = kind
        return None

    @rx.event
    def close_dialog(self):
        self.dialog = ""
        self.error = ""

    async def _run(self, fn, success: str, **kwargs):
        try:
            await run_action(fn, **kwargs)
        except ServiceError as error:
            self.error = str(error)
            return None
        self.dialog = ""
        self.error = ""
        await self._after()
        return rx.toast.success(success)

    @rx.event
    async def transfer_to_queue(self, form: dict):
        return await self._run(
            transfers.to_queue,
            "Chat transferred to the queue.",
            interaction_id=self.interaction_id,
            user_id=await self._user_id(),
            queue_id=_int(form.get("queue_id")),
            note=str(form.get("note", "")),
        )

    @rx.event
    async def transfer_to_agent(self, form: dict):
        return await self._run(
            transfers.to_agent,
            "Transfer offered; you will be told when they answer.",
            interaction_id=self.interaction_id,
            user_id=await self._user_id(),
            target_user_id=_int(form.get("agent_id")),
            note=str(form.get("note", "")),
        )

    @rx.event
    async def send_email(self, form: dict):
        try:
            sent = await run_action_then_mail(
                _send_email,
                interaction_id=self.interaction_id,
                user_id=await self._user_id(),
                to_address=str(form.get("to_address", "")),
                subject=str(form.get("subject", "")),
                body=str(form.get("body", "")),
                include_transcript=bool(form.get("include_transcript")),
            )
        except ServiceError as error:
            self.error = str(error)
            return None
        self.dialog = ""
        await self._after()
        # Queued, not yet sent: the chat's email list shows its delivery as the worker records it.
        if not email.SmtpSettings.from_settings().configured:
            return rx.toast.info("Email queued, not sent: no mail server is configured.")
        return rx.toast.info(f"Email to {sent.to_address} queued for sending.")

    # ------------------------------------------------------------ attachments

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        """Files into the agent's own chat: refused before they are read into memory
        or stored if the chat is not theirs or the upload has too many files, then
        judged, stored, posted."""
        user_id = await self._user_id()
        try:
            await run_query(
                chat_files.check_upload,
                interaction_id=self.interaction_id,
                sender_kind=SenderKind.AGENT,
                sender_user_id=user_id,
                sizes=[file.size or 0 for file in files],
            )
        except ServiceError as error:
            self.error = str(error)
            yield rx.clear_selected_files("attachments")
            return
        self.uploading = True
        yield
        incoming = [chat_files.IncomingFile(file.name or "file", await file.read()) for file in files]
        sent = await run_blocking(
            chat_files.send_files,
            interaction_id=self.interaction_id,
            sender_kind=SenderKind.AGENT,
            sender_user_id=user_id,
            files=incoming,
        )
        self.uploading = False
        self.error = " ".join(sent.problems)
        if not sent.problems:
            self.dialog = ""
        await self._after()
        yield rx.clear_selected_files("attachments")

    # ------------------------------------------------------------ details

    @rx.event
    async def save_details(self, form: dict):
        interaction_id = _int(form.get("interaction_id"))
        try:
            saved = await run_action(
                chat_close.update_details,
                interaction_id=interaction_id,
                user_id=await self._user_id(),
                short_description=str(form.get("short_description", "")),
                category=str(form.get("category", "")),
                priority=_int(form.get("priority"), -1),
                work_notes=str(form.get("work_notes", "")),
            )
        except ServiceError as error:
            self.details_error, self.details_status, self.details_for = str(error), "", interaction_id
            return
        self.details_for = interaction_id
        self.details_error = ""
        self.details_status = "Saved" if saved else "No changes to save"
        await self._after()

    @rx.event
    async def create_record(self, interaction_id: int, kind: str):
        if kind not in ("case", "incident"):
            return None
        try:
            record = await run_blocking(
                _create_record, interaction_id=_int(interaction_id), user_id=await self._user_id(), kind=kind
            )
        except ServiceError as error:
            return rx.toast.error(str(error))
        workspace = await self._workspace()
        await workspace._refresh()
        workspace._show_child_tab(_int(interaction_id), record.number)
        return rx.toast.success(f"{'Case' if kind == 'case' else 'Incident'} {record.number} created.")

    @rx.event
    async def save_record(self, form: dict):
        try:
            await run_action(
                _update_record,
                record_id=_int(form.get("record_id")),
                user_id=await self._user_id(),
                short_description=str(form.get("short_description", "")),
                description=str(form.get("description", "")),
                priority=_int(form.get("priority"), -1),
                state=str(form.get("state", "")),
                resolution_notes=str(form.get("resolution_notes", "")),
            )
        except ServiceError as error:
            self.record_error = str(error)
            return None
        self.record_error = ""
        await self._after()
        return rx.toast.success("Record saved.")

    @rx.event
    async def escalate(self, form: dict):
        try:
            record = await run_action(
                _escalate,
                record_id=_int(form.get("record_id")),
                user_id=await self._user_id(),
                group=str(form.get("group", "")),
                reason=str(form.get("reason", "")),
            )
        except ServiceError as error:
            self.record_error = str(error)
            return None
        self.record_error = ""
        await self._after()
        return rx.toast.success(
            f"{record.number} escalated to {record.escalation_group} (level {record.escalation_level})."
        )

    # ------------------------------------------------------------ composer: typing and quick actions

    @rx.event
    async def composer_changed(self, interaction_id: int, text: str):
        """The settled text of the composer: "/" opens quick actions."""
        interaction_id = _int(interaction_id)
        user_id = await self._user_id()
        if text.startswith("/"):
            try:
                found = await run_query(
                    canned.quick_actions, interaction_id=interaction_id, user_id=user_id, typed=text[:100]
                )
            except ServiceError:
                found = []
            self.quick_for = interaction_id
            self.quick_actions = [QuickActionView(a.command, a.label, a.text) for a in found]
            return
        self.quick_for, self.quick_actions = 0, []

    @rx.event
    async def composer_typing(self, interaction_id: int, text: str):
        """Keystrokes (throttled by the page): tell the customer we are typing."""
        interaction_id = _int(interaction_id)
        if not text or text.startswith("/"):
            return
        user_id = await self._user_id()
        now = time.time()  # wall clock: a tab's events may run on any worker
        if text and now - self._typing_sent_at.get(interaction_id, 0.0) >= TYPING_SIGNAL_SECONDS:
            # Only chats that signalled within the spell are remembered: the dict stays small.
            kept = {chat: at for chat, at in self._typing_sent_at.items() if now - at < TYPING_SIGNAL_SECONDS}
            self._typing_sent_at = {**kept, interaction_id: now}
            try:
                await run_query(
                    conversations.signal_typing,
                    interaction_id=interaction_id,
                    sender_kind=SenderKind.AGENT,
                    user_id=user_id,
                )
            except ServiceError:
                return

    @rx.event
    def close_quick_actions(self):
        self.quick_for, self.quick_actions = 0, []

    @rx.event
    async def composer_submitted(self, form: dict):
        """After Send: the menu closes. A quick action typed out in full ("/kb printer",
        then Enter) is run as if picked when it is the only one it names; otherwise
        the text goes back in the box with its menu open. It is never sent
        (``WorkspaceState.send_message`` skips it, ``conversations.post_message`` refuses it)."""
        self.quick_for, self.quick_actions = 0, []
        body = str(form.get("body", ""))[:100].strip()
        interaction_id = _int(form.get("interaction_id"))
        if not canned.is_command(body):
            return None
        try:
            found = await run_query(
                canned.quick_actions, interaction_id=interaction_id, user_id=await self._user_id(), typed=body
            )
        except ServiceError as error:
            return rx.toast.error(str(error))
        self.quick_for = interaction_id
        self.quick_actions = [QuickActionView(a.command, a.label, a.text) for a in found]
        if len(found) == 1:
            return await self.run_quick_action(0)
        return [fill_input(f"composer-{interaction_id}", body), rx.toast.info("Pick a quick action: nothing was sent.")]

    @rx.event
    async def run_quick_action(self, index: int):
        index, interaction_id = _int(index, -1), self.quick_for
        if not 0 <= index < len(self.quick_actions) or not interaction_id:
            return None
        action = self.quick_actions[index]
        self.quick_for, self.quick_actions = 0, []
        composer = f"composer-{interaction_id}"
        if action.command == QuickCommand.REPLY:
            return fill_input(composer, action.text)
        if action.command in (QuickCommand.TRANSFER_TO_QUEUE, QuickCommand.TRANSFER_TO_AGENT):
            return [
                fill_input(composer, ""),
                ToolsState.open_dialog(
                    "transfer_queue" if action.command == QuickCommand.TRANSFER_TO_QUEUE else "transfer_agent",
                    interaction_id,
                ),
            ]
        return [fill_input(composer, ""), AssistState.search_from_chat(interaction_id, action.text)]
