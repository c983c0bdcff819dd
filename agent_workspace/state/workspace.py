"""The agent's workspace: presence, Inbox, and one interaction tab per open chat."""

from __future__ import annotations

import asyncio
import time
from typing import cast

import reflex as rx

from agent_workspace import realtime
from agent_workspace.config import settings
from agent_workspace.models import ClientKind, Presence, stored_id
from agent_workspace.security import Access, access, clear_private_state, current_principal, hold_private
from agent_workspace.services import audience, chat_close, routing, transfers
from agent_workspace.services.errors import ServiceError
from agent_workspace.services.events import Change
from agent_workspace.services.notices import dismiss_all_notices, dismiss_notice
from agent_workspace.state import agent_push, agent_send, chat_slots
from agent_workspace.state.chat_slots import MessageSlot
from agent_workspace.state.common import row_id, run_action, send_turn, unproxied
from agent_workspace.state.inbox import accept_blocker, prefetch_inboxes
from agent_workspace.state.live import LiveState, alert, forget_closed, update_urgency
from agent_workspace.state.views import (
    ChatTab,
    InboxCardView,
    TransferOfferView,
)
from agent_workspace.sync.agent import WHOLE, AgentView, InboxAhead, Reads

HEARTBEAT_SECONDS = 15
PRESENCE_LABELS: dict[str, str] = {
    Presence.AVAILABLE: "Available",
    Presence.AWAY: "Away",
    Presence.OFFLINE: "Offline",
}


def _register_agent(session, *, token: str, user_id: int) -> None:
    audience.register_client(session, token=token, kind=ClientKind.AGENT, user_id=user_id)
    routing.touch_agent(session, user_id=user_id)


