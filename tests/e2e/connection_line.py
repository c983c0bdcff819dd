"""A page's websocket, under the test's hand (test_connection_loss, test_connection_states).

The browser's offline emulation fails new connections but leaves an open
websocket open, so every websocket goes through Playwright
(``route_web_socket``): a cut closes it and goes offline, single frames can be
lost exactly when a test means to, and the server can be unreachable while the
page itself still loads.
"""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, WebSocketRoute, expect

EVENT_SOCKET = re.compile(r"/_event")
RAW_TOAST = re.compile("Cannot connect to server")
RECONNECTING = "Reconnecting… your messages will be sent"


class Line:
    """A context's websockets, relayed to the server until ``cut`` closes them and
    takes the context offline (Reflex's reconnects then fail, as on a lost
    network). ``losing`` drops the page's frames that hold it and ``deaf`` the
    server's, until the next cut. ``server_gone`` closes them with the context
    online: the page loads, its websockets are taken and never answered, as by a
    server that does not answer, until ``server_back``."""

    def __init__(self, context: BrowserContext):
        self._context = context
        self._open: list[tuple[WebSocketRoute, WebSocketRoute]] = []
        self._unanswered: list[WebSocketRoute] | None = None  # None: the server is there
        self.losing: str | None = None
        self.deaf = False
        context.route_web_socket(EVENT_SOCKET, self._route)

    def _route(self, page_side: WebSocketRoute) -> None:
        if self._unanswered is not None:  # not relayed: the page waits for the server's first frame
            self._unanswered.append(page_side)
            return
        server_side = page_side.connect_to_server()  # fails while the context is offline
        page_side.on_message(lambda message: self._to_server(server_side, message))
        server_side.on_message(lambda message: None if self.deaf else page_side.send(message))
        self._open.append((page_side, server_side))

    def _to_server(self, server_side: WebSocketRoute, message: str | bytes) -> None:
        if self.losing and isinstance(message, str) and self.losing in message:
            return
        server_side.send(message)

    def _close_all(self) -> None:
        self.losing, self.deaf = None, False
        sockets, self._open = self._open, []
        for page_side, server_side in sockets:
            server_side.close()
            page_side.close()

    def cut(self) -> None:
        self._context.set_offline(True)
        self._close_all()

    def restore(self) -> None:
        self._context.set_offline(False)

    def server_gone(self) -> None:
        self._unanswered = []
        self._close_all()

    def server_back(self) -> None:
        """New websockets reach the server again. A try already waiting is given up
        only at socket.io's 20 s connect timeout (a close before the server's first
        frame goes unnoticed), and the page's next try gets through."""
        waiting, self._unanswered = self._unanswered or [], None
        for page_side in waiting:
            page_side.close()


def lined(new_context, lines: list[Line]):
    """A ``new_context`` whose contexts each get a Line, appended to ``lines`` in the order made."""

    def make() -> BrowserContext:
        context = new_context()
        lines.append(Line(context))
        return context

    return make


def send(page: Page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_label("Message").press("Enter")


def pending(page: Page):
    return page.get_by_role("list", name="Waiting to be sent").get_by_role("listitem")


def banner(page: Page):
    return page.get_by_role("status", name="Connection")


def bodies(page: Page, texts: list[str]) -> list[str]:
    """The conversation's bubbles that hold one of ``texts``, in order, each as often as shown."""
    shown = page.get_by_role("log", name="Conversation").get_by_test_id("message").all_inner_texts()
    return [text for bubble in shown for text in texts if text in bubble]


def down(page: Page) -> None:
    # A reconnect that hangs (no answer, not refused) is given up at socket.io's 20 s connect timeout.
    expect(banner(page)).to_have_attribute("data-socket", "down", timeout=45_000)
    expect(banner(page)).to_contain_text(RECONNECTING)
    expect(page.get_by_text(RAW_TOAST)).to_have_count(0)


def back(page: Page) -> None:
    expect(banner(page)).to_have_text("")
    expect(pending(page)).to_have_count(0)
