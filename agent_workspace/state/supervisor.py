"""The supervisor dashboard: live queue and agent figures, audit log, read-only chats."""

from __future__ import annotations

import dataclasses

import reflex as rx

from agent_workspace.models import Interaction
from agent_workspace.security import Access, access, current_principal
from agent_workspace.services import canned, dashboard, routing, views
from agent_workspace.services.errors import NotFound, ServiceError
from agent_workspace.state.common import call, clock, iso, read
from agent_workspace.state.views import MessageView, message_view, wait_text


@dataclasses.dataclass
class QueueRow:
    name: str = ""
    waiting: int = 0
    longest: str = ""
    average: str = ""
    accepted: int = 0
    abandoned: int = 0
    transferred: int = 0
    rating: str = ""


@dataclasses.dataclass
class AgentRow:
    name: str = ""
    presence: str = ""
    load: str = ""
    handled: int = 0
    average_handle: str = ""


@dataclasses.dataclass
class ChatRow:
    interaction_id: int = 0
    number: str = ""
    customer: str = ""
    queue: str = ""
    agent: str = ""
    state: str = ""
    requested_at: str = ""


@dataclasses.dataclass
class CannedRow:
    id: int = 0
    title: str = ""
    body: str = ""
    queue: str = ""


@dataclasses.dataclass
class AuditRow:
    at: str = ""
    actor: str = ""
    action: str = ""
    detail: str = ""


def _snapshot(session) -> dict:
    since = dashboard.start_of_day()
    return {
        "queues": dashboard.queue_stats(session, since=since),
        "agents": dashboard.agent_stats(session, since=since),
        "hours": dashboard.hourly(session, since=since),
        "chats": dashboard.active_chats(session),
        "audit": dashboard.recent_audit(session, limit=100),
        "canned": canned.list_all(session),
        "queue_options": [[str(q.id), q.name] for q in routing.active_queues(session)],
    }


def _transcript(session, *, interaction_id: int) -> views.InteractionData:
    item = session.get(Interaction, interaction_id)
    if item is None:
        raise NotFound("No such chat.")
    return views.interaction_data(session, item, after_id=0)


@access(Access.SUPERVISOR)
class SupervisorState(rx.State):
    loaded: bool = False
    queues: list[QueueRow] = []
    agents: list[AgentRow] = []
    hours: list[dict[str, int | str]] = []
    chats: list[ChatRow] = []
    audit: list[AuditRow] = []
    canned: list[CannedRow] = []
    queue_options: list[list[str]] = []
    canned_error: str = ""
    viewing_number: str = ""
    viewing_messages: list[MessageView] = []

    @rx.event
    async def load(self):
        if await current_principal(self) is None:
            return rx.redirect("/login")
        await self._refresh()
        self.loaded = True
        return None

    async def _refresh(self) -> None:
        data = await read(_snapshot)
        self.queues = [
            QueueRow(
                q.name,
                q.waiting,
                wait_text(q.longest_wait_seconds),
                wait_text(q.average_wait_seconds),
                q.accepted_today,
                q.abandoned_today,
                q.transferred_today,
                f"{q.average_rating} / 5 ({q.ratings_today})" if q.average_rating is not None else "—",
            )
            for q in data["queues"]
        ]
        self.agents = [
            AgentRow(a.display_name, a.presence.title(), f"{a.active_chats} / {a.capacity}", a.handled_today, wait_text(a.average_handle_seconds))
            for a in data["agents"]
        ]
        self.hours = [{"hour": h.hour, "requests": h.requests, "wait": h.average_wait_seconds} for h in data["hours"]]
        self.chats = [ChatRow(c.interaction_id, c.number, c.customer_name, c.queue_name, c.agent_name or "—", c.state.replace("_", " "), iso(c.requested_at)) for c in data["chats"]]
        self.canned = [CannedRow(r.id, r.title, r.body, queue) for r, queue in data["canned"]]
        self.queue_options = data["queue_options"]
        self.audit = [AuditRow(f"{at:%Y-%m-%d} {clock(at)}", actor, action, detail[:160]) for at, actor, action, detail in data["audit"]]

    @rx.event
    async def tick(self, _value: str = ""):
        await self._refresh()

    @rx.event
    async def view_chat(self, interaction_id: int):
        """Open any active interaction read-only."""
        try:
            data = await read(_transcript, interaction_id=int(interaction_id))
        except ServiceError as error:
            return rx.toast.error(str(error))
        self.viewing_number = data.number
        self.viewing_messages = [message_view(m, attachment_base="/api/attachments") for m in data.new_messages]
        return None

    @rx.event
    def close_view(self):
        self.viewing_number = ""
        self.viewing_messages = []

    @rx.event
    async def create_canned(self, form: dict):
        principal = await current_principal(self)
        queue_value = str(form.get("queue_id", ""))
        try:
            await call(
                canned.create,
                title=str(form.get("title", "")),
                body=str(form.get("body", "")),
                queue_id=int(queue_value) if queue_value.isdigit() else None,
                created_by_id=principal.user_id,
            )
        except ServiceError as error:
            self.canned_error = str(error)
            return None
        self.canned_error = ""
        await self._refresh()
        return rx.toast.success("Canned response saved.")

    @rx.event
    async def delete_canned(self, response_id: int):
        principal = await current_principal(self)
        try:
            await call(canned.delete, response_id=int(response_id), actor_id=principal.user_id)
        except ServiceError as error:
            return rx.toast.error(str(error))
        await self._refresh()
        return None
