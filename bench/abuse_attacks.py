"""The attacks of ``bench/abuse.py``, each run in its own process.

An attacker process gets the app's port, handler names and queue ids, gets its
sockets ready (a chat to send in, ...), reports ``ready``, waits for ``go``,
then attacks for a fixed time at fixed rates (never unbounded: every loop is
paced) from other loopback addresses than the legitimate customer's. Sockets
the server closes are reconnected and counted. It reports a tally at the end.
Its own process, so that parsing what the server sends back to it (a refused
1 MB field echoed in every delta) costs the attacker, not the legitimate
pair's measurements.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.abuse_kit import AGENT_USERNAME, LEGIT_QUEUE, PUBLIC_QUEUE, Tab, chat_form
from tests.scaleout.protocol import ProtocolError

ATTACKER_ADDRESS = "127.0.0.2"
# "1 MB": the largest field one event carries under Reflex's default 1,000,000-byte packet limit
# (a larger packet only gets the socket closed, before any handler runs).
MEGABYTE = "x" * 990_000
ERROR_VARS = ("form_error", "error", "upload_error")  # a refusal shows in one of these
UPLOAD_ERROR = re.compile(r'"upload_error(?:_rx_state_)?"\s*:\s*"[^"]')


@dataclass
class Plan:
    """What an attacker process is given."""

    attack: str
    port: int
    names: dict[str, str]
    queue_ids: dict[str, int]
    seconds: float
    tabs: int = 200  # many-tabs
    upload_files: int = 50  # upload-flood: files per request


@dataclass
class Tally:
    sent: int = 0  # events (uploads: files) the attacker got out
    refused: int = 0  # answers that carried an error message (HTTP: a status other than 200)
    disconnects: int = 0  # sockets the server closed (each reconnected)
    send_failures: int = 0
    requests: int = 0  # upload-flood: HTTP requests
    statuses: dict[str, int] = field(default_factory=dict)  # upload-flood: HTTP answers
    note: str = ""


class AttackTab(Tab):
    """A tab that counts refusals as they arrive."""

    def __init__(self, plan: Plan, tally: Tally, states: tuple[str, ...], path: str):
        super().__init__(plan.names, states, path)
        self.tally = tally

    def _on_update(self, update: dict, at: float) -> None:
        super()._on_update(update, at)
        if any(self.last.get(var) for var in ERROR_VARS):
            self.tally.refused += 1


class Attacker:
    """One hostile socket that comes back when the server closes it."""

    def __init__(
        self,
        plan: Plan,
        tally: Tally,
        *,
        states=("customer",),
        path="/chat",
        bind=ATTACKER_ADDRESS,
        prepare: Callable[[Tab], Awaitable[None]] | None = None,
    ):
        self.plan, self.tally, self.states, self.path, self.bind, self.prepare = (
            plan,
            tally,
            states,
            path,
            bind,
            prepare,
        )
        self.tab: AttackTab | None = None

    async def ensure(self) -> AttackTab:
        if self.tab is None or self.tab.closed:
            if self.tab is not None:
                self.tally.disconnects += 1
                await self.tab.close()
            self.tab = AttackTab(self.plan, self.tally, self.states, self.path)
            await self.tab.connect(self.plan.port, bind=self.bind)
            if self.prepare is not None:
                await self.prepare(self.tab)
        return self.tab

    async def send(self, handler: str, payload: dict | None = None) -> None:
        try:
            tab = await self.ensure()
            await tab.send(handler, payload)
            self.tally.sent += 1
        except (TimeoutError, ProtocolError, OSError):
            self.tally.send_failures += 1
            await asyncio.sleep(0.2)  # the server is refusing connections: try again shortly

    async def close(self) -> None:
        if self.tab is not None:
            await self.tab.close()


async def paced(interval: float, until: float, step: Callable[[], Awaitable[None]]) -> None:
    """Call ``step`` every ``interval`` seconds until ``until`` (monotonic); a late step is not made up."""
    next_at = time.monotonic()
    while time.monotonic() < until:
        await step()
        next_at += interval
        delay = next_at - time.monotonic()
        if delay <= 0:
            next_at = time.monotonic()
        await asyncio.sleep(max(0.0, delay))


def public_chat(plan: Plan, name: str, queue: str = PUBLIC_QUEUE) -> Callable[[Tab], Awaitable[None]]:
    """Prepare a socket with a chat of its own (waiting in ``queue``), as a visitor would have."""

    async def prepare(tab: Tab) -> None:
        await tab.send("customer.on_load")
        await tab.send("customer.start_chat", chat_form(name, plan.queue_ids[queue]))
        await tab.wait_until(lambda v: v.get("phase") in ("waiting", "chatting") or v.get("form_error"))

    return prepare


# ---------------------------------------------------------------- the attacks: (ready, attack) pairs


async def oversized_start(plan: Plan, tally: Tally, go: Callable[[], Awaitable[float]]) -> None:
    """3 sockets: start_chat with a 1 MB name, every 50 ms each."""
    sockets = [Attacker(plan, tally) for _ in range(3)]
    for s in sockets:
        await s.ensure()
    until = await go()
    form = chat_form(MEGABYTE, plan.queue_ids[PUBLIC_QUEUE])
    await asyncio.gather(*(paced(0.05, until, lambda s=s: s.send("customer.start_chat", form)) for s in sockets))
    await asyncio.gather(*(s.close() for s in sockets))


async def oversized_send(plan: Plan, tally: Tally, go) -> None:
    """1 socket: send a 1 MB body every 100 ms, in a chat it started."""
    s = Attacker(plan, tally, prepare=public_chat(plan, "Oversized sender"))
    await s.ensure()
    until = await go()
    await paced(0.1, until, lambda: s.send("customer.send", {"form": {"body": MEGABYTE}}))
    if s.tab is not None:  # a refused message shows as Failed in the tab, not as an error var
        tally.refused += sum(1 for m in s.tab.vars.get("messages", []) if m.get("status") == "failed")
    await s.close()


async def refused_flood(plan: Plan, tally: Tally, go) -> None:
    """An anonymous socket calling a protected agent handler every 5 ms, and one cycling
    start/end/new chat every 20 ms, beyond the per-address budget of chats."""
    protected = Attacker(plan, tally)
    starter = Attacker(plan, tally)
    await protected.ensure()
    await starter.ensure()
    until = await go()
    form = chat_form("Budget prober", plan.queue_ids[PUBLIC_QUEUE])

    async def cycle() -> None:
        for handler, payload in (
            ("customer.start_chat", form),
            ("customer.end_chat", None),
            ("customer.new_chat", None),
        ):
            await starter.send(handler, payload)

    await asyncio.gather(
        paced(0.005, until, lambda: protected.send("workspace.set_presence", {"label": "Available"})),
        paced(0.02, until, cycle),
    )
    await asyncio.gather(protected.close(), starter.close())


async def typing_flood(plan: Plan, tally: Tally, go) -> None:
    """A customer in a live chat with the legitimate agent (it accepts the chat before
    the unattacked measurement) sends ``typing`` every 5 ms."""
    s = Attacker(plan, tally, prepare=public_chat(plan, "Typing flooder", queue=LEGIT_QUEUE))
    tab = await s.ensure()
    until = await go()  # the legitimate agent has accepted the chat by now
    if tab.vars.get("phase") != "chatting":
        tally.note = f"phase {tab.vars.get('phase')!r} when the flood began"
    await paced(0.005, until, lambda: s.send("customer.typing"))
    await s.close()


async def upload_flood(plan: Plan, tally: Tally, go) -> None:
    """Two request loops, each posting ``upload_files`` small text files to Reflex's
    upload endpoint every 100 ms, as the page does, for the attacker's own chat."""
    import httpx

    s = Attacker(plan, tally, prepare=public_chat(plan, "Upload flooder"))
    await s.ensure()
    files = [
        ("files", (f"note-{i}.txt", f"attachment {i}\n".encode() * 32, "text/plain")) for i in range(plan.upload_files)
    ]
    transport = httpx.AsyncHTTPTransport(local_address=ATTACKER_ADDRESS)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://127.0.0.1:{plan.port}", timeout=30) as http:
        until = await go()

        async def post() -> None:
            tab = await s.ensure()
            headers = {"Reflex-Client-Token": tab.client.token, "Reflex-Event-Handler": plan.names["customer.upload"]}
            try:
                response = await http.post("/_upload", files=files, headers=headers)
                answer = str(response.status_code)
                # Reflex answers 200 with the handler's deltas: a refusal is an upload error among them.
                tally.refused += response.status_code != 200 or bool(UPLOAD_ERROR.search(response.text))
                tally.sent += len(files)
            except httpx.HTTPError as error:
                answer = type(error).__name__
                tally.send_failures += 1
            tally.statuses[answer] = tally.statuses.get(answer, 0) + 1
            tally.requests += 1

        await asyncio.gather(paced(0.1, until, post), paced(0.1, until, post))
    tally.note = f"{tally.requests} requests of {plan.upload_files} files; HTTP {tally.statuses}"
    await s.close()


