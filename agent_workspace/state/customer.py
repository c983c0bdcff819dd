"""The public customer chat page: pre-chat form, place in line, the conversation.

Anonymous by design. The chat is found from the unguessable id this browser
got when it started the chat (kept in localStorage, so a reload resumes),
resolved server-side into a backend var; no handler takes a chat id from the
client, so a customer can only ever reach their own chat.
"""

from __future__ import annotations

import dataclasses
import time
import uuid

import reflex as rx

from agent_workspace import realtime
from agent_workspace.models import InteractionState, SenderKind
from agent_workspace.api import CHAT_COOKIE
from agent_workspace.config import settings
from agent_workspace.security import Access, access
from agent_workspace.services import conversations, routing, views
from agent_workspace.services.errors import ServiceError
from agent_workspace.services.events import Change, MessageData, MessagePosted, QueueChanged
from agent_workspace.state.common import assign_changed, call, plain, read
from agent_workspace.state.views import (
    MessageView,
    carried_messages,
    deliver,
    merge_messages,
    message_view,
    slow,
    start_delivery,
)

REGISTER_SECONDS = 5 * 60  # re-register the tab well before the sweeper forgets it (15 min)


def _resume(session, *, public_id: str, token: str) -> int:
    item = conversations.interaction_by_public_id(session, public_id)
    realtime.register_client(session, token=token, kind="customer", interaction_id=item.id)
    return item.id


def _start(session, *, token: str, **form) -> conversations.StartedChat:
    started = conversations.start_chat(session, **form)
    realtime.register_client(session, token=token, kind="customer", interaction_id=started.interaction.id)
    return started


def _queue_options(session) -> list[list[str]]:
    return [[str(q.id), q.name] for q in routing.active_queues(session)]