@access(Access.WORKSPACE)
class WorkspaceState(rx.State):
    """Holds the inbox and the active chats across queues for one browser tab."""

    _uid: int = 0  # the signed-in agent; see _me()
    _view: AgentView = AgentView(user_id=0)  # what this tab shows, as sync.agent keeps it (agent_push projects it)
    _slots: dict[int, int] = {}  # interaction id -> the slot state holding its messages (chat_slots)
    _last_heartbeat: float = 0.0
    _heard_at: float = 0.0  # wall clock when a push or a read last reached this tab

    loaded: bool = False
    display_name: str = ""
    presence: str = Presence.OFFLINE.value
    capacity: int = 0
    active_chats: int = 0
    after_hours: bool = False  # opted in to chats of closed queues
    queue_names: list[str] = []
    inbox: list[InboxCardView] = []
    transfer_offers: list[TransferOfferView] = []
    notices: list[list[str]] = []  # [level, text, id], until dismissed
    tabs: list[ChatTab] = []
    # Kept in the browser tab too, so a reload or a server restart reopens the same tab.
    active_tab: str = rx.SessionStorage("inbox", name="aw_active_tab")
    claiming_queue_id: int = 0
    claim_delayed: bool = False
    reject_target_id: int = 0
    reject_error: str = ""
    close_tab_target_id: int = 0

    @rx.var
    def presence_label(self) -> str:
        return PRESENCE_LABELS.get(self.presence, self.presence.title())

    @rx.var
    def accept_blocked(self) -> str:
        """Why Accept is disabled on every card now ("" while it is not)."""
        return accept_blocker(presence=self.presence, active_chats=self.active_chats, capacity=self.capacity)

    @rx.var
    def inbox_count(self) -> int:
        return len(self.inbox) + len(self.transfer_offers)

    @rx.var
    def reject_open(self) -> bool:
        return self.reject_target_id != 0

    @rx.var
    def close_tab_open(self) -> bool:
        return self.close_tab_target_id != 0

    # ------------------------------------------------------------ loading

    @rx.event
    async def on_load(self):
        principal = await current_principal(self)
        if principal is None:
            return rx.redirect("/login")
        self._uid = principal.user_id
        self.loaded = False  # no alerts for what a reload re-reads
        await run_action(_register_agent, token=self.router.session.client_token, user_id=self._uid)
        self._last_heartbeat = time.monotonic()
        # A (re)load re-reads every open chat from the database in full.
        for interaction_id in list(self._slots):
            if (slot := await self._slot(interaction_id)) is not None:
                slot.messages = []
        self.tabs, self._slots, self._view = [], {}, AgentView(user_id=self._uid)
        await self._refresh()
        self.loaded = True
        return None

    async def _me(self) -> int:
        """The signed-in agent of this event's cookie (0 if none). After a server
        restart this state is new while the page's queued events arrive before its
        on_load: learn the user again and restore the view first. A tab that holds
        another user's view is cleared first: it is never acted on as theirs."""
        principal = await current_principal(self)  # the middleware's, for this event
        if principal is None:
            return 0
        if self._uid != principal.user_id:
            if self._uid:  # another user's tab (the middleware clears such a tab first)
                await clear_private_state(self)
            self._uid = principal.user_id
            await run_action(_register_agent, token=self.router.session.client_token, user_id=self._uid)
            await self._refresh()
            self.loaded = True
        return self._uid

    async def _refresh(self, chats: set[int] | None = None) -> None:
        """Re-read after this tab's own action: header, inbox and the list of open
        chats, and in full ``chats`` of those shown (None: every chat) and any not
        shown yet; the others stay as pushes keep them."""
        if self._uid:
            reads = WHOLE if chats is None else Reads(header=True, reread=frozenset(chats))
            await agent_push.sync(self, [], reads)

    async def _live(self) -> LiveState:
        return await self.get_state(LiveState)

    async def _slot(self, interaction_id: int) -> MessageSlot | None:
        """The slot state that holds this open chat's messages."""
        index = self._slots.get(interaction_id, chat_slots.NO_SLOT)
        if index == chat_slots.NO_SLOT:
            return None
        return cast(MessageSlot, await self.get_state(chat_slots.SLOT_STATES[index]))

    async def _forget_closed(self, live: LiveState, open_keys: set[str]) -> None:
        forget_closed(live, open_keys)
        for interaction_id in [i for i in self._slots if str(i) not in open_keys]:
            if (slot := await self._slot(interaction_id)) is not None and slot.messages:
                slot.messages = []
            del self._slots[interaction_id]

    async def _receive(self, changes: list[Change], read_ahead: InboxAhead | None) -> None:
        """A push (``sync.Receiver``): through ``sync.agent`` (``agent_push.receive``)."""
        await agent_push.receive(self, changes, read_ahead)

    async def _set_inbox(self, cards: list[InboxCardView]) -> None:
        """New inbox cards; a chat newly offered to this agent raises an alert."""
        offered_before = {c.interaction_id for c in self.inbox if c.offered_to_me}
        new_offers = [c for c in cards if c.offered_to_me and c.interaction_id not in offered_before]
        if new_offers and self.loaded:
            alert(await self._live(), f"New chat offered: {new_offers[0].customer_name} ({new_offers[0].queue_name})")
        if cards != self.inbox:
            self.inbox = cards

    @rx.event
    async def tick(self, _value: str = ""):
        """Every few seconds: tab colours, and a heartbeat that keeps presence alive."""
        if not await self._me():
            return
        update_urgency(await self._live(), self.tabs)
        if time.time() - self._heard_at >= settings().resync_quiet_seconds:
            await self._refresh()  # after a quiet spell: heals a push lost on the way
        if time.monotonic() - self._last_heartbeat >= HEARTBEAT_SECONDS:
            self._last_heartbeat = time.monotonic()
            await run_action(_register_agent, token=self.router.session.client_token, user_id=self._uid)

    # ------------------------------------------------------------ presence and inbox

    @rx.event
    async def set_presence(self, label: str):
        wanted = {v: k for k, v in PRESENCE_LABELS.items()}.get(label)
        if wanted is None:
            return rx.toast.error("Presence is Available, Away or Offline.")
        await run_action(routing.set_presence, user_id=await self._me(), presence=wanted)
        await self._refresh(chats=set())
        return None

    @rx.event
    async def set_after_hours(self, enabled: bool):
        """The agent's opt-in to be offered chats of their queues while those are closed."""
        await run_action(routing.set_after_hours, user_id=await self._me(), enabled=bool(enabled))
        await self._refresh(chats=set())

    @rx.event
    async def dismiss_notice(self, index: int):
        """Gone from every tab of this agent (they re-read on their next refresh)."""
        current = unproxied(self.notices)
        try:
            notice = current[int(index)]
        except (TypeError, ValueError, IndexError):
            return
        await run_action(dismiss_notice, user_id=await self._me(), notice_id=int(notice[2]))
        self.notices = [n for n in current if n is not notice]

    @rx.event
    async def dismiss_all_notices(self):
        """Dismiss all: every notice up to the newest this tab shows, in one go; the
        agent's other tabs re-read on their next refresh, as with one."""
        shown = unproxied(self.notices)
        if not shown:
            return
        await run_action(dismiss_all_notices, user_id=await self._me(), up_to=max(int(n[2]) for n in shown))
        self.notices = []

    @rx.event
    async def answer_transfer(self, interaction_id: int, accept: bool):
        try:
            await run_action(
                transfers.answer, interaction_id=int(interaction_id), user_id=await self._me(), accept=bool(accept)
            )
        except ServiceError as error:
            await self._refresh()
            return rx.toast.error(str(error))
        await self._refresh(chats={int(interaction_id)} if accept else set())
        if accept:
            self.active_tab = str(int(interaction_id))
        return None

    @rx.event
    def select_child_tab(self, interaction_id: int, value: str):
        self._show_child_tab(int(interaction_id), str(value))

    def _show_child_tab(self, interaction_id: int, value: str) -> None:
        tab = self._tab(interaction_id)
        if tab is not None:
            tab.child_tab = value
            self.tabs = list(unproxied(self.tabs))

    @rx.event
    async def select_tab(self, value: str):
        self.active_tab = value
        live = await self._live()
        if live.unread.get(value):
            live.unread = {**unproxied(live.unread), value: 0}

    @rx.event(background=True)
    async def accept(self, queue_id: int, offer_id: int = 0):
        """Claim the oldest waiting chat of the queue, or the card's own offer
        (``offer_id``); say so if the database is slow."""
        async with self:
            if self.claiming_queue_id:
                return
            self.claiming_queue_id = int(queue_id)
            self.claim_delayed = False
            user_id = await self._me()
        claim = asyncio.ensure_future(
            run_action(routing.accept, user_id=user_id, queue_id=int(queue_id), offer_id=row_id(offer_id))
        )
        try:
            try:
                item = await asyncio.wait_for(asyncio.shield(claim), settings().delayed_claim_seconds)
            except TimeoutError:
                async with self:
                    self.claim_delayed = True
                item = await claim
        except ServiceError as error:
            async with self:
                self.claiming_queue_id = 0
                self.claim_delayed = False
                await self._refresh()
            yield rx.toast.error(str(error))
            return
        async with self:
            self.claiming_queue_id = 0
            self.claim_delayed = False
            await self._refresh(chats={stored_id(item)})
            self.active_tab = str(item.id)

    @rx.event
    def open_reject(self, interaction_id: int):
        self.reject_target_id = int(interaction_id)
        self.reject_error = ""

    @rx.event
    def cancel_reject(self):
        self.reject_target_id = 0
        self.reject_error = ""

    @rx.event
    async def reject(self, form: dict):
        try:
            await run_action(
                routing.reject,
                user_id=await self._me(),
                interaction_id=self.reject_target_id,
                reason=str(form.get("reason", "")),
            )
        except ServiceError as error:
            self.reject_error = str(error)
            return
        self.reject_target_id = 0
        self.reject_error = ""
        await self._refresh(chats=set())

    # ------------------------------------------------------------ conversation

    def _tab(self, interaction_id: int) -> ChatTab | None:
        return next((t for t in self.tabs if t.interaction_id == interaction_id), None)

    @rx.event(background=True)
    async def send_message(self, form: dict):
        """A text from the chat's outbox in the page, stored once per client id
        (the page sends it again after a lost connection or a reload)."""
        interaction_id = row_id(form.get("interaction_id")) or 0
        async with send_turn(self.router.session.client_token, interaction_id):
            async with self:
                await self._me()
                tab = self._tab(interaction_id)
                message = await agent_send.to_store(self, interaction_id, form)
            if message is not None:
                await agent_send.post(self, interaction_id, message)
        if tab is None:
            yield rx.toast.error("That chat is not open in this workspace.")

    @rx.event(background=True)
    async def retry_message(self, interaction_id: int, client_id: str):
        interaction_id = int(interaction_id)
        async with send_turn(self.router.session.client_token, interaction_id):
            async with self:
                await self._me()
                message = await agent_send.to_retry(self, interaction_id, str(client_id))
            if message is not None:
                await agent_send.post(self, interaction_id, message)
        if message is None:
            yield rx.toast.error("That message is not waiting to be sent again.")

    # ------------------------------------------------------------ ending

    @rx.event
    async def close_chat(self, interaction_id: int):
        """Close in the Details tab: saves the transcript on the interaction record."""
        return await self._end(int(interaction_id), save_history=True)

    @rx.event
    def open_close_tab(self, interaction_id: int):
        self.close_tab_target_id = int(interaction_id)

    @rx.event
    def cancel_close_tab(self):
        self.close_tab_target_id = 0

    @rx.event
    async def confirm_close_tab(self):
        """Closing the tab ends the chat without saving history to the record."""
        target, self.close_tab_target_id = self.close_tab_target_id, 0
        return await self._end(target, save_history=False)

    async def _end(self, interaction_id: int, *, save_history: bool):
        try:
            await run_action(
                chat_close.close,
                interaction_id=interaction_id,
                user_id=await self._me(),
                save_history=save_history,
            )
        except ServiceError as error:
            return rx.toast.error(str(error))
        await self._refresh(chats=set())
        return rx.toast.success(
            "Chat closed; transcript saved to the record."
            if save_history
            else "Chat ended; history not saved to the record."
        )


hold_private(LiveState, owner=WorkspaceState)
for _slot_state in chat_slots.SLOT_STATES:
    hold_private(_slot_state, owner=WorkspaceState)
realtime.register_receiver(ClientKind.AGENT, WorkspaceState, prefetch=prefetch_inboxes)
