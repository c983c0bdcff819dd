"""The minimal push app's clients for ``bench/load.py --baseline``: the same chats as the app's.

Each chat is a pair of tabs of ``bench/minimal_app``: side ``a`` (the customer's) and side ``b`` (the
agent's), each its own websocket, joined to a new pair id per chat. Both sides write one message every
``--interval`` seconds; the customer's side writes ``chat_length`` messages, both stop, wait until what
they sent arrived and the pair starts its next chat after 0.2-1 s, as the app's customers do. The
ledger (``Stats``) and its checks are the app's: delivered means shown in the other side's list.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid

import reflex as rx
from reflex.utils import format

from bench.load_clients import MARK, Chat, Run, chat_length
from tests.scaleout.protocol import WsClient

# ChatState's name as Reflex derives it (reflex.state.BaseState.get_name), without importing the
# minimal app into the generator: module minimal_chat.minimal_chat, class ChatState, under rx.State.
STATE = f"{rx.State.get_full_name()}.{format.to_snake_case('minimal_chat___minimal_chat___ChatState')}"


class MinimalTab:
    """One side of one pair at a time, tracking what its page would show."""

    def __init__(self, run: Run, side: str):
        self.run = run
        self.side = side
        self.vars: dict = {}
        self.changed = asyncio.Event()
        self.client = WsClient(on_update=self._on_update)

    def _on_update(self, update: dict, at: float) -> None:
        values = {k.removesuffix("_rx_state_"): v for k, v in ((update.get("delta") or {}).get(STATE) or {}).items()}
        if not values:
            return
        self.vars.update(values)
        self.changed.set()
        chat = self.run.chats.get(self.vars.get("pair", ""))
        messages = values.get("messages")
        if chat is None or messages is None:
            return
        self.run.stats.check_list([m["body"] for m in messages if m["side"] != self.side], chat.name, at)
        for m in messages:
            if m["side"] == self.side and m["body"].startswith(f"{MARK}|"):
                mid = m["body"].split("|")[1]
                if mid not in self.run.stats.acked:
                    self.run.stats.acked[mid] = at - float(m["body"].split("|")[2])

    async def send(self, method: str, payload: dict) -> None:
        await self.client.send(f"{STATE}.{method}", payload)

    async def join(self, chat: Chat) -> None:
        """What the page's on_load does, with this chat's pair id; until the page shows the pair."""
        await self.send("join", {"side": self.side, "pair": chat.name})
        deadline = time.monotonic() + 60
        while self.vars.get("pair") != chat.name:
            if time.monotonic() > deadline:
                raise AssertionError(f"side {self.side} never joined {chat.name!r}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), 0.5)
            except TimeoutError:
                pass

    async def say(self, chat: Chat) -> None:
        direction = "to_agent" if self.side == "a" else "to_customer"
        mid, body = self.run.stats.message_id(direction, chat)
        (chat.sent_to_agent if self.side == "a" else chat.sent_to_customer).add(mid)
        await self.send("send", {"form": {"body": body}})


class MinimalPair:
    def __init__(self, run: Run, index: int):
        self.run = run
        self.index = index
        self.round = 0
        self.a = MinimalTab(run, "a")
        self.b = MinimalTab(run, "b")

    async def connect(self, port: int) -> None:
        await asyncio.gather(self.a.client.connect(port, path="/a"), self.b.client.connect(port, path="/b"))

    async def life(self) -> None:
        run = self.run
        await asyncio.sleep(random.uniform(0, max(run.args.ramp, run.args.interval)))
        while not run.stopping:
            self.round += 1
            chat = Chat(
                name=f"Pair {self.index} r{self.round} {uuid.uuid4().hex[:4]}", queue_id=0, started_at=time.time()
            )
            run.chats[chat.name] = chat
            try:
                await asyncio.gather(self.a.join(chat), self.b.join(chat))
            except AssertionError as error:
                run.stats.errors[str(error)[:40]] += 1
                return
            run.stats.chats_started += 1
            run.stats.chats_accepted += 1
            writer = asyncio.create_task(self.agent_writes(chat))
            for _ in range(chat_length(run.args.chat_messages)):
                if run.stopping:
                    break
                await self.a.say(chat)
                await asyncio.sleep(run.args.interval)
            chat.stop = True
            await run.settle(chat)
            writer.cancel()  # it sends nothing once chat.stop is set: at most it is sleeping
            run.stats.chats_closed += 1
            await asyncio.sleep(random.uniform(0.2, 1.0))

    async def agent_writes(self, chat: Chat) -> None:
        """The agent's side: from a random moment in the first interval, one message per interval."""
        await asyncio.sleep(random.uniform(0, self.run.args.interval))
        while not chat.stop and not self.run.stopping:
            await self.b.say(chat)
            await asyncio.sleep(self.run.args.interval)

    async def close(self) -> None:
        await asyncio.gather(self.a.client.close(), self.b.client.close())