async def login_lockout(plan: Plan, tally: Tally, go) -> None:
    """Wrong passwords for the legitimate agent's username, every 100 ms, from another address."""
    s = Attacker(plan, tally, states=("login",), path="/login")
    await s.ensure()
    until = await go()
    form = {"form": {"username": AGENT_USERNAME, "password": "not-the-password"}}
    await paced(0.1, until, lambda: s.send("login.login", form))
    await s.close()


async def many_tabs(plan: Plan, tally: Tally, go) -> None:
    """``tabs`` anonymous tabs from 20 addresses, 10 a second: each hydrates, loads the
    page and starts a chat, and stays open until the end."""
    until = await go()
    tabs: list[Attacker] = []

    async def open_one() -> None:
        if len(tabs) >= plan.tabs:
            return
        s = Attacker(plan, tally, bind=f"127.0.1.{len(tabs) % 20 + 1}")
        tabs.append(s)
        await s.send("hydrate")
        await s.send("customer.on_load")
        await s.send("customer.start_chat", chat_form(f"Tab {len(tabs)}", plan.queue_ids[PUBLIC_QUEUE]))

    await paced(0.1, until, open_one)
    tally.disconnects += sum(1 for s in tabs if s.tab is not None and s.tab.closed)
    tally.note = f"{len(tabs)} tabs"
    await asyncio.gather(*(s.close() for s in tabs))


ATTACKS: dict[str, Callable] = {
    "oversized-start": oversized_start,
    "oversized-send": oversized_send,
    "refused-flood": refused_flood,
    "typing-flood": typing_flood,
    "upload-flood": upload_flood,
    "login-lockout": login_lockout,
    "many-tabs": many_tabs,
}


def run_attacker(plan: Plan, pipe) -> None:
    """The attacker process: ``ready`` → wait for ``go`` → attack for ``plan.seconds`` → tally."""

    async def main() -> Tally:
        tally = Tally()

        async def go() -> float:
            pipe.send("ready")
            await asyncio.to_thread(pipe.recv)
            return time.monotonic() + plan.seconds

        await ATTACKS[plan.attack](plan, tally, go)
        return tally

    try:
        pipe.send(asyncio.run(main()))
    except Exception as error:  # noqa: BLE001 - reported to the lead process, which prints it
        pipe.send(f"attacker failed: {type(error).__name__}: {error}")
