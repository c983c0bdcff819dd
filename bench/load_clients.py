"""The load generator's simulated tabs of the app: customers and agents sending what the pages send,
and the ledger (``Stats``) of every message sent, shown, duplicated or misattributed."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from tests.scaleout.tabs import AgentTab, CustomerTab

MARK = "L"  # every load message's body: L|id|send time|direction


@dataclass
class Chat:
    name: str
    queue_id: int
    started_at: float
    interaction_id: int = 0
    number: str = ""
    accepted_at: float = 0.0
    stop: bool = False  # both sides stop writing before the customer leaves
    sent_to_agent: set[str] = field(default_factory=set)
    sent_to_customer: set[str] = field(default_factory=set)


@dataclass
class Stats:
    sent: dict[str, tuple[str, float, str]] = field(default_factory=dict)  # id -> (direction, t, chat name)
    delivered: dict[str, float] = field(default_factory=dict)  # id -> latency s
    duplicated: set[str] = field(default_factory=set)
    misdelivered: dict[str, str] = field(default_factory=dict)  # id -> where it was sent and where it was shown
    failed: set[str] = field(default_factory=set)
    acked: dict[str, float] = field(default_factory=dict)
    chats_started: int = 0
    chats_accepted: int = 0
    chats_closed: int = 0
    accept_latency: list[float] = field(default_factory=list)
    queue_wait: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)

    def fail(self, mid: str, reason: str) -> None:
        if mid not in self.failed:
            self.failed.add(mid)
            self.errors[f"message failed: {reason[:80]}"] += 1

    def message_id(self, direction: str, chat: Chat) -> tuple[str, str]:
        mid = uuid.uuid4().hex[:12]
        now = time.time()
        self.sent[mid] = (direction, now, chat.name)
        return mid, f"{MARK}|{mid}|{now:.6f}|{direction}"

    def seen(self, body: str, chat_name: str, now: float) -> None:
        parts = body.split("|")
        if len(parts) != 4 or parts[0] != MARK:
            return
        mid = parts[1]
        record = self.sent.get(mid)
        if record is None:
            self.errors["unknown message seen"] += 1
            return
        if record[2] != chat_name:
            self.misdelivered.setdefault(mid, f"{record[0]} sent in {record[2]!r}, shown in {chat_name!r}")
        if mid not in self.delivered:
            self.delivered[mid] = now - float(parts[2])

    def check_list(self, bodies: list[str], chat_name: str, now: float) -> None:
        counts = Counter(b.split("|")[1] for b in bodies if b.startswith(f"{MARK}|"))
        for mid, n in counts.items():
            if n > 1:
                self.duplicated.add(mid)
        for body in bodies:
            self.seen(body, chat_name, now)


class LoadCustomer(CustomerTab):
    record_history = False

    def __init__(self, run: Run, index: int):
        super().__init__()
        self.run = run
        self.index = index
        self.chat: Chat | None = None
        self.round = 0

    def _on_update(self, update: dict, at: float) -> None:
        super()._on_update(update, at)
        msgs = self.last.get("messages")
        if self.chat is not None and self.vars.get("number") and self.vars.get("phase") in ("waiting", "chatting"):
            self.chat.number = self.chat.number or self.vars["number"]
            self.run.by_number.setdefault(self.vars["number"], self.chat)
        # Attribute what the page shows to the chat the page says it shows (its number), not to
        # the chat this tab is busy starting: a late delta of the previous chat is not a misdelivery.
        chat = self.run.by_number.get(self.vars.get("number", ""))
        if chat is not None and msgs is not None:
            self.run.stats.check_list([m["body"] for m in msgs if m["sender_kind"] == "agent"], chat.name, at)
            for m in msgs:
                if m["sender_kind"] == "customer" and m["body"].startswith(f"{MARK}|"):
                    mid = m["body"].split("|")[1]
                    if m["status"] == "failed":
                        self.run.stats.fail(mid, m.get("error", ""))
                    elif m["status"] == "sent" and mid not in self.run.stats.acked:
                        self.run.stats.acked[mid] = at - float(m["body"].split("|")[2])

    async def life(self) -> None:
        run = self.run
        await self.load()
        await asyncio.sleep(random.uniform(0, max(run.args.ramp, run.args.interval)))
        while not run.stopping:
            self.round += 1
            queue_id = run.queue_ids[self.index % len(run.queue_ids)]
            chat = Chat(
                name=f"Load c{self.index} r{self.round} {uuid.uuid4().hex[:4]}",
                queue_id=queue_id,
                started_at=time.time(),
            )
            run.chats[chat.name] = chat
            self.chat = chat
            await self.send(
                "start_chat",
                {
                    "form": {
                        "name": chat.name,
                        "email": f"c{self.index}@load.example.com",
                        "queue_id": str(queue_id),
                        "question": "A load-test question",
                    }
                },
            )
            run.stats.chats_started += 1
            try:
                await self.wait_until(
                    lambda v: v.get("phase") in ("waiting", "chatting") or v.get("form_error"),
                    timeout=60,
                    what="the chat to start",
                )
                if self.vars.get("form_error"):
                    run.stats.errors[f"start_chat refused: {self.vars['form_error']}"] += 1
                    return
                await self.wait_until(
                    lambda v: v.get("phase") == "chatting" or run.stopping,
                    timeout=run.args.duration + 120,
                    what="an agent",
                )
            except AssertionError:
                run.stats.errors["customer never got an agent"] += 1
                return
            if run.stopping and self.vars.get("phase") != "chatting":
                return
            run.stats.queue_wait.append(time.time() - chat.started_at)
            for _ in range(chat_length(run.args.chat_messages)):
                if run.stopping:
                    break
                mid, body = run.stats.message_id("to_agent", chat)
                chat.sent_to_agent.add(mid)
                await self.send("send", {"form": {"body": body}})
                await asyncio.sleep(run.args.interval)
            chat.stop = True
            await run.settle(chat)
            await self.send("end_chat")
            try:
                await self.wait_until(lambda v: v.get("phase") == "ended", timeout=30, what="ended")
            except AssertionError:
                run.stats.errors["end_chat not confirmed"] += 1
            if run.stopping:
                return
            await self.send("new_chat")
            await asyncio.sleep(random.uniform(0.2, 1.0))


def chat_length(mean: int) -> int:
    """Customer messages in one chat: spread around ``mean`` so that chats started
    together do not all end together (real chats differ in length)."""
    return random.randint(max(1, mean // 2), max(1, mean + mean // 2))


class LoadAgent(AgentTab):
    record_history = False

    def __init__(self, run: Run, capacity: int):
        super().__init__()
        self.run = run
        self.capacity = capacity
        self.claim_started = 0.0
        self.known_tabs: set[int] = set()
        self.writers: dict[int, asyncio.Task] = {}
        self.closing: set[int] = set()

    def _on_update(self, update: dict, at: float) -> None:
        super()._on_update(update, at)
        last = self.last
        if "tabs" not in last and "slots" not in last:
            if self.claim_started and last.get("claiming_queue_id") == 0:
                self.claim_started = 0.0
            return
        for tab in self.vars.get("tabs", []):
            chat = self.run.chat_of(tab["customer_name"])
            if chat is None:
                continue
            messages = self.messages_of(tab)
            self.run.stats.check_list([m["body"] for m in messages if m["sender_kind"] == "customer"], chat.name, at)
            for m in messages:
                if m["sender_kind"] == "agent" and m["body"].startswith(f"{MARK}|"):
                    mid = m["body"].split("|")[1]
                    if m["status"] == "failed":
                        self.run.stats.fail(mid, m.get("error", ""))
            if tab["interaction_id"] not in self.known_tabs:
                self.known_tabs.add(tab["interaction_id"])
                chat.interaction_id = tab["interaction_id"]
                chat.accepted_at = at
                self.run.stats.chats_accepted += 1
                if self.claim_started:
                    self.run.stats.accept_latency.append(at - self.claim_started)
                    self.claim_started = 0.0
                self.writers[tab["interaction_id"]] = asyncio.get_running_loop().create_task(self.write(chat))
            if tab["customer_ended"] and tab["interaction_id"] not in self.closing:
                self.closing.add(tab["interaction_id"])
                asyncio.get_running_loop().create_task(self.close_when_settled(chat))
        if self.claim_started and last.get("claiming_queue_id") == 0:
            self.claim_started = 0.0  # the claim ended without a new tab: lost the race; look again

    async def write(self, chat: Chat) -> None:
        await asyncio.sleep(random.uniform(0, self.run.args.interval))
        while not chat.stop and not self.run.stopping:
            mid, body = self.run.stats.message_id("to_customer", chat)
            chat.sent_to_customer.add(mid)
            await self.send("send_message", {"form": {"interaction_id": str(chat.interaction_id), "body": body}})
            await asyncio.sleep(self.run.args.interval)

    async def close_when_settled(self, chat: Chat) -> None:
        await self.send("close_chat", {"interaction_id": chat.interaction_id})
        try:
            await self.wait_until(
                lambda v: chat.interaction_id not in {t["interaction_id"] for t in v.get("tabs", [])},
                timeout=30,
                what="closed",
            )
            self.run.stats.chats_closed += 1
        except AssertionError:
            self.run.stats.errors["close_chat not confirmed"] += 1

    async def life(self) -> None:
        await self.load()
        await self.go_available()
        while not self.run.stopping:
            v = self.vars
            open_tabs = len(v.get("tabs", []))
            if not v.get("claiming_queue_id") and not self.claim_started and open_tabs < self.capacity:
                cards = [c for c in v.get("inbox", []) if c["can_accept"]]
                cards.sort(key=lambda c: (not c["offered_to_me"], c["requested_at"]))
                if cards:
                    self.claim_started = time.time()
                    await self.send("accept", {"queue_id": cards[0]["queue_id"]})
            elif self.claim_started and time.time() - self.claim_started > 60:
                self.claim_started = 0.0
                self.run.stats.errors["claim without an answer for 60 s"] += 1
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), 0.5)
            except TimeoutError:
                pass


class Run:
    def __init__(self, args, ports: tuple[int, int]):
        self.args = args
        self.customer_port, self.agent_port = ports
        self.stats = Stats()
        self.chats: dict[str, Chat] = {}
        self.queue_ids: list[int] = []
        self.by_number: dict[str, Chat] = {}
        self.stopping = False

    def chat_of(self, name: str) -> Chat | None:
        return self.chats.get(name)

    async def settle(self, chat: Chat, timeout: float = 180) -> None:
        """Wait until everything sent in this chat arrived (or the timeout), before ending it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending = [
                m
                for m in chat.sent_to_agent | chat.sent_to_customer
                if m not in self.stats.delivered and m not in self.stats.failed
            ]
            if not pending:
                return
            await asyncio.sleep(0.1)
