"""One production build of the app per test session, on its own port and database.

Every end-to-end test shares the server and makes its own data (unique
customer names), so tests never depend on each other.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect
from sqlmodel import Session

from agent_workspace.config import PROJECT_ROOT
from agent_workspace.db import make_engine
from agent_workspace.services import auth, routing

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
expect.set_options(timeout=15_000)
ATTACHMENT_LIMIT = 256 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"the app did not answer {url} within {timeout:.0f} s")


class Mailbox:
    """A real SMTP server on 127.0.0.1 that keeps what it receives."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.port = _free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"

    def wait_for(self, subject: str, timeout: float = 15) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages:
                if message["Subject"] == subject:
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no email with subject {subject!r} arrived")


class RunningApp:
    def __init__(self, base_url: str, data_dir: Path, env: dict[str, str], mailbox: Mailbox):
        self.base_url = base_url
        self.data_dir = data_dir
        self.env = env
        self.mailbox = mailbox
        self.port = int(base_url.rsplit(":", 1)[1])
        self.process: subprocess.Popen | None = None

    # How the app is started, and the pages that say it is up (with how long each may take).
    def command(self) -> list[str]:
        return [
            "reflex",
            "run",
            "--env",
            "prod",
            "--single-port",
            "--frontend-port",
            str(self.port),
            "--backend-host",
            "127.0.0.1",
        ]

    ready = (("/api/health", 420), ("/login", 60))

    def start(self) -> None:
        log = open(self.data_dir / "server.log", "a")
        self.process = subprocess.Popen(
            self.command(), cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        for path, timeout in self.ready:
            _wait_healthy(f"{self.base_url}{path}", self.process, timeout=timeout)

    def stop(self, sig: int = 15) -> None:
        if self.process is None:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=20)
        self.process = None

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "agent_workspace.cli", *args],
            env=self.env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    data_dir = tmp_path_factory.mktemp("app-data")
    port = _free_port()
    mailbox = Mailbox()
    mailbox.controller.start()
    env = {
        **os.environ,
        "AW_DATA_DIR": str(data_dir),
        "AW_DATABASE_URL": f"sqlite:///{data_dir / 'e2e.db'}",
        "AW_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "AW_DELAYED_CLAIM_SECONDS": "1",
        "AW_ATTACHMENT_MAX_BYTES": str(ATTACHMENT_LIMIT),
        "AW_CHATS_PER_ADDRESS": "10000",  # every test customer comes from 127.0.0.1
        "AW_FILES_PER_ADDRESS_HOUR": "10000",  # likewise (the per-chat quotas stay as shipped)
        "AW_WIDGET_ORIGINS": f"http://localhost:{_free_port()}",  # tests/e2e/test_widget.py serves its host site there
        "AW_SMTP_HOST": "127.0.0.1",
        "AW_SMTP_PORT": str(mailbox.port),
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PATH": f"{PROJECT_ROOT / '.tools/node_modules/.bin'}:{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    env.pop("REFLEX_DB_URL", None)
    env.pop("REFLEX_REDIS_URL", None)
    app = RunningApp(f"http://127.0.0.1:{port}", data_dir, env, mailbox)
    for command in (["db", "upgrade"], ["seed"]):
        result = app.cli(*command)
        assert result.returncode == 0, result.stderr
    try:
        app.start()
        yield app
    except Exception:
        print((data_dir / "server.log").read_text()[-5000:])
        raise
    finally:
        app.stop()
        mailbox.controller.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator:
    """Make independent browser contexts (one per person; ``options`` such as a phone's
    touch screen); all closed after the test."""
    contexts: list[BrowserContext] = []

    def make(**options) -> BrowserContext:
        context = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, **options})
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def agent_page(new_context, base_url: str, username: str, password: str, *, available: bool = True) -> Page:
    page = new_context().new_page()
    sign_in(page, base_url, username, password)
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    if available:
        set_presence(page, "Available")
    return page


def set_presence(page: Page, label: str) -> None:
    page.get_by_label("Presence").click()
    page.get_by_role("option", name=label).click()
    expect(page.get_by_label("Presence")).to_contain_text(label)


def start_customer_chat(
    new_context, base_url: str, *, name: str, queue: str, question: str, email: str = "customer@example.com"
) -> Page:
    page = new_context().new_page()
    page.goto(f"{base_url}/chat")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("What do you need help with?").select_option(label=queue)
    # The topic's outlook arrives from the server and moves the form down: click Start chat
    # once it is there, or under load the click can land where the button was.
    expect(page.get_by_role("status", name="Availability")).to_be_visible()
    page.get_by_label("Your question").fill(question)
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("log", name="Conversation")).to_be_visible()
    return page


class World:
    """Creates this test's own queues and agents directly in the app's database."""

    def __init__(self, app: RunningApp):
        self.app = app
        self.engine = make_engine(app.env["AW_DATABASE_URL"])

    def queue(self, prefix: str = "Queue") -> str:
        name = unique(prefix)
        with Session(self.engine) as session:
            routing.create_queue(session, name=name)
        return name

    def agent(
        self,
        *,
        queues: list[str],
        capacity: int = 4,
        roles: tuple[str, ...] = ("workspace_user",),
        name: str | None = None,
    ) -> tuple[str, str]:
        username = f"agent{uuid.uuid4().hex[:8]}"
        password = "correct-horse-battery"
        with Session(self.engine) as session:
            auth.create_user(
                session,
                username=username,
                password=password,
                display_name=name or username.title(),
                roles=list(roles),
                capacity=capacity,
                queues=queues,
            )
        return username, password

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


@pytest.fixture
def world(app_server: RunningApp) -> Iterator[World]:
    world = World(app_server)
    yield world
    world.engine.dispose()


def close_chat(agent: Page) -> None:
    """Details › Close, confirmed: ends the current chat and saves its transcript to the record."""
    agent.get_by_role("button", name="Close", exact=True).click()
    agent.get_by_role("alertdialog", name="Close the chat and save its transcript?").get_by_role(
        "button", name="Close and save"
    ).click()


def end_chat(customer: Page) -> None:
    """The customer's End chat, confirmed."""
    customer.get_by_role("button", name="End chat", exact=True).click()
    customer.get_by_role("alertdialog", name="End this chat?").get_by_role("button", name="End chat now").click()
