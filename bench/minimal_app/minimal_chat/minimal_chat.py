"""The simplest correct Reflex chat between pairs of clients.

Two pages, ``/a`` and ``/b``. Each tab joins a side of a pair on load
(``join(side, pair)``; the pages join the pair ``""``, ``bench/load.py``
joins many pairs over the websocket and a new pair when a chat ends).
Sending a message stores it in SQLite (off the event loop), adds it to the
sender's list and, once the sender's event has released its state lock,
pushes it into the other side's state with ``app.modify_state``: the same
shape as the calibration prototype in the Reflex guide, with nothing else
(no auth, no read model, no typing indicator). One worker process only: the
(pair, side) -> token map lives in memory.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sqlite3
import tempfile
import threading

import reflex as rx

DB_PATH = os.environ.get("MINIMAL_CHAT_DB") or os.path.join(tempfile.gettempdir(), "minimal_chat.db")
_peers: dict[tuple[str, str], str] = {}  # (pair, side) -> client token
_tasks: set[asyncio.Task] = set()
_db_lock = threading.Lock()
_db: sqlite3.Connection | None = None


def _insert(pair: str, side: str, body: str) -> int:
    global _db
    with _db_lock:
        if _db is None:
            _db = sqlite3.connect(DB_PATH, check_same_thread=False)
            _db.execute("PRAGMA journal_mode=WAL")
            _db.execute("PRAGMA synchronous=NORMAL")
            _db.execute("CREATE TABLE IF NOT EXISTS message (id INTEGER PRIMARY KEY, pair TEXT, side TEXT, body TEXT)")
        with _db:
            return _db.execute("INSERT INTO message (pair, side, body) VALUES (?, ?, ?)", (pair, side, body)).lastrowid


@dataclasses.dataclass
class Msg:
    id: int = 0
    side: str = ""
    body: str = ""


class ChatState(rx.State):
    side: str = ""
    pair: str = ""
    messages: list[Msg] = []

    @rx.event
    def join(self, side: str, pair: str = ""):
        """Take one side of a pair, with an empty conversation: leaving the previous pair first."""
        token = self.router.session.client_token
        if _peers.get((self.pair, self.side)) == token:
            del _peers[(self.pair, self.side)]
        self.side = "a" if side == "a" else "b"
        self.pair = str(pair)[:100]
        self.messages = []
        _peers[(self.pair, self.side)] = token

    @rx.event
    async def send(self, form: dict):
        body = str(form.get("body", "")).strip()
        if not body or not self.side:
            return
        msg = Msg(id=await asyncio.to_thread(_insert, self.pair, self.side, body), side=self.side, body=body)
        self.messages = [*self.messages, msg]
        peer = _peers.get((self.pair, "b" if self.side == "a" else "a"))
        if peer:
            task = asyncio.get_running_loop().create_task(_deliver(peer, self.pair, msg))
            _tasks.add(task)
            task.add_done_callback(_tasks.discard)


async def _deliver(token: str, pair: str, msg: Msg) -> None:
    async with app.modify_state(rx.BaseStateToken(ident=token, cls=ChatState)) as root:
        state = await root.get_state(ChatState)
        if state.pair == pair:  # the peer may have moved on to a new pair meanwhile
            state.messages = [*state.messages, msg]


def chat_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Side ", rx.text.span(ChatState.side, id="side")),
        rx.vstack(
            rx.foreach(
                ChatState.messages,
                lambda m: rx.box(rx.text(m.side, weight="bold", size="1"), rx.text(m.body, size="2")),
            ),
            role="log",
            aria_label="Conversation",
        ),
        rx.form(
            rx.hstack(
                rx.el.label("Message", html_for="message"),
                rx.input(id="message", name="body", auto_complete="off"),
                rx.button("Send", type="submit"),
            ),
            on_submit=ChatState.send,
            reset_on_submit=True,
        ),
        padding="16px",
    )


app = rx.App()
app.add_page(chat_page, route="/a", on_load=ChatState.join("a"))
app.add_page(chat_page, route="/b", on_load=ChatState.join("b"), title="b")
