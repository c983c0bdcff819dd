"""Upload quotas over real HTTP and the websocket: counted before anything is stored.

A customer's tab (a bare websocket client, as an attacker would have) starts
a chat; its uploads go through Reflex's upload endpoint the way the page sends
them. The attachment rows and the files in the app's attachment folder are
counted before and after every upload; and in a real browser the customer is
told why an upload was refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import expect
from reflex.utils.format import format_event_handler
from sqlalchemy import func
from sqlmodel import select

from agent_workspace.models import Attachment, Interaction, Message, Queue, SenderKind
from agent_workspace.state.customer import CustomerChatState
from tests.e2e.conftest import start_customer_chat, unique
from tests.e2e.ws_client import USER_AGENT, EventClient

HANDLER = format_event_handler(CustomerChatState.upload)
PER_UPLOAD, PER_HOUR = 5, 10  # as shipped (AW_FILES_PER_UPLOAD, AW_FILES_PER_CHAT_HOUR)


def _stored(world) -> tuple[int, int]:
    """Attachment rows, and files of any name in the app's attachment folder."""
    with world.session() as session:
        rows = session.exec(select(func.count()).select_from(Attachment)).one()
    folder = world.app.data_dir / "attachments"
    return rows, len(list(folder.iterdir())) if folder.exists() else 0


def _files(count: int, prefix: str = "note") -> list[tuple[str, bytes]]:
    mark = uuid.uuid4().hex[:6]
    return [(f"{prefix}-{mark}-{n}.txt", f"{prefix} {mark} {n}\n".encode()) for n in range(count)]


@dataclass
class Tab:
    client: EventClient
    chat_key: str


def _upload(app_server, tab: Tab, files: list[tuple[str, bytes]]) -> httpx.Response:
    return httpx.post(
        f"{app_server.base_url}/_upload",
        files=[("files", (name, data, "text/plain")) for name, data in files],
        headers={"Reflex-Client-Token": tab.client.token, "Reflex-Event-Handler": HANDLER, "User-Agent": USER_AGENT},
        timeout=30,
    )


@pytest.fixture
def customer(app_server, world) -> Iterator[Tab]:
    """A tab with a chat started over the websocket (waiting in a queue nobody serves)."""
    queue_name, name = world.queue("Uploads"), unique("Uploader")
    with world.session() as session:
        queue_id = session.exec(select(Queue.id).where(Queue.name == queue_name)).one()
    client = EventClient(app_server.base_url)
    form = {"name": name, "email": "uploader@example.com", "queue_id": str(queue_id), "question": "Files"}
    client.send(CustomerChatState.start_chat, {"form": form}, path="/chat")
    client.drain()
    chat_key = client.latest(CustomerChatState).get("chat_key")
    assert chat_key, client.latest(CustomerChatState)
    yield Tab(client, chat_key)
    client.close()


def _messages(world, tab: Tab) -> list[str]:
    """What the customer has posted in the chat."""
    with world.session() as session:
        chat = session.exec(select(Interaction).where(Interaction.public_id == tab.chat_key)).one()
        query = select(Message.body).where(
            Message.interaction_id == chat.id, Message.sender_kind == SenderKind.CUSTOMER
        )
        return list(session.exec(query.order_by(Message.id)))


def test_a_body_of_many_files_is_cut_off_with_nothing_stored(app_server, world, customer):
    before = _stored(world)
    mark = customer.client.mark()
    response = _upload(app_server, customer, _files(300))
    assert response.status_code == 413
    assert response.text == f"Too many files: at most {PER_UPLOAD} per upload. Send the others in another upload."
    # The page drops error answers of uploads: the tab is told over its websocket.
    customer.client.wait_for_value(CustomerChatState, "upload_error", response.text, after=mark)
    assert _stored(world) == before
    assert _messages(world, customer) == []


def test_one_file_too_many_is_refused_before_any_is_read(app_server, world, customer):
    before = _stored(world)
    response = _upload(app_server, customer, _files(PER_UPLOAD + 1))  # within the endpoint's cheap cap
    assert response.status_code == 200  # the handler's answer streams back on the upload's response
    assert f"Too many files: at most {PER_UPLOAD} per upload (you chose {PER_UPLOAD + 1})." in response.text
    assert _stored(world) == before


def test_the_hourly_quota_holds_and_says_so(app_server, world, customer):
    before_rows, before_files = _stored(world)
    for batch in range(PER_HOUR // PER_UPLOAD):
        response = _upload(app_server, customer, _files(PER_UPLOAD, f"batch{batch}"))
        assert response.status_code == 200
        assert _stored(world) == (before_rows + PER_UPLOAD * (batch + 1), before_files + PER_UPLOAD * (batch + 1))

    response = _upload(app_server, customer, _files(1, "over"))
    assert f"You can send {PER_HOUR} files an hour: try again later." in response.text
    assert _stored(world) == (before_rows + PER_HOUR, before_files + PER_HOUR)
    sent = _messages(world, customer)
    assert len(sent) == PER_HOUR and all(body.startswith("Sent a file: batch") for body in sent)


def test_a_refused_file_leaves_nothing_on_disk(app_server, world, customer):
    before = _stored(world)
    response = _upload(app_server, customer, [("invoice.pdf", b"MZ\x90\x00 not a pdf at all")])
    assert response.status_code == 200 and "invoice.pdf" in response.text
    assert _stored(world) == before


def test_the_customer_is_told_in_the_page(app_server, world, new_context, tmp_path):
    queue = world.queue("Upload page")
    customer = start_customer_chat(
        new_context, app_server.base_url, name=unique("Picker"), queue=queue, question="Files"
    )
    before = _stored(world)
    chosen = []
    for n in range(PER_UPLOAD + 1):
        path = tmp_path / f"picked-{n}.txt"
        path.write_text(f"picked {n}\n")
        chosen.append(path)

    customer.locator("#customer-attachments input[type=file]").set_input_files(chosen)
    customer.get_by_role("button", name="Upload files").click()
    expect(customer.get_by_role("alert")).to_contain_text(f"Too many files: at most {PER_UPLOAD} per upload")
    assert _stored(world) == before
