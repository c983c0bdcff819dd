"""The supervisor dashboard: live queue and agent figures, audit log, read-only chats."""

from __future__ import annotations

import dataclasses
import time

import reflex as rx

from agent_workspace import realtime, routes
from agent_workspace.config import settings
from agent_workspace.models import ClientKind, Role, stored_id
from agent_workspace.security import Access, access, current_principal
from agent_workspace.services import audience, auth, canned, dashboard, queue_visibility, routing, widget
from agent_workspace.services import hours as business_hours
from agent_workspace.services.errors import ServiceError, ValidationError
from agent_workspace.services.events import Change
from agent_workspace.state.common import assign_changed, clock, iso, run_action, run_query, unproxied
from agent_workspace.state.views import MessageView, merge_messages, message_view, wait_text
from agent_workspace.sync import supervisor as watch_sync
from agent_workspace.sync.supervisor import WatchView


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
    hours_status: str = ""


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
class HoursRow:
    """One queue's business-hours form: its stored texts, in words, and the last refusal."""

    queue_id: int = 0
    name: str = ""
    weekly_hours: str = ""
    time_zone: str = ""
    closures: str = ""
    closed_message: str = ""
    description: str = ""
    error: str = ""
    public: bool = True  # listed on the public chat page and the widget


# The form's fields: label and the longest text each may hold (refused before any work).
HOURS_FIELDS = {
    "weekly_hours": ("Weekly hours", business_hours.MAX_WEEKLY_CHARS),
    "time_zone": ("Time zone", business_hours.MAX_TIME_ZONE_CHARS),
    "closures": ("Closures", business_hours.MAX_CLOSURES_CHARS),
    "closed_message": ("Out-of-hours message", business_hours.MAX_MESSAGE_CHARS),
}


@dataclasses.dataclass
class AuditRow:
    at: str = ""
    actor: str = ""
    action: str = ""
    detail: str = ""


WATCH_REGISTER_SECONDS = 5 * 60  # re-register the watched chat well before the sweeper forgets the tab (15 min)
AUDIT_DETAIL_MAX = 300  # a transfer note may run to 1,000 characters; the log row shows its start


def _cut(sentence: str) -> str:
    return sentence if len(sentence) <= AUDIT_DETAIL_MAX else sentence[: AUDIT_DETAIL_MAX - 1].rstrip() + "…"


def _snapshot(session) -> dict:
    since = dashboard.start_of_day()
    queues = routing.active_queues(session)
    return {
        "queues": dashboard.queue_stats(session, since=since),
        "agents": dashboard.agent_stats(session, since=since),
        "hours": dashboard.hourly(session, since=since),
        "chats": dashboard.active_chats(session),
        "audit": dashboard.recent_audit(session, limit=100),
        "canned": canned.list_all(session),
        "queue_options": [[str(q.id), q.name] for q in queues],
        "widget_snippets": [
            ["All queues", widget.snippet(settings().public_base_url)],
            *([q.name, widget.snippet(settings().public_base_url, queue_id=q.id)] for q in queues if q.public),
        ],
        "business_hours": [
            HoursRow(
                stored_id(q),
                q.name,
                q.weekly_hours,
                q.time_zone,
                q.closures,
                q.closed_message,
                business_hours.describe(business_hours.hours_of(q)),
                public=q.public,
            )
            for q in queues
        ],
    }


def _watch(session, *, token: str, user_id: int, interaction_id: int | None) -> None:
    """This tab hears the chat it shows read-only (None: none now)."""
    audience.register_client(
        session, token=token, kind=ClientKind.SUPERVISOR, user_id=user_id, interaction_id=interaction_id
    )


