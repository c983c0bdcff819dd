"""The simplest correct Reflex chat between two clients.

Two pages, ``/a`` and ``/b``. Each tab registers its client token under its
side on load. Sending a message stores it in SQLite (off the event loop), adds
it to the sender's list and, once the sender's event has released its state
lock, pushes it into the other side's state with ``app.modify_state``: the
same shape as the calibration prototype in the Reflex guide, with nothing
else (no auth, no read model, no typing indicator). One worker process only:
the side -> token map lives in memory.
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
_peers: dict[str, str] = {}  # side -> client token
_tasks: set[asyncio.Task] = set()
_db_lock = threading.Lock()
_db: sqlite3.Connection | None = None


def _insert(side: str, body: str) -> int:
    global _db
    with _db_lock:
        if _db is None:
            _db = sqlite3.connect(DB_PATH, check_same_thread=False)
            _db.execute("PRAGMA journal_mode=WAL")
            _db.execute("PRAGMA synchronous=NORMAL")
            _db.execute("CREATE TABLE IF NOT EXISTS message (id INTEGER PRIMARY KEY, side TEXT, body TEXT)")
        with _db:
            return _db.execute("INSERT INTO message (side, body) VALUES (?, ?)", (side, body)).lastrowid


@dataclasses.dataclass
class Msg:
    id: int = 0
    side: str = ""
    body: str = ""


class ChatState(rx.State):
    side: str = ""
    messages: list[Msg] = []

    @rx.event
    def join(self, side: str):
        self.side = "a" if side == "a" else "b"
        _peers[self.side] = self.router.session.client_token

    @rx.event
    async def send(self, form: dict):
        body = str(form.get("body", "")).strip()
        if not body or not self.side:
            return
        msg = Msg(id=await asyncio.to_thread(_insert, self.side, body), side=self.side, body=body)
        self.messages = [*self.messages, msg]
        peer = _peers.get("b" if self.side == "a" else "a")
        if peer:
            task = asyncio.get_running_loop().create_task(_deliver(peer, msg))
            _tasks.add(task)
            task.add_done_callback(_tasks.discard)


async def _deliver(token: str, msg: Msg) -> None:
    async with app.modify_state(rx.BaseStateToken(ident=token, cls=ChatState)) as root:
        state = await root.get_state(ChatState)
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
