"""The public customer chat page: pre-chat form, place in line, the conversation.

Anonymous by design. The chat is found from the unguessable id this browser
got when it started the chat (kept in localStorage, so a reload resumes),
resolved server-side into a backend var; no handler takes a chat id from the
client, so a customer can only ever reach their own chat.
"""

from __future__ import annotations

import time

import reflex as rx

from agent_workspace import realtime
from agent_workspace.config import settings
from agent_workspace.db import run_blocking
from agent_workspace.models import ClientKind, Interaction, SenderKind, stored_id
from agent_workspace.security import Access, access, bound_to_cookie
from agent_workspace.services import (
    audience,
    chat_close,
    chat_files,
    conversations,
    left_messages,
    queue_visibility,
    views,
)
from agent_workspace.services.budgets import Budget, OverBudget
from agent_workspace.services.customer_views import Place
from agent_workspace.services.errors import ServiceError
from agent_workspace.services.events import Change
from agent_workspace.state import customer_limits, customer_push, outbox
from agent_workspace.state.chat_cookies import (
    BROWSER_COOKIE,
    CHAT_COOKIE,
    STRICT_BROWSER_COOKIE,
    STRICT_CHAT_COOKIE,
    carry_over,
    customer_cookie,
)
from agent_workspace.state.common import assign_changed, run_action, run_action_then_mail, run_query, unproxied
from agent_workspace.state.customer_push import Phase
from agent_workspace.state.customer_reads import newcomer_outlooks, prefetch_places
from agent_workspace.state.message_status import MessageStatus
from agent_workspace.state.outlook import OutlookView, outlook_view, valid_time_zone
from agent_workspace.state.views import YOU, MessageView, deliver, own_message, start_delivery, storing_is_slow
from agent_workspace.sync.customer import CustomerView, sent

REGISTER_SECONDS = 5 * 60  # re-register the tab well before the sweeper forgets it (15 min)


def _resume(session, *, public_id: str, token: str) -> int:
    item = conversations.interaction_by_public_id(session, public_id)
    audience.register_client(session, token=token, kind=ClientKind.CUSTOMER, interaction_id=stored_id(item))
    return stored_id(item)


def _start(session, *, token: str, browser_hash: str, **form) -> Interaction:
    started = conversations.start_chat(session, **form)
    started.browser_hash = browser_hash  # issue 17: earlier chats from this browser are shown in full
    audience.register_client(session, token=token, kind=ClientKind.CUSTOMER, interaction_id=started.id)
    return started


def _leave(session, *, interaction_id: int, queue_id: int, client_address: str, **fields) -> left_messages.LeftMessage:
    """A message left from the form, or instead of the chat this tab waits in
    (that chat already counted against the address's budget)."""
    if interaction_id:
        return left_messages.leave_message_instead(session, interaction_id=interaction_id, **fields)
    return left_messages.leave_message(session, queue_id=queue_id, client_address=client_address, **fields)


def _queue_options(session) -> list[list[str]]:
    return [[str(q.id), q.name] for q in queue_visibility.public_queues(session)]