@access(Access.PUBLIC)
class CustomerChatState(rx.State):
    # Also read by /api/attachments to let the customer fetch their chat's files.
    chat_key: str = rx.Cookie("", name=CHAT_COOKIE, path="/", max_age=7 * 24 * 3600, same_site="strict")
    _interaction_id: int = 0
    _last_registered: float = 0.0
    _read_at: float = 0.0  # wall clock (pushes may run in another process) when the chat was last read
    _heard_at: float = 0.0  # wall clock when a push or a read last reached this tab

    loaded: bool = False
    queue_options: list[list[str]] = []
    form_error: str = ""
    phase: str = "form"  # form | waiting | chatting | ended
    number: str = ""
    queue_name: str = ""
    position: int = 0
    estimated_wait: str = ""
    agent_name: str = ""
    agent_typing: bool = False
    last_id: int = 0
    messages: list[MessageView] = []
    transcript_url: str = ""
    upload_error: str = ""
    rated: bool = False
    rating_error: str = ""

    @rx.event
    async def on_load(self):
        self.queue_options = await read(_queue_options)
        if self.chat_key and not self._interaction_id:
            try:
                self._interaction_id = await call(
                    _resume, public_id=self.chat_key, token=self.router.session.client_token
                )
            except ServiceError:
                self.chat_key = ""
        if self._interaction_id:
            await self._refresh()
        self.loaded = True

    async def _chat(self) -> int:
        """This browser's chat. After a server restart this state is new while the
        page's queued events arrive before its on_load: resume from the chat cookie."""
        if not self._interaction_id and self.chat_key:
            try:
                self._interaction_id = await call(_resume, public_id=self.chat_key, token=self.router.session.client_token)
            except ServiceError:
                self.chat_key = ""
                return 0
            await self._refresh()
        return self._interaction_id

    async def _refresh(self, changes: list[Change] | None = None, place: PrefetchedPlace | None = None) -> None:
        """Re-read the chat after the page's cursor. A push that only carries the
        next messages of a live chat is applied without reading, and one that only
        moves the line while the customer waits takes the ``place`` read for all
        waiting customers at once (``_prefetch_places``)."""
        if not self._interaction_id:
            return
        self._heard_at = time.time()
        if changes and self.phase == "chatting" and all(isinstance(c, MessagePosted) for c in changes):
            carried = carried_messages(changes, interaction_id=self._interaction_id, cursor=self.last_id)
            if carried is not None:
                self._append(carried)
                return
        if (
            place is not None
            and self.phase == "waiting"
            and place.place.interaction_id == self._interaction_id
            and place.read_at >= self._read_at
        ):
            self._read_at = place.read_at
            assign_changed(self, position=place.place.position, estimated_wait=_wait_words(place.place.estimated_wait_seconds))
            return
        self._read_at = time.time()
        snap = await read(views.customer_snapshot, interaction_id=self._interaction_id, after_id=self.last_id)
        if snap.state in (InteractionState.QUEUED, InteractionState.OFFERED):
            phase = "waiting"
        elif snap.state == InteractionState.WORK_IN_PROGRESS and not snap.customer_ended:
            phase = "chatting"
        else:
            phase = "ended"
        assign_changed(
            self,
            number=snap.number,
            queue_name=snap.queue_name,
            rated=snap.rated,
            position=snap.position,
            estimated_wait=_wait_words(snap.estimated_wait_seconds),
            agent_name=snap.agent_name,
            agent_typing=snap.agent_typing,
            phase=phase,
            transcript_url=f"/api/transcript/{snap.public_id}" if phase == "ended" else self.transcript_url,
        )
        self._append(snap.new_messages)

    def _append(self, stored: list[MessageData]) -> None:
        if not stored:
            return
        self.messages = merge_messages(plain(self.messages), [message_view(m, attachment_base="/api/attachments") for m in stored])
        self.last_id = max(self.last_id, max(m.id for m in stored))
        if self.agent_typing and any(m.sender_kind == SenderKind.AGENT for m in stored):
            self.agent_typing = False  # an agent's message ends their typing

    def _publish(self, changes: list[Change], targets: dict[str, realtime.Target] | None = None) -> None:
        realtime.publish_later(changes, exclude_token=self.router.session.client_token, targets=targets)

    @rx.event
    async def start_chat(self, form: dict):
        if self._interaction_id and self.phase != "ended":
            return
        try:
            queue_id = int(form.get("queue_id") or 0)
        except (TypeError, ValueError):
            queue_id = 0
        try:
            started = await call(
                _start,
                token=self.router.session.client_token,
                name=str(form.get("name", "")),
                email=str(form.get("email", "")),
                queue_id=queue_id,
                question=str(form.get("question", "")),
                client_address=self.router.session.client_ip,
            )
        except ServiceError as error:
            self.form_error = str(error)
            return
        self.form_error = ""
        self._interaction_id = started.interaction.id
        self._last_registered = time.monotonic()  # _start registered the tab
        self.chat_key = started.interaction.public_id
        self.messages, self.last_id, self.transcript_url = [], 0, ""
        await self._refresh()
        self._publish(started.changes)

    async def _stored(self, changes: list[Change], targets: dict[str, realtime.Target]) -> None:
        """A send or retry is settled (Sent or Failed): tell the agent, then show it here."""
        await realtime.publish_ahead(changes, exclude_token=self.router.session.client_token, targets=targets)
        self.messages = list(plain(self.messages))
        own = carried_messages(changes, interaction_id=self._interaction_id, cursor=self.last_id)
        if own:  # nothing came in between: the cursor moves past our own message
            self.last_id = own[-1].id

    @rx.event
    async def send(self, form: dict):
        body = str(form.get("body", "")).strip()
        if not await self._chat() or not body:
            return
        message = MessageView(
            client_id=uuid.uuid4().hex,
            sender_kind=SenderKind.CUSTOMER,
            sender_name="You",
            body=body,
            status="sending",
        )
        self.messages = [*plain(self.messages), message]
        delivery = start_delivery(message, interaction_id=self._interaction_id, sender_kind=SenderKind.CUSTOMER)
        if await slow(delivery):
            yield  # shows it Sending…
        await self._stored(*await delivery)

    @rx.event
    async def retry(self, client_id: str):
        message = next((m for m in plain(self.messages) if m.client_id == client_id), None)
        if message is None or message.status != "failed":
            return
        message.status = "sending"
        self.messages = list(plain(self.messages))
        yield
        await self._stored(*await deliver(message, interaction_id=self._interaction_id, sender_kind=SenderKind.CUSTOMER))

    @rx.event
    async def typing(self):
        if not await self._chat():
            return
        changes = await call(
            conversations.set_typing, interaction_id=self._interaction_id, sender_kind=SenderKind.CUSTOMER
        )
        self._publish(changes)

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        """Customer attachments: validated by content and size on the server."""
        if not await self._chat() or self.phase == "ended":
            return
        problems, changes = [], []
        for file in files:
            data = await file.read()
            try:
                _message, posted = await call(
                    conversations.send_attachment,
                    interaction_id=self._interaction_id,
                    sender_kind=SenderKind.CUSTOMER,
                    filename=file.name or "file",
                    data=data,
                )
                changes += posted
            except ServiceError as error:
                problems.append(f"{file.name}: {error}")
        self.upload_error = " ".join(problems)
        await self._refresh()
        self._publish(changes)
        yield rx.clear_selected_files("customer-attachments")

    @rx.event
    async def end_chat(self):
        if not await self._chat():
            return
        changes = await call(conversations.customer_end, interaction_id=self._interaction_id)
        await self._refresh()
        self._publish(changes)

    @rx.event
    async def rate(self, form: dict):
        if not await self._chat():
            return
        try:
            rating = int(form.get("rating") or 0)
        except (TypeError, ValueError):
            rating = 0
        try:
            await call(conversations.rate, interaction_id=self._interaction_id, rating=rating, comment=str(form.get("comment", "")))
        except ServiceError as error:
            self.rating_error = str(error)
            return
        self.rating_error = ""
        self.rated = True

    @rx.event
    def new_chat(self):
        """After an ended chat: back to the pre-chat form."""
        self._interaction_id = 0
        self.chat_key = ""
        self.phase = "form"
        self.rated, self.rating_error = False, ""
        self.messages, self.last_id, self.transcript_url = [], 0, ""

    @rx.event
    async def tick(self, _value: str = ""):
        """Every 15 s: keeps the tab registered and, after a quiet spell, re-reads
        the chat, so a push lost on the way heals (every waiting customer's tab
        ticks, and pages loaded together tick together). While the agent types
        the page ticks every 2 s and always reads: typing signals expire without a push."""
        if not await self._chat():
            return
        if time.monotonic() - self._last_registered >= REGISTER_SECONDS:
            self._last_registered = time.monotonic()
            await call(_resume, public_id=self.chat_key, token=self.router.session.client_token)
        if self.agent_typing or time.time() - self._heard_at >= settings().resync_quiet_seconds:
            await self._refresh()


def _wait_words(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"about {minutes} minute{'s' if minutes != 1 else ''}"


@dataclasses.dataclass(frozen=True)
class PrefetchedPlace:
    """A waiting customer's place in line, read for a push before the tab's state
    was locked; like the agents' inbox, it counts only if newer than the tab's own read."""

    place: views.Place
    read_at: float  # wall clock when the read began


async def _prefetch_places(batch: dict[str, list[Change]]) -> dict[str, PrefetchedPlace]:
    """For tabs that only heard their queue move, their places in line, read once
    for all of them: every waiting customer's tab hears each change of their queue."""
    tokens = [token for token, changes in batch.items() if all(isinstance(c, QueueChanged) for c in changes)]
    if not tokens:
        return {}
    read_at = time.time()
    found = await read(views.places_of_clients, tokens=tokens)
    return {token: PrefetchedPlace(place, read_at) for token, place in found.items()}


realtime.register_receiver("customer", CustomerChatState, "_refresh", prefetch=_prefetch_places)
