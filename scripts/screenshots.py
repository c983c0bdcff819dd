"""Screenshots of the main screens for the README, taken from the running app with demo data.

Usage: .venv/bin/python scripts/screenshots.py   (writes docs/screenshots/*.png)

Starts its own production build on a free port with a fresh demo database,
plays a short scene (a customer asks, an agent accepts and answers, opens
Agent Assist, closes the chat and finds its record again, a supervisor looks), and saves one picture per screen.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 420) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="aw-shots-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "AW_DATA_DIR": str(data),
        "AW_DATABASE_URL": f"sqlite:///{data / 'demo.db'}",
        "AW_PUBLIC_URL": base,
        "REFLEX_USE_SYSTEM_BUN": "1",
        "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run(
            [sys.executable, "-m", "agent_workspace.cli", *command], env=env, cwd=ROOT, check=True, capture_output=True
        )
    server = subprocess.Popen(
        [
            "reflex",
            "run",
            "--env",
            "prod",
            "--single-port",
            "--frontend-port",
            str(port),
            "--backend-host",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(f"{base}/api/health")
        wait_for(f"{base}/login")
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            size = {"viewport": {"width": 1360, "height": 860}}
            agent = browser.new_context(**size).new_page()
            agent.goto(f"{base}/login")
            agent.screenshot(path=OUT / "login.png")
            agent.get_by_label("Username").fill("alice")
            agent.get_by_label("Password").fill("alice-demo-pass")
            agent.get_by_role("button", name="Sign in").click()
            expect(agent.get_by_role("heading", name="Inbox")).to_be_visible()

            # Nobody on duty yet: the customer is told so before and after starting.
            early = browser.new_context(viewport={"width": 420, "height": 820}).new_page()
            early.goto(f"{base}/chat")
            early.get_by_label("Your name").fill("Tomás Ruiz")
            early.get_by_label("Email").fill("tomas@example.com")
            early.get_by_label("What do you need help with?").select_option(label="Billing")
            expect(early.get_by_role("status", name="Availability")).to_contain_text("Nobody from Billing")
            early.screenshot(path=OUT / "customer-nobody-available.png")
            early.get_by_label("Your question").fill("I was charged twice for my December invoice")
            early.get_by_role("button", name="Start chat").click()
            expect(early.get_by_role("button", name="Keep waiting")).to_be_visible()
            early.screenshot(path=OUT / "customer-waiting-nobody.png")
            early.get_by_role("button", name="Leave a message").click()
            early.get_by_label("Your message").fill("Please refund the second charge of 49.00 EUR.")
            early.screenshot(path=OUT / "customer-leave-message.png")
            early.get_by_role("button", name="Send message").click()
            expect(early.get_by_role("heading", name="Thanks, we got your message")).to_be_visible()

            # A queue outside its business hours says when it is back, in the visitor's time zone.
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "agent_workspace.cli",
                    "queue",
                    "hours",
                    "--name",
                    "General Support",
                    "--weekly",
                    "Mon-Fri 08:00-18:00",
                    "--time-zone",
                    "Europe/Berlin",
                    "--closures",
                    f"{time.strftime('%Y-%m-%d')}..{time.strftime('%Y-%m-%d', time.gmtime(time.time() + 86400))}",
                    "--message",
                    "Our team is at the winter meetup today and tomorrow.",
                ],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            closed = browser.new_context(
                viewport={"width": 420, "height": 820}, timezone_id="America/New_York"
            ).new_page()
            closed.goto(f"{base}/chat")
            closed.get_by_label("What do you need help with?").select_option(label="General Support")
            expect(closed.get_by_role("status", name="Availability")).to_contain_text(
                "is closed right now", timeout=15_000
            )
            closed.screenshot(path=OUT / "customer-closed.png")

            agent.get_by_label("Presence").click()
            agent.get_by_role("option", name="Available").click()

            customer = browser.new_context(viewport={"width": 420, "height": 820}).new_page()
            customer.goto(f"{base}/chat")
            customer.get_by_label("Your name").fill("Priya Natarajan")
            customer.get_by_label("Email").fill("priya@example.com")
            customer.get_by_label("What do you need help with?").select_option(label="Technical Support")
            customer.get_by_label("Your question").fill("My VPN disconnects every few minutes since this morning")
            customer.screenshot(path=OUT / "customer-prechat.png")
            customer.get_by_role("button", name="Start chat").click()
            expect(agent.get_by_test_id("inbox-card")).to_be_visible()
            agent.screenshot(path=OUT / "inbox.png")

            agent.get_by_role("button", name="Accept").first.click()
            expect(agent.get_by_role("tab", name="Priya Natarajan")).to_be_visible()
            agent.get_by_label("Message").fill("Hi Priya, I'm Alice. Which VPN client are you using?")
            agent.get_by_role("button", name="Send").click()
            customer.get_by_label("Message").fill("The company GlobalProtect client, on Windows 11.")
            customer.get_by_role("button", name="Send", exact=True).click()
            expect(agent.get_by_role("log", name="Conversation")).to_contain_text("GlobalProtect")
            agent.screenshot(path=OUT / "interaction.png")
            customer.screenshot(path=OUT / "customer-chat.png")

            agent.get_by_role("tab", name="Agent Assist").click()
            expect(agent.get_by_test_id("assist-result").first).to_be_visible()
            agent.screenshot(path=OUT / "agent-assist.png")

            # Details › Close saves the history; the record is found again from the Interactions list.
            agent.get_by_role("tab", name="Details").click()
            agent.get_by_role("button", name="Close", exact=True).click()
            expect(agent.get_by_role("tab", name="Priya Natarajan")).to_have_count(0)
            with agent.context.expect_page() as opened:  # the lists open beside the Inbox
                agent.get_by_role("navigation", name="Sections").get_by_role(
                    "link", name="Interactions (opens in a new tab)"
                ).click()
            agent = opened.value
            agent.set_viewport_size(size["viewport"])
            agent.get_by_label("Search by number, customer or words").fill("VPN")
            agent.get_by_label("Search by number, customer or words").press("Enter")
            table = agent.get_by_role("table", name="Interactions")
            expect(table.get_by_role("row").filter(has_text="Priya Natarajan")).to_be_visible()
            agent.screenshot(path=OUT / "interactions.png")
            table.get_by_role("row").filter(has_text="Priya Natarajan").get_by_role("link").first.click()
            expect(agent.get_by_role("log", name="Conversation")).to_contain_text("GlobalProtect")
            agent.screenshot(path=OUT / "interaction-record.png")

            supervisor = browser.new_context(**size).new_page()
            supervisor.goto(f"{base}/login")
            supervisor.get_by_label("Username").fill("sam")
            supervisor.get_by_label("Password").fill("sam-demo-pass")
            supervisor.get_by_role("button", name="Sign in").click()
            expect(supervisor.get_by_role("heading", name="Inbox")).to_be_visible()
            supervisor.goto(f"{base}/supervisor")
            expect(supervisor.get_by_role("table", name="Queues today")).to_be_visible()
            supervisor.screenshot(path=OUT / "supervisor.png", full_page=False)
            browser.close()
        print(f"screenshots written to {OUT.relative_to(ROOT)}/")
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
