"""The chat widget on another site: the README's snippet pasted into pages
served from a second origin (the app on 127.0.0.1, the host site on localhost:
two sites, so the chat runs in a third-party iframe), under a strict CSP."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import select

from agent_workspace.config import PROJECT_ROOT
from agent_workspace.models import Queue
from agent_workspace.widget_api import LAUNCHER_CACHE_SECONDS
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, agent_page, unique
from tests.e2e.test_accessibility import AXE
from tests.e2e.test_interaction_tools import accept_chat

SHOTS = Path("/tmp/shots")
README_SNIPPET = re.search(
    r'<script src="https://support\.example\.com/widget\.js"[^>]*></script>', (PROJECT_ROOT / "README.md").read_text()
).group(0)


class HostSite:
    """A customer's website: two pages carrying the widget's snippet, and a page
    that frames the chat without being allowed to."""

    def __init__(self, port: int, app_url: str):
        self.url = f"http://localhost:{port}"
        self.pages: dict[str, str] = {}
        self.csp = (
            f"default-src 'self'; script-src {app_url}; frame-src {app_url}; connect-src {app_url}; style-src 'self'"
        )
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = site.pages.get(self.path.split("?")[0])
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Security-Policy", site.csp)
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page_with_snippet(self, path: str, heading: str, snippet: str) -> str:
        self.pages[path] = (
            f"<!doctype html><html lang='en'><head><meta name='viewport' content='width=device-width, initial-scale=1'><title>{heading} · Shop</title></head>"
            f"<body><main><h1>{heading}</h1><p><a href='/'>Home</a> <a href='/delivery'>Delivery</a></p></main>{snippet}</body></html>"
        )
        return self.url + path


def _port_of(origins: str) -> int:
    return int(origins.split()[0].rsplit(":", 1)[1])


# Shipped Chrome (like Firefox and Safari) gives a third-party frame storage of
# its own, partitioned by the top-level site; Playwright turns that off
# (microsoft/playwright#32230), which leaves the frame no storage at all. The
# last --disable-features wins: Playwright's list without ThirdPartyStoragePartitioning.
AS_SHIPPED = [
    *CHROMIUM_ARGS,
    "--disable-features=AvoidUnnecessaryBeforeUnloadCheckSync,DestroyProfileOnBrowserClose,MediaRouter,PaintHolding,HttpsUpgrades",
]


@pytest.fixture(scope="module")
def shipped_browser(playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=AS_SHIPPED)
    yield browser
    browser.close()


@pytest.fixture
def new_context(shipped_browser) -> Iterator:
    """conftest's ``new_context``, in the browser as shipped."""
    contexts: list[BrowserContext] = []

    def make(**options) -> BrowserContext:
        context = shipped_browser.new_context(**{"viewport": {"width": 1280, "height": 800}, **options})
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def host_site(app_server) -> Iterator[HostSite]:
    site = HostSite(_port_of(app_server.env["AW_WIDGET_ORIGINS"]), app_server.base_url)
    yield site
    site.server.shutdown()


def _snippet(app_url: str, queue_id: int) -> str:
    return README_SNIPPET.replace("https://support.example.com", app_url).replace(
        'data-queue="3"', f'data-queue="{queue_id}"'
    )


def _queue_id(world, name: str) -> int:
    with world.session() as session:
        return session.exec(select(Queue.id).where(Queue.name == name)).one()


def _launchers_say(app_server, queue_id: int, status: str) -> None:
    """Wait until the launchers' shared read of the queues (at most
    LAUNCHER_CACHE_SECONDS old) knows what this test just made of a queue."""
    deadline = time.monotonic() + LAUNCHER_CACHE_SECONDS + 5
    while True:
        url = f"{app_server.base_url}/api/widget/availability?queue={queue_id}&page={uuid.uuid4()}"  # a launcher each: no budget spent out
        try:
            with urllib.request.urlopen(url) as answer:
                if json.load(answer)["status"] == status:
                    return
        except urllib.error.HTTPError as refusal:
            assert refusal.code == 404, refusal  # a queue the shared read does not hold yet
        assert time.monotonic() < deadline, f"the launchers never said {status!r}"
        time.sleep(0.25)


def launcher(page: Page):
    return page.get_by_role("button", name=re.compile("^Chat with us"))


def panel(page: Page):
    return page.get_by_role("dialog", name="Chat with us")


def chat_frame(page: Page):
    return page.frame_locator("aw-chat-widget iframe")


