"""The messages customers left in the agent's queues, and the agent's reply by email.

A thin state: every handler learns the agent from the session cookie
(``security.current_principal``), never from an argument, and the services
check the agent is a member of the message's queue.
"""

from __future__ import annotations

import dataclasses
import time

import reflex as rx

from agent_workspace.security import Access, access, current_principal
from agent_workspace.services import email as mail
from agent_workspace.services import left_messages, routing
from agent_workspace.services.errors import ServiceError
from agent_workspace.state.common import assign_changed, iso, run_action_then_mail, run_query

# The page's tick re-reads the list; a tick right after a load (the tick fires
# when the list mounts, just after the page's on_load) reads nothing new.
TICK_MIN_SECONDS = 5.0
OVERSIZED = f"The subject can be at most {mail.SUBJECT_MAX} characters and the message at most {mail.BODY_MAX:,}."


@dataclasses.dataclass
class LeftMessageView:
    record_id: int = 0
    number: str = ""
    queue_name: str = ""
    customer_name: str = ""
    customer_email: str = ""
    message: str = ""
    in_progress: bool = False
    created_at: str = ""  # ISO 8601, localised by the browser
    replies_sent: int = 0
    replies_queued: int = 0
    replies_failed: int = 0
    retry_at: str = ""  # ISO 8601: the next attempt of a reply that failed once


def _open_for_agent(session, *, user_id: int) -> list[left_messages.LeftMessageData]:
    return left_messages.open_left_messages(session, queue_ids=routing.queue_ids_of(session, user_id))


def _view(data: left_messages.LeftMessageData) -> LeftMessageView:
    return LeftMessageView(
        record_id=data.record_id,
        number=data.number,
        queue_name=data.queue_name,
        customer_name=data.customer_name,
        customer_email=data.customer_email,
        message=data.message,
        in_progress=data.state == left_messages.RecordState.IN_PROGRESS,
        created_at=iso(data.created_at),
        replies_sent=data.replies_sent,
        replies_queued=data.replies_queued,
        replies_failed=data.replies_failed,
        retry_at=iso(data.retry_at),
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@access(Access.WORKSPACE)
class LeftMessagesState(rx.State):
    """Open left messages of the agent's queues; the reply dialog for one of them."""

    _uid: int = 0  # the agent whose list this is (security.py clears it for anyone else)
    _loaded_at: float = 0.0  # wall clock: a tick may reach another worker
    messages: list[LeftMessageView] = []
    reply_id: int = 0  # the message the dialog answers; the service checks the agent may
    reply_to: str = ""
    reply_name: str = ""
    reply_number: str = ""
    reply_message: str = ""
    reply_error: str = ""
    sending: bool = False

    @rx.var
    def reply_open(self) -> bool:
        return self.reply_id != 0

    @rx.var
    def reply_subject(self) -> str:
        return f"Re: your message {self.reply_number}"

    async def _reload(self, user_id: int) -> None:
        self._uid = user_id
        self._loaded_at = time.time()
        found = await run_query(_open_for_agent, user_id=user_id)
        assign_changed(self, messages=[_view(data) for data in found])

    @rx.event
    async def load(self):
        principal = await current_principal(self)
        if principal is not None:
            await self._reload(principal.user_id)

    @rx.event
    async def tick(self, _value: str = ""):
        """Every 15 s while the list is on screen: messages left meanwhile appear."""
        principal = await current_principal(self)
        if principal is not None and time.time() - self._loaded_at >= TICK_MIN_SECONDS:
            await self._reload(principal.user_id)

    @rx.event
    async def open_reply(self, record_id: int):
        if await current_principal(self) is None:
            return None
        record_id = _int(record_id)
        shown = next((m for m in self.messages if m.record_id == record_id), None)
        if shown is None:
            return rx.toast.error("That message is no longer open.")
        self.reply_id, self.reply_to, self.reply_name = shown.record_id, shown.customer_email, shown.customer_name
        self.reply_number, self.reply_message, self.reply_error = shown.number, shown.message, ""
        return None

    @rx.event
    async def close_reply(self):
        if await current_principal(self) is None:
            return
        self.reply_id, self.reply_error = 0, ""

    @rx.event(background=True)
    async def send_reply(self, form: dict):
        """Queues the reply; the delivery worker sends it, and the list (re-read on its tick) shows how it went."""
        subject, body = form.get("subject"), form.get("body")
        async with self:
            principal = await current_principal(self)
            if principal is None or self.sending:
                return
            if (
                not isinstance(subject, str)
                or not isinstance(body, str)
                or len(subject) > mail.SUBJECT_MAX
                or len(body) > mail.BODY_MAX
            ):
                self.reply_error = OVERSIZED
                return
            record_id, number = self.reply_id, self.reply_number
            self.sending, self.reply_error = True, ""
        resolve = bool(form.get("resolve"))
        try:
            done = await run_action_then_mail(
                left_messages.reply,
                record_id=record_id,
                user_id=principal.user_id,
                subject=subject,
                body=body,
                resolve=resolve,
            )
        except ServiceError as error:
            async with self:
                self.sending, self.reply_error = False, str(error)
            return
        async with self:
            self.sending = False
            if self.reply_id == record_id:
                self.reply_id = 0
            await self._reload(principal.user_id)
        # Not delivered yet: the customer has no answer, so the case resolves only when it is.
        resolves = f" {number} is resolved when it is delivered." if done.resolves_on_delivery else ""
        if not mail.SmtpSettings.from_settings().configured:
            yield rx.toast.info(f"Reply queued, not sent: no mail server is configured.{resolves}")
        else:
            yield rx.toast.info(f"Reply to {done.email.to_address} queued for sending.{resolves}")
