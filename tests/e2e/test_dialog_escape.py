"""Escape closes every dialog of the workspace (and the customer's End chat) in the
browser, at once, and gives the focus back to the control that opened it.

A dialog the server opened (a state var) used to wait for the server to answer its
close: here the server's frames are held back while Escape is pressed, so only a
close made in the browser passes; they are let through after, and the dialog stays
closed. The time from the key to the dialog gone is measured in the page and
printed (``pytest -s``)."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Locator, Page, WebSocketRoute, expect

from tests.e2e.conftest import agent_page, start_customer_chat, unique
from tests.e2e.test_interaction_tools import accept_chat

EVENT_SOCKET = re.compile(r"/_event")
SHOTS = "/tmp/shots-keys"

# Resolves with the milliseconds from Escape's keydown to the dialog marked closed
# (Radix's data-state) and to the dialog gone from the page (after its exit animation).
WATCH_ESCAPE = """() => {
  window.__escape = new Promise((resolve) => {
    let start = 0, closing = 0;
    const dialog = () => document.querySelector("[role=dialog], [role=alertdialog]");
    const observer = new MutationObserver(() => {
      if (!start) return;
      const shown = dialog();
      if (!closing && (!shown || shown.dataset.state === "closed")) closing = performance.now() - start;
      if (!shown) {
        observer.disconnect();
        resolve({ closing: Math.round(closing), gone: Math.round(performance.now() - start) });
      }
    });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true });
    window.addEventListener("keydown", (e) => { if (e.key === "Escape") start = performance.now(); },
      { capture: true, once: true });
  });
}"""


class Held:
    """A context's websocket, relayed; while ``holding``, the server's frames wait, in
    order, until ``release`` sends them on (nothing is lost)."""

    def __init__(self, context: BrowserContext):
        self.holding = False
        self._waiting: list[tuple[WebSocketRoute, str | bytes]] = []
        context.route_web_socket(EVENT_SOCKET, self._route)

    def _route(self, page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()
        page_side.on_message(server_side.send)
        server_side.on_message(lambda message: self._from_server(page_side, message))

    def _from_server(self, page_side: WebSocketRoute, message: str | bytes) -> None:
        if self.holding:
            self._waiting.append((page_side, message))
        else:
            page_side.send(message)

    def release(self) -> None:
        self.holding = False
        waiting, self._waiting = self._waiting, []
        for page_side, message in waiting:
            page_side.send(message)


def _held(new_context, lines: dict[int, Held]):
    def make() -> BrowserContext:
        context = new_context()
        lines[id(context)] = Held(context)
        return context

    return make


def _escape(page: Page, held: Held, dialog: Locator, opener: Locator, what: str) -> dict:
    """Escape with the server's answers held back: the dialog goes, the opener has the focus."""
    expect(dialog).to_be_visible()
    page.evaluate(WATCH_ESCAPE)
    held.holding = True
    page.keyboard.press("Escape")
    timing = page.evaluate("window.__escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    held.release()
    expect(dialog).to_be_hidden()  # the server, heard at last, agrees
    expect(opener).to_be_focused()
    print(f"{what}: closed after {timing['closing']} ms, gone after {timing['gone']} ms")
    return timing


def test_escape_closes_each_dialog_in_the_browser_and_focus_goes_back(app_server, world, new_context):
    lines: dict[int, Held] = {}
    held_context = _held(new_context, lines)
    base = app_server.base_url
    queue = world.queue()
    username, password = world.agent(queues=[queue], name=unique("Agent"))
    name = unique("Cust")
    customer = start_customer_chat(held_context, base, name=name, queue=queue, question="Escape, please")
    agent = agent_page(held_context, base, username, password)
    accept_chat(agent, name)
    on_agent, on_customer = lines[id(agent.context)], lines[id(customer.context)]

    close = agent.get_by_role("button", name="Close", exact=True)
    close.click()
    _escape(agent, on_agent, agent.get_by_role("alertdialog"), close, "Details › Close")

    for label, title in (
        ("Transfer to queue", "Transfer to another queue"),
        ("Transfer to agent", "Transfer to another agent"),
        ("Add attachment", "Add attachment"),
    ):
        button = agent.get_by_role("button", name=label)
        button.click()
        _escape(agent, on_agent, agent.get_by_role("dialog", name=title), button, label)

    more = agent.get_by_role("button", name="More options")
    more.click()
    agent.get_by_role("menuitem", name="Send email").click()
    email = agent.get_by_role("dialog", name="Send email")
    expect(email).to_be_visible()
    agent.screenshot(path=f"{SHOTS}/email-dialog.png", animations="disabled")
    _escape(agent, on_agent, email, more, "Send email")

    close_tab = agent.get_by_role("button", name=f"Close tab {name}")
    close_tab.click()
    _escape(
        agent, on_agent, agent.get_by_role("alertdialog", name="End the chat without saving?"), close_tab, "Close tab"
    )

    waiting = unique("Waiting")
    start_customer_chat(held_context, base, name=waiting, queue=queue, question="Reject me")
    agent.get_by_role("tab", name=re.compile("^Inbox")).click()
    reject = agent.get_by_test_id("inbox-card").filter(has_text=waiting).get_by_role("button", name="Reject")
    reject.click()
    _escape(agent, on_agent, agent.get_by_role("dialog", name="Reject chat"), reject, "Reject")

    end = customer.get_by_role("button", name="End chat", exact=True)
    end.click()
    _escape(customer, on_customer, customer.get_by_role("alertdialog", name="End this chat?"), end, "End chat")

    # Nothing was done behind the dialogs: the chat goes on, on both sides.
    agent.get_by_role("tab", name=name).click()
    agent.get_by_label("Message").fill("Still with you")
    agent.get_by_label("Message").press("Enter")
    expect(customer.get_by_role("log", name="Conversation")).to_contain_text("Still with you")