def _axe_violations(target) -> list[str]:
    """axe-core run by the test driver (the host page's CSP would refuse an injected script)."""
    target.evaluate(f"() => {{ {AXE}\n }}")
    result = target.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']}: {v['help']} — {[(n['target'], n.get('failureSummary', '')[:200]) for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_a_visitor_chats_from_another_site_and_finds_the_chat_after_reload_and_navigation(
    app_server, world, new_context, host_site
):
    queue = world.queue("Widget")
    username, password = world.agent(queues=[queue], name=unique("Agent"))
    agent = agent_page(new_context, app_server.base_url, username, password)
    _launchers_say(app_server, _queue_id(world, queue), "available")
    snippet = _snippet(app_server.base_url, _queue_id(world, queue))
    home = host_site.page_with_snippet("/", "Welcome to the shop", snippet)
    delivery = host_site.page_with_snippet("/delivery", "Delivery times", snippet)

    visitor = new_context().new_page()
    console: list[str] = []
    visitor.on("console", lambda message: console.append(message.text))
    visitor.goto(home)
    expect(visitor.get_by_role("status", name="Support availability")).to_contain_text("An agent is available now.")
    SHOTS.mkdir(exist_ok=True)
    visitor.screenshot(path=SHOTS / "widget-desktop-closed.png")

    launcher(visitor).click()
    expect(panel(visitor)).to_be_visible()
    frame = chat_frame(visitor)
    expect(frame.get_by_label("What do you need help with?")).to_have_value(str(_queue_id(world, queue)))  # data-queue
    expect(frame.get_by_label("Your name")).to_be_focused()  # focus moved into the panel
    name = unique("Visitor")
    frame.get_by_label("Your name").fill(name)
    frame.get_by_label("Email").fill("visitor@example.com")
    frame.get_by_label("Your question").fill("Where is my parcel?")
    frame.get_by_role("button", name="Start chat").click()
    expect(frame.get_by_role("log", name="Conversation")).to_be_visible()
    accept_chat(agent, name)
    agent.get_by_label("Message").fill("Hello from the agent")
    agent.get_by_role("button", name="Send").click()
    expect(frame.get_by_role("log", name="Conversation")).to_contain_text("Hello from the agent")
    frame.get_by_label("Message").fill("Thanks, it is order 42")
    frame.get_by_role("button", name="Send").click()
    expect(agent.get_by_role("log", name="Conversation")).to_contain_text("Thanks, it is order 42")
    visitor.screenshot(path=SHOTS / "widget-desktop-open.png")

    # Reload: open as left, every message there.
    visitor.reload()
    expect(panel(visitor)).to_be_visible()
    log = chat_frame(visitor).get_by_role("log", name="Conversation")
    expect(log).to_contain_text("Hello from the agent")
    expect(log).to_contain_text("Thanks, it is order 42")

    # Escape inside the chat collapses the panel and gives focus back to the launcher.
    chat_frame(visitor).get_by_label("Message").press("Escape")
    expect(panel(visitor)).to_be_hidden()
    expect(launcher(visitor)).to_be_focused()

    # Another page of the site: collapsed as left; an agent message shows as unread.
    visitor.goto(delivery)
    expect(launcher(visitor)).to_be_visible()
    expect(panel(visitor)).to_be_hidden()
    agent.get_by_label("Message").fill("Your parcel leaves today")
    agent.get_by_role("button", name="Send").click()
    expect(launcher(visitor)).to_have_accessible_name("Chat with us (1 unread)")
    expect(visitor.locator("aw-chat-widget .badge")).to_have_text("1")
    launcher(visitor).click()
    log = chat_frame(visitor).get_by_role("log", name="Conversation")
    for text in ("Hello from the agent", "Thanks, it is order 42", "Your parcel leaves today"):
        expect(log).to_contain_text(text)
    expect(launcher(visitor)).to_have_accessible_name("Chat with us")
    assert not [line for line in console if "Content Security Policy" in line], (
        console
    )  # the host's strict CSP let it all run

    # A file the agent sends downloads inside the panel (its cookie is the frame's).
    agent.get_by_role("button", name="Add attachment").click()
    agent.locator("#attachments input[type=file]").set_input_files(
        files=[{"name": "label.txt", "mimeType": "text/plain", "buffer": b"parcel 42\n"}]
    )
    agent.get_by_role("button", name="Upload", exact=True).click()
    with visitor.expect_download() as download:
        log.get_by_role("link", name="label.txt").click()
    assert Path(download.value.path()).read_bytes() == b"parcel 42\n"
    assert _axe_violations(visitor.frame(url=re.compile(r"/widget/?\?"))) == [], (
        "the chat in the panel, its link visited"
    )
    assert _axe_violations(visitor) == [], "host page with the widget open"