@access(Access.SUPERVISOR)
class SupervisorState(rx.State):
    _uid: int = 0  # the supervisor whose view this is (security.py clears it for anyone else)
    loaded: bool = False
    queues: list[QueueRow] = []
    agents: list[AgentRow] = []
    hours: list[dict[str, int | str]] = []
    chats: list[ChatRow] = []
    audit: list[AuditRow] = []
    canned: list[CannedRow] = []
    queue_options: list[list[str]] = []
    widget_snippets: list[list[str]] = []  # [queue name, the chat widget's snippet for it]
    canned_error: str = ""
    business_hours: list[HoursRow] = []
    _hours_errors: dict[int, str] = {}  # queue id -> why its last save was refused
    viewing_number: str = ""
    viewing_messages: list[MessageView] = []
    _watched: WatchView = WatchView()  # the chat shown read-only, as sync.supervisor keeps it
    _watched_at: float = 0.0  # monotonic: when this tab last registered what it watches

    async def _supervisor(self) -> auth.Principal | None:
        """The caller, if a supervisor (the middleware's answer for this event): a
        handler that reads or changes something asks, and the view is theirs."""
        principal = await current_principal(self)
        if principal is None or not principal.has(Role.SUPERVISOR):
            return None
        if self._uid != principal.user_id:
            self._uid = principal.user_id
        return principal

    @rx.event
    async def load(self):
        if await self._supervisor() is None:
            return rx.redirect("/login")
        await self._refresh()
        self.loaded = True
        return None

    async def _refresh(self) -> None:
        data = await run_query(_snapshot)
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
                q.hours_status,
            )
            for q in data["queues"]
        ]
        self.agents = [
            AgentRow(
                a.display_name,
                a.presence.title(),
                f"{a.active_chats} / {a.capacity}",
                a.handled_today,
                wait_text(a.average_handle_seconds),
            )
            for a in data["agents"]
        ]
        self.hours = [{"hour": h.hour, "requests": h.requests, "wait": h.average_wait_seconds} for h in data["hours"]]
        self.chats = [
            ChatRow(
                c.interaction_id,
                c.number,
                c.customer_name,
                c.queue_name,
                c.agent_name or "—",
                c.state.replace("_", " "),
                iso(c.requested_at),
            )
            for c in data["chats"]
        ]
        self.canned = [CannedRow(r.id, r.title, r.body, queue) for r, queue in data["canned"]]
        self.queue_options = data["queue_options"]
        assign_changed(self, widget_snippets=data["widget_snippets"])
        self._show_hours(data["business_hours"])
        self.audit = [
            AuditRow(f"{at:%Y-%m-%d} {clock(at)}", actor, action, _cut(detail))
            for at, actor, action, detail in data["audit"]
        ]

    def _show_hours(self, rows: list[HoursRow]) -> None:
        """The forms with their refusals; rows that did not change are not re-sent every tick."""
        assign_changed(
            self,
            business_hours=[dataclasses.replace(row, error=self._hours_errors.get(row.queue_id, "")) for row in rows],
        )

    @rx.event
    async def tick(self, _value: str = ""):
        if await self._supervisor() is not None:
            await self._refresh()
            view = unproxied(self._watched)
            if view.interaction_id:  # the read-only chat after its cursor: a lost push heals here
                self._show(await run_query(watch_sync.heal, view=view))
            if view.interaction_id and time.monotonic() - self._watched_at >= WATCH_REGISTER_SECONDS:
                await self._watch(view.interaction_id)

    async def _watch(self, interaction_id: int | None) -> None:
        await run_action(
            _watch, token=self.router.session.client_token, user_id=self._uid, interaction_id=interaction_id
        )
        self._watched_at = time.monotonic()

    async def _receive(self, changes: list[Change], read_ahead: None) -> None:
        """A push (``sync.Receiver``) about the chat shown read-only, through ``sync.supervisor``."""
        view = unproxied(self._watched)
        if not view.interaction_id or not self._uid:
            return
        reads = watch_sync.plan(view, changes)
        data = watch_sync.Data() if reads.nothing else await run_query(watch_sync.read, view=view, reads=reads)
        self._show(watch_sync.apply(view, changes, data))

    def _show(self, applied: watch_sync.Applied) -> None:
        self._watched = applied.view
        assign_changed(self, viewing_number=applied.view.number)
        if applied.messages:
            shown = [message_view(m, attachment_base=routes.ATTACHMENTS) for m in applied.messages]
            self.viewing_messages = merge_messages(unproxied(self.viewing_messages), shown)

    @rx.event
    async def view_chat(self, interaction_id: int):
        """Open any active interaction read-only."""
        if await self._supervisor() is None:
            return None
        try:
            await self._watch(int(interaction_id))  # first, so no message falls between the read and the watch
            applied = await run_query(watch_sync.fresh, interaction_id=int(interaction_id))
        except ServiceError as error:
            return rx.toast.error(str(error))
        self.viewing_messages = []
        self._show(applied)
        return None

    @rx.event
    async def close_view(self):
        if unproxied(self._watched).interaction_id:
            self._watched = WatchView()
            await self._watch(None)
        self.viewing_number = ""
        self.viewing_messages = []

    @rx.event
    async def create_canned(self, form: dict):
        principal = await self._supervisor()
        if principal is None:
            return None
        queue_value = str(form.get("queue_id", ""))
        try:
            await run_action(
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
        principal = await self._supervisor()
        if principal is None:
            return None
        try:
            await run_action(canned.delete, response_id=int(response_id), actor_id=principal.user_id)
        except ServiceError as error:
            return rx.toast.error(str(error))
        await self._refresh()
        return None

    @rx.event
    async def save_hours(self, form: dict):
        """A queue's business-hours form: the four fields are saved together, or nothing changes."""
        principal = await self._supervisor()
        if principal is None:
            return None
        queue_id = next(
            (row.queue_id for row in self.business_hours if str(row.queue_id) == str(form.get("queue_id", ""))), None
        )
        if queue_id is None:  # only the queues this page lists (and holds errors for)
            return rx.toast.error("No such queue.")
        fields = {name: str(form.get(name, "")) for name in HOURS_FIELDS}
        oversized = [
            f"{label}: at most {limit:,} characters."
            for name, (label, limit) in HOURS_FIELDS.items()
            if len(fields[name]) > limit
        ]
        try:
            if oversized:
                raise ValidationError(oversized[0])
            await run_action(business_hours.set_hours, queue_id=queue_id, **fields, actor_id=principal.user_id)
        except ServiceError as error:
            self._hours_errors = {**self._hours_errors, queue_id: str(error)}
            self._show_hours(unproxied(self.business_hours))
            return None
        self._hours_errors = {k: v for k, v in self._hours_errors.items() if k != queue_id}
        await self._refresh()
        return rx.toast.success("Business hours saved.")

    @rx.event
    async def set_queue_public(self, queue_id: int, public: bool):
        """The switch "Shown on the public page" of one of the queues this page lists."""
        principal = await self._supervisor()
        if principal is None:
            return None
        if not any(str(row.queue_id) == str(queue_id) for row in self.business_hours) or not isinstance(public, bool):
            return rx.toast.error("No such queue.")
        await run_action(queue_visibility.set_public, queue_id=int(queue_id), public=public, actor_id=principal.user_id)
        await self._refresh()
        return rx.toast.success("Listed on the public page." if public else "Hidden from the public page.")


realtime.register_receiver(ClientKind.SUPERVISOR, SupervisorState)
