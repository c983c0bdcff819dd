"""A customer tab and an agent tab over the websocket, tracking what their page would show."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import agent_workspace.agent_workspace  # noqa: F401  (registers every state)
from agent_workspace.state.chat_slots import SLOT_STATES
from agent_workspace.state.customer import CustomerChatState
from agent_workspace.state.workspace import LiveState, WorkspaceState
from tests.scaleout.protocol import WsClient, state_delta


class Tab:
    state_cls: type  # the state whose handlers the page calls
    shown_states: tuple[type, ...] = ()  # further states whose vars the page shows
    path: str
    tick_seconds: float = 0  # the page's rx.moment interval that sends ``tick``
    record_history = True

    def __init__(self) -> None:
        self.vars: dict = {}
        self.last: dict = {}  # this state's vars in the latest update
        self.client = WsClient(on_update=self._on_update)
        self.changed = asyncio.Event()
        self.history: list[tuple[float, dict]] = []
        self._ticker: asyncio.Task | None = None
        self.events: list[dict] = []  # client-side events the server asked for (toasts, redirects)

    def _on_update(self, update: dict, at: float) -> None:
        for event in update.get("events") or []:
            self.events.append(event)
        values = {}
        for cls in (self.state_cls, *self.shown_states):
            values.update(state_delta(update, cls))
        self.last = values
        if values:
            self.vars.update(values)
            if self.record_history:
                self.history.append((at, values))
            self.changed.set()

    async def connect(self, port: int, cookie: str | None = None, *, tick: bool = True) -> Tab:
        await self.client.connect(port, cookie=cookie, path=self.path)
        if tick and self.tick_seconds:
            self._ticker = asyncio.create_task(self._tick())
        return self

    async def _tick(self) -> None:
        """What the open page does on its own: a ``tick`` every few seconds (heartbeat)."""
        while not self.client.closed.is_set():
            await asyncio.sleep(self.tick_seconds)
            try:
                await self.send("tick", {"_value": ""})
            except Exception:  # noqa: BLE001 - the socket closed meanwhile
                return

    def stop_ticking(self) -> None:
        """A frozen tab: the socket stays open but the page sends nothing."""
        if self._ticker is not None:
            self._ticker.cancel()

    async def send(self, method: str, payload: dict | None = None) -> None:
        await self.client.send(self.state_cls.event_handlers[method], payload or {})

    async def wait_until(self, predicate: Callable[[dict], bool], timeout: float = 15, what: str = "") -> dict:
        deadline = time.monotonic() + timeout
        while not predicate(self.vars):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                summary = {k: self.vars.get(k) for k in ("phase", "presence", "active_chats", "claiming_queue_id")}
                summary["inbox"] = len(self.vars.get("inbox", []))
                raise AssertionError(
                    f"{type(self).__name__} never saw {what or predicate} within {timeout} s; now: {summary}"
                )
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.5))
            except TimeoutError:
                pass
        return self.vars

    async def load(self) -> None:
        """What opening the page does: its ``on_load``, until it says it has loaded."""
        await self.send("on_load")
        await self.wait_until(lambda v: v.get("loaded"), timeout=60, what="the page loaded")

    async def close(self) -> None:
        self.stop_ticking()
        await self.client.close()


class CustomerTab(Tab):
    state_cls = CustomerChatState
    path = "/chat"
    tick_seconds = 15.0  # pages/chat.py: rx.moment(interval=15000, on_change=tick) (2 s only while the agent types)

    def bodies(self, kind: str) -> list[str]:
        return [m["body"] for m in self.vars.get("messages", []) if m["sender_kind"] == kind]


class AgentTab(Tab):
    state_cls = WorkspaceState
    shown_states = (LiveState,)  # messages, unread counts, typing
    path = "/workspace"
    tick_seconds = 5.0  # pages/workspace.py: rx.moment(interval=5000, on_change=tick)

    async def go_available(self) -> None:
        await self.send("set_presence", {"label": "Available"})
        await self.wait_until(lambda v: v.get("presence") == "available", timeout=60, what="Available")

    def __init__(self) -> None:
        super().__init__()
        self.slots: dict[int, list[dict]] = {}  # slot -> the messages its state shows

    def _on_update(self, update: dict, at: float) -> None:
        changed = []
        for index, cls in enumerate(SLOT_STATES):
            if "messages" in (slot := state_delta(update, cls)):
                self.slots[index] = slot["messages"]
                changed.append(index)
        super()._on_update(update, at)
        if changed:  # ``last`` names the slots this update changed
            self.last["slots"] = changed
            self.changed.set()

    def tab(self, interaction_id: int) -> dict | None:
        return next((t for t in self.vars.get("tabs", []) if t["interaction_id"] == interaction_id), None)

    def messages_of(self, tab: dict) -> list[dict]:
        """A chat's messages: those of the slot state its tab names (state/chat_slots.py)."""
        return self.slots.get(tab["slot"], [])

    def bodies(self, interaction_id: int, kind: str) -> list[str]:
        tab = self.tab(interaction_id)
        return [m["body"] for m in (self.messages_of(tab) if tab else []) if m["sender_kind"] == kind]


async def open_chat(
    cluster, *, prefix: str, capacity: int, question: str, customer_ticks: bool = True
) -> tuple[AgentTab, CustomerTab, int, int]:
    """An agent on B (Available) and a customer on A, chatting: the customer starts
    a chat, it is offered to the agent and the agent accepts it. Returns the two
    tabs, the chat's id and the agent's user id."""
    queue_id, queue_name = cluster.queue(prefix)
    agent_id, cookie = cluster.agent(queues=[queue_name], capacity=capacity)
    agent = await AgentTab().connect(cluster.b.port, cookie)
    customer = await CustomerTab().connect(cluster.a.port, tick=customer_ticks)
    await agent.load()
    await agent.go_available()
    await customer.load()
    await customer.send(
        "start_chat",
        {
            "form": {
                "name": f"{prefix} Customer",
                "email": f"{prefix.lower()}@example.com",
                "queue_id": str(queue_id),
                "question": question,
            }
        },
    )
    await customer.wait_until(lambda v: v.get("phase") == "waiting", what="waiting")
    # The offer is made on A (where the chat started) and pushed to the agent's socket on B.
    await agent.wait_until(lambda v: any(c["offered_to_me"] for c in v.get("inbox", [])), what="the offer")
    await agent.send("accept", {"queue_id": queue_id})
    vars_ = await agent.wait_until(lambda v: len(v.get("tabs", [])) == 1, what="the accepted chat")
    await customer.wait_until(lambda v: v.get("phase") == "chatting", what="chatting")
    return agent, customer, vars_["tabs"][0]["interaction_id"], agent_id