@access(Access.PUBLIC)
class CustomerChatState(rx.State):
    # Also read by /api/attachments to let the customer fetch their chat's files.
    chat_key: str = customer_cookie(CHAT_COOKIE, max_age=7 * 24 * 3600)
    # issue 17: this browser's random id (services.views.browser_hash), the "same browser" sign.
    browser_key: str = customer_cookie(BROWSER_COOKIE, max_age=365 * 24 * 3600)
    _interaction_id: int = 0
    _last_registered: float = 0.0
    _listed_at: float = 0.0  # wall clock when queue_options were read
    # What the tab shows of its chat, as the proven model keeps it (sync.customer): its
    # cursor, phase, names and place in line, with the change version of its last read.
    _view: CustomerView = CustomerView(interaction_id=0)
    _heard_at: float = 0.0  # wall clock when a push or a read last reached this tab

    _time_zone: str = "UTC"  # the visitor's, as their browser names it
    _typing_at: float = 0.0  # wall clock of the last typing signal this tab sent

    loaded: bool = False
    queue_options: list[list[str]] = []
    form_error: str = ""
    phase: str = Phase.FORM
    topic: str = ""  # the queue chosen in the form, before the chat starts
    outlook: OutlookView = OutlookView()
    keep_waiting: bool = False  # the customer chose to wait although nobody is available
    leave_name: str = ""
    leave_email: str = ""
    leave_text: str = ""
    leave_error: str = ""
    leave_queue: str = ""  # the queue the message goes to, shown on its form
    left_number: str = ""
    left_email: str = ""
    left_confirmed: bool = False
    number: str = ""
    queue_name: str = ""
    agent_name: str = ""
    agent_typing: bool = False
    messages: list[MessageView] = []
    send_error: str = ""  # why the last message was refused (it is not kept)
    taken_ids: list[str] = []  # client ids of the last sends taken: the page's outbox forgets them
    transcript_url: str = ""
    upload_error: str = ""
    rated: bool = False
    rating_error: str = ""

    @rx.event
    async def on_load(self):
        self._listed_at = time.time()
        self.queue_options = await run_query(_queue_options)
        expired = carry_over(self, {"chat_key": STRICT_CHAT_COOKIE, "browser_key": STRICT_BROWSER_COOKIE})
        if self.chat_key and not self._interaction_id:
            try:
                self._hold(await run_action(_resume, public_id=self.chat_key, token=self.router.session.client_token))
            except ServiceError:
                self.chat_key = ""
        if self._interaction_id:
            await self._refresh()
        else:
            await self._show_topic_outlook()
        self.loaded = True
        return [
            *expired,
            rx.call_script(
                "Intl.DateTimeFormat().resolvedOptions().timeZone", callback=CustomerChatState.set_time_zone
            ),
        ]

    @rx.event
    async def set_time_zone(self, name: str):
        """The visitor's time zone, for "we're back at 09:00 (your time)"."""
        self._time_zone = valid_time_zone(name)
        if self.phase == Phase.FORM:
            await self._show_topic_outlook()
        elif self.phase == Phase.WAITING:
            customer_push.show_outlook(self)

    @rx.event
    async def choose_topic(self, queue_id: str):
        if self.phase != Phase.FORM:  # the topic of a message being left or a chat in line is fixed
            return
        self.topic = queue_id[:12] if isinstance(queue_id, str) else ""
        await self._show_topic_outlook()

    async def _show_topic_outlook(self) -> None:
        """Before the chat starts: what the chosen queue can offer now."""
        names = dict((q_id, name) for q_id, name in self.queue_options)
        if self.topic not in names:
            assign_changed(self, outlook=OutlookView())
            return
        found = (await newcomer_outlooks(int(self.topic), self._listed_at)).get(int(self.topic))
        view = outlook_view(found, queue_name=names[self.topic], time_zone=self._time_zone, waiting=False)
        if view != self.outlook:
            self.outlook = view

    async def _chat(self) -> int:
        """This browser's chat. After a server restart this state is new while the
        page's queued events arrive before its on_load: resume from the chat cookie."""
        if not self._interaction_id and self.chat_key:
            try:
                self._hold(await run_action(_resume, public_id=self.chat_key, token=self.router.session.client_token))
            except ServiceError:
                self.chat_key = ""
                return 0
            await self._refresh()
        return self._interaction_id

    def _hold(self, interaction_id: int) -> None:
        """This tab now shows ``interaction_id`` (0: no chat): a view of its own, whose
        first read is ``fresh``, and none of the messages of a chat shown before."""
        self._interaction_id = interaction_id
        self._view = CustomerView(interaction_id=interaction_id)
        self.messages, self.transcript_url = [], ""

    async def _refresh(self) -> None:
        """The tab's own re-read (``customer_push.reread``)."""
        await customer_push.reread(self)

    async def _receive(self, changes: list[Change], read_ahead: Place | None) -> None:
        """A push (``sync.Receiver``; ``customer_push.receive``)."""
        await customer_push.receive(self, changes, read_ahead)

    @rx.event
    async def start_chat(self, form: dict):
        if self._interaction_id and self.phase not in (Phase.ENDED, Phase.LEFT):
            return
        try:  # refused before any work, and counted however it ends
            await customer_limits.spend(self, Budget.REQUEST)
            fields = customer_limits.form_fields(form, customer_limits.START_FIELDS)
        except ServiceError as error:
            self.form_error = str(error)
            return
        queue_id = int(fields["queue_id"]) if fields["queue_id"].isdecimal() else 0
        if views.browser_hash(self.browser_key) is None:  # issue 17: first chat from this browser
            self.browser_key = views.new_browser_key()
        try:
            started = await run_action(
                _start,
                token=self.router.session.client_token,
                browser_hash=views.browser_hash(self.browser_key),
                name=fields["name"],
                email=fields["email"],
                queue_id=queue_id,
                question=fields["question"],
                client_address=self.router.session.client_ip,
            )
        except ServiceError as error:
            self.form_error = str(error)
            return
        self.form_error = ""
        self._hold(stored_id(started))
        self._last_registered = time.monotonic()  # _start registered the tab
        self.chat_key = started.public_id
        await self._refresh()

    def _stored(self, message: MessageView, follows_id: int | None) -> None:
        """A send or retry is settled (Sent or Failed): show it here; the view's cursor
        moves past it only if nothing came in between (``sync.customer.sent``)."""
        self.messages = list(unproxied(self.messages))
        self._view = sent(unproxied(self._view), message.id, follows_id)

    @rx.event
    async def send(self, form: dict):
        """A message from the page's outbox, taken once per client id (the page sends
        it again after a lost connection or a reload). A refused send (budget, size,
        too many unsent) is shown as an error and not kept."""
        client_id = outbox.client_id(form)
        self.taken_ids = outbox.taken(unproxied(self.taken_ids), client_id)  # stored, failed or refused
        held = outbox.held(unproxied(self.messages), client_id)  # a resend: nothing more to do
        try:
            await customer_limits.spend(self, Budget.SEND)
            if held:
                return
            body = customer_limits.form_fields(form, customer_limits.SEND_FIELDS)["body"].strip()
            customer_limits.check_room(unproxied(self.messages))
        except ServiceError as error:
            if not held:  # (a resend over budget: its message is in the chat already)
                self.send_error = str(error)
            return
        assign_changed(self, send_error="")
        if not await self._chat() or not body or outbox.held(unproxied(self.messages), client_id):
            return  # (a resend whose stored copy the chat's first read just brought in)
        message = own_message(client_id=client_id, sender_kind=SenderKind.CUSTOMER, sender_name=YOU, body=body)
        self.messages = [*unproxied(self.messages), message]
        delivery = start_delivery(message, interaction_id=self._interaction_id, sender_kind=SenderKind.CUSTOMER)
        if await storing_is_slow(delivery):
            yield  # shows it Sending…
        self._stored(message, await delivery)

    @rx.event
    async def retry(self, client_id: str):
        try:
            await customer_limits.spend(self, Budget.SEND)
        except ServiceError as error:
            self.send_error = str(error)
            return
        message = next((m for m in unproxied(self.messages) if m.client_id == client_id), None)
        if message is None or message.status != MessageStatus.FAILED:
            return
        message.status = MessageStatus.SENDING
        self.messages = list(unproxied(self.messages))
        yield
        self._stored(
            message, await deliver(message, interaction_id=self._interaction_id, sender_kind=SenderKind.CUSTOMER)
        )

    @rx.event
    async def typing(self):
        """At most one signal per ``TYPING_SIGNAL_SECONDS`` is sent to the agent;
        the rest are dropped here, before any other work."""
        now = customer_limits.typing_due(self._typing_at)
        if now is None:
            return
        try:
            await customer_limits.spend(self, Budget.TYPING)
        except OverBudget:
            return
        self._typing_at = now
        if not await self._chat():
            return
        await run_query(
            conversations.signal_typing, interaction_id=self._interaction_id, sender_kind=SenderKind.CUSTOMER
        )

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        """Customer attachments: counted against the chat's quotas before they are
        read into memory or stored, then judged by content and size, stored and posted."""
        if not await self._chat() or self.phase == Phase.ENDED:
            return
        try:
            await run_query(
                chat_files.check_upload,
                interaction_id=self._interaction_id,
                sender_kind=SenderKind.CUSTOMER,
                sizes=[file.size or 0 for file in files],
            )
        except ServiceError as error:
            self.upload_error = str(error)
            yield rx.clear_selected_files("customer-attachments")
            return
        incoming = [chat_files.IncomingFile(file.name or "file", await file.read()) for file in files]
        sent = await run_blocking(
            chat_files.send_files, interaction_id=self._interaction_id, sender_kind=SenderKind.CUSTOMER, files=incoming
        )
        self.upload_error = " ".join(sent.problems)
        await self._refresh()
        yield rx.clear_selected_files("customer-attachments")

    @rx.event
    async def end_chat(self):
        if not await self._chat():
            return
        await run_action(chat_close.customer_end, interaction_id=self._interaction_id)
        await self._refresh()

    @rx.event
    async def rate(self, form: dict):
        try:
            await customer_limits.spend(self, Budget.RATE)
            fields = customer_limits.form_fields(form, customer_limits.RATE_FIELDS)
        except ServiceError as error:
            self.rating_error = str(error)
            return
        if not await self._chat():
            return
        rating = int(fields["rating"]) if fields["rating"].isdecimal() else 0
        try:
            await run_action(
                chat_close.rate, interaction_id=self._interaction_id, rating=rating, comment=fields["comment"]
            )
        except ServiceError as error:
            self.rating_error = str(error)
            return
        self.rating_error = ""
        await self._refresh()  # rated, as the view reads it: a later push projects the view

    @rx.event
    def new_chat(self):
        """After an ended chat: back to the pre-chat form."""
        self._hold(0)
        self.chat_key = ""
        self.phase = Phase.FORM
        self.keep_waiting, self.left_number, self.leave_error = False, "", ""
        self.rated, self.rating_error, self.send_error = False, "", ""

    # ------------------------------------------------------------ nobody there

    @rx.event
    def open_leave_form(self, typed: list):
        """Nobody is available or the queue is closed: leave a message instead.
        ``typed``: what the pre-chat form held (name, email, question), carried over."""
        if self.phase not in (Phase.FORM, Phase.WAITING) or not self.outlook.can_leave_message:
            return
        if self._interaction_id:
            view = unproxied(self._view)
            self.leave_name, self.leave_email, self.leave_text = view.customer_name, view.customer_email, ""
        else:
            # Any client can send anything here: only short text is taken.
            typed = [value if isinstance(value, str) else "" for value in typed[:3]] if isinstance(typed, list) else []
            typed += [""] * (3 - len(typed))
            self.leave_name, self.leave_email, self.leave_text = (
                value[:most] for value, (_label, most) in zip(typed, customer_limits.LEAVE_FIELDS.values())
            )
        self.leave_error = ""
        self.leave_queue = (
            self.queue_name if self._interaction_id else dict(unproxied(self.queue_options)).get(self.topic, "")
        )
        self.phase = Phase.LEAVE

    @rx.event
    async def cancel_leave(self):
        if self.phase != Phase.LEAVE:
            return
        self.phase = Phase.WAITING if self._interaction_id else Phase.FORM
        if self._interaction_id:
            await self._refresh()

    @rx.event
    def choose_keep_waiting(self):
        """The customer stays in line although nobody is there yet."""
        if self.phase == Phase.WAITING:
            self.keep_waiting = True

    @rx.event
    async def leave_message(self, form: dict):
        if self.phase != Phase.LEAVE:
            return
        try:  # refused before any work, and counted with the chats: the same budget
            await customer_limits.spend(self, Budget.REQUEST)
            fields = customer_limits.form_fields(form, customer_limits.LEAVE_FIELDS)
        except ServiceError as error:
            self.leave_error = str(error)
            return
        try:
            queue_id = int(self.topic or 0) if not self._interaction_id else 0
        except ValueError:
            queue_id = 0
        try:
            left = await run_action(
                _leave,
                interaction_id=self._interaction_id,
                queue_id=queue_id,
                name=fields["name"],
                email=fields["email"],
                message=fields["message"],
                client_address=self.router.session.client_ip,
            )
        except ServiceError as error:
            self.leave_error = str(error)
            return
        self.leave_error = ""
        self.left_number, self.left_email = left.number, fields["email"].strip()
        self.phase = Phase.LEFT
        self.chat_key = ""
        self._hold(0)
        yield  # the visitor sees the confirmation page before the mail server answers
        try:
            self.left_confirmed = (
                await run_action_then_mail(left_messages.send_confirmation, record_id=left.record_id)
            ) is not None
        except ServiceError:  # the message is stored; only the confirmation could not be written
            self.left_confirmed = False

    @rx.event
    async def tick(self, _value: str = ""):
        """Every 15 s: keeps the tab registered and, after a quiet spell, re-reads
        the chat, so a push lost on the way heals (every waiting customer's tab
        ticks, and pages loaded together tick together).
        Before a chat starts, the chosen topic's availability is read again."""
        if self.phase == Phase.FORM:
            await self._show_topic_outlook()
            return
        if not await self._chat():
            return
        if time.monotonic() - self._last_registered >= REGISTER_SECONDS:
            self._last_registered = time.monotonic()
            await run_action(_resume, public_id=self.chat_key, token=self.router.session.client_token)
        if time.time() - self._heard_at >= settings().resync_quiet_seconds:
            await self._refresh()


realtime.register_receiver(ClientKind.CUSTOMER, CustomerChatState, prefetch=prefetch_places)
bound_to_cookie(CustomerChatState, cookie=CHAT_COOKIE, var="chat_key", held="_interaction_id")