def test_the_panel_is_full_screen_on_a_phone_and_follows_dark_mode(app_server, world, new_context, host_site):
    queue = world.queue("Widget")
    _launchers_say(app_server, _queue_id(world, queue), "nobody")
    home = host_site.page_with_snippet("/phone", "Phone shop", _snippet(app_server.base_url, _queue_id(world, queue)))
    phone = new_context(
        viewport={"width": 390, "height": 844}, color_scheme="dark", is_mobile=True, has_touch=True
    ).new_page()
    phone.goto(home)
    expect(phone.get_by_role("status", name="Support availability")).to_contain_text(
        "Nobody from"
    )  # no agent in this queue
    phone.screenshot(path=SHOTS / "widget-mobile-closed.png")
    launcher(phone).click()
    expect(chat_frame(phone).get_by_role("button", name="Start chat")).to_be_visible()
    box = panel(phone).bounding_box()
    assert box == {"x": 0, "y": 0, "width": 390, "height": 844}
    phone.screenshot(path=SHOTS / "widget-mobile-open.png")
    phone.get_by_role("button", name="Minimize chat").click()
    expect(panel(phone)).to_be_hidden()
    expect(launcher(phone)).to_be_focused()


def test_only_the_named_sites_may_frame_the_chat(app_server, new_context, host_site):
    allowed = app_server.env["AW_WIDGET_ORIGINS"]
    with urllib.request.urlopen(app_server.base_url + "/widget") as response:
        assert response.headers["Content-Security-Policy"] == f"frame-ancestors 'self' {allowed}"
    for path in ("/chat", "/workspace", "/login", "/supervisor"):
        with urllib.request.urlopen(app_server.base_url + path) as response:
            assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'", path
            assert response.headers["X-Frame-Options"] == "DENY", path

    # Another site (same host name, another port: another origin) frames it anyway.
    intruder = HostSite(0, app_server.base_url)
    try:
        intruder.url = f"http://localhost:{intruder.server.server_address[1]}"
        intruder.pages["/"] = (
            f"<!doctype html><title>Intruder</title><iframe title='chat' src='{app_server.base_url}/widget'></iframe>"
        )
        page = new_context().new_page()
        with page.expect_response(f"{app_server.base_url}/widget") as framed:
            page.goto(intruder.url + "/")
        assert "frame-ancestors 'self' " in framed.value.headers["content-security-policy"]
        expect(page.frame_locator("iframe").get_by_role("button", name="Start chat")).to_have_count(0)
        child = page.frames[1]
        expect(page.locator("iframe")).to_be_attached()
        assert child.url.startswith("chrome-error://") or child.url == "about:blank", child.url
    finally:
        intruder.server.shutdown()


def test_where_the_frame_gets_no_storage_the_panel_offers_the_chat_in_a_tab_of_its_own(
    app_server, world, browser, host_site
):
    """Playwright's default Chromium gives a third-party frame no storage at all
    (like a browser blocking all third-party storage): the app cannot run there."""
    queue_id = _queue_id(world, world.queue("Widget"))
    home = host_site.page_with_snippet("/blocked", "No storage", _snippet(app_server.base_url, queue_id))
    context = browser.new_context()
    try:
        visitor = context.new_page()
        visitor.goto(home)
        launcher(visitor).click()
        own_tab = panel(visitor).get_by_role("link", name="Open the chat in a new tab")
        expect(own_tab).to_be_visible()
        expect(own_tab).to_be_focused()  # the visitor opened the panel: focus goes where they can act
        expect(visitor.locator("aw-chat-widget iframe")).to_be_hidden()  # not the app's error page
        with context.expect_page() as opened:
            own_tab.click()
        expect(opened.value.get_by_label("What do you need help with?")).to_have_value(
            str(queue_id)
        )  # the snippet's queue
    finally:
        context.close()


# Records, in the host page and in the frame, what the widget's two halves tell each other.
HEARD = """window.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.source === "aw-widget" && data.type === "ready") window.__awReady = true;
  if (data.probe) window.__awProbed = true;
});"""


def test_a_panel_restored_open_after_a_reload_leaves_the_focus_on_the_host_page(
    app_server, world, new_context, host_site
):
    snippet = _snippet(app_server.base_url, _queue_id(world, world.queue("Widget")))
    host_site.pages["/search"] = (
        "<!doctype html><html lang='en'><head><title>Search · Shop</title></head><body><main><h1>Search</h1>"
        f"<input aria-label='Search the shop' autofocus></main>{snippet}</body></html>"
    )
    visitor = new_context().new_page()
    visitor.add_init_script(HEARD)
    visitor.goto(host_site.url + "/search")
    launcher(visitor).click()
    expect(chat_frame(visitor).get_by_label("Your name")).to_be_focused()

    visitor.reload()
    expect(panel(visitor)).to_be_visible()
    visitor.wait_for_function("() => window.__awReady === true")
    # Messages from one window to another arrive in order: once this probe is
    # heard in the frame, anything the host sent it when it was ready was too.
    visitor.evaluate(
        "() => document.querySelector('aw-chat-widget').shadowRoot.querySelector('iframe').contentWindow.postMessage({ probe: 1 }, '*')"
    )
    visitor.frame(url=re.compile(r"/widget/?\\?")).wait_for_function("() => window.__awProbed === true")
    expect(visitor.get_by_label("Search the shop")).to_be_focused()


def test_a_host_page_without_crypto_random_uuid_still_gets_its_launcher(app_server, world, new_context, host_site):
    """Plain-http host pages are no secure context: crypto.randomUUID is missing there."""
    queue_id = _queue_id(world, world.queue("Widget"))
    _launchers_say(app_server, queue_id, "nobody")
    home = host_site.page_with_snippet("/plain", "Plain http", _snippet(app_server.base_url, queue_id))
    visitor = new_context().new_page()
    visitor.add_init_script("if (window.top === window) delete Crypto.prototype.randomUUID;")
    visitor.goto(home)
    expect(launcher(visitor)).to_be_visible()
    expect(visitor.get_by_role("status", name="Support availability")).to_contain_text(
        "Leave us a message."
    )  # polled with its page id


def test_a_link_in_the_widget_opens_in_a_new_tab_and_markup_stays_text(app_server, world, new_context, host_site):
    queue = world.queue("Widget")
    username, password = world.agent(queues=[queue], name=unique("Agent"))
    agent = agent_page(new_context, app_server.base_url, username, password)
    _launchers_say(app_server, _queue_id(world, queue), "available")
    home = host_site.page_with_snippet("/links", "Links", _snippet(app_server.base_url, _queue_id(world, queue)))
    visitor = new_context().new_page()
    visitor.goto(home)
    launcher(visitor).click()
    frame = chat_frame(visitor)
    name = unique("Visitor")
    frame.get_by_label("Your name").fill(name)
    frame.get_by_label("Email").fill("visitor@example.com")
    frame.get_by_label("Your question").fill("Where are the delivery terms?")
    frame.get_by_role("button", name="Start chat").click()
    accept_chat(agent, name)
    agent.get_by_label("Message").fill("They are at https://example.com/terms <b>in bold</b>")
    agent.get_by_role("button", name="Send", exact=True).click()
    log = frame.get_by_role("log", name="Conversation")
    link = log.get_by_role("link", name="https://example.com/terms")
    expect(link).to_have_attribute("href", "https://example.com/terms")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link).to_have_attribute("target", "_blank")
    expect(log).to_contain_text("<b>in bold</b>")
    expect(log.locator("b")).to_have_count(0)


def test_end_chat_in_the_panel_asks_first_and_escape_keeps_the_panel_open(app_server, world, new_context, host_site):
    """The confirmation's Escape belongs to the dialog: it cancels, and does not collapse the panel."""
    queue = world.queue("Widget")
    username, password = world.agent(queues=[queue], name=unique("Agent"))
    agent = agent_page(new_context, app_server.base_url, username, password)
    queue_id = _queue_id(world, queue)
    _launchers_say(app_server, queue_id, "available")
    home = host_site.page_with_snippet("/end", "Ending", _snippet(app_server.base_url, queue_id))
    visitor = new_context().new_page()
    visitor.goto(home)
    launcher(visitor).click()
    frame = chat_frame(visitor)
    name = unique("Visitor")
    frame.get_by_label("Your name").fill(name)
    frame.get_by_label("Email").fill("visitor@example.com")
    frame.get_by_label("Your question").fill("Bye soon")
    frame.get_by_role("button", name="Start chat").click()
    accept_chat(agent, name)
    end = frame.get_by_role("button", name="End chat", exact=True)
    end.click()
    dialog = frame.get_by_role("alertdialog", name="End this chat?")
    expect(dialog.get_by_role("button", name="End chat now")).to_be_focused()
    visitor.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(panel(visitor)).to_be_visible()
    expect(end).to_be_focused()
    end.click()
    expect(dialog.get_by_role("button", name="End chat now")).to_be_focused()
    visitor.keyboard.press("Enter")
    expect(frame.get_by_text("This chat has ended.")).to_be_visible()
    expect(agent.get_by_text("The customer ended the chat. Complete the Details and Close.")).to_be_visible()
