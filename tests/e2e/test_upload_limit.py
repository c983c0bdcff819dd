"""Oversized uploads are refused before the server reads their body.

Over real HTTP against the running app: a declared length over the limit is
answered 413 without the body being sent at all, a chunked body is cut off
soon after the limit although the client would send far more, nothing is
stored; and in the browser the person uploading is told why. Every request
but the refused ones comes from a tab with a live websocket: a made-up
``reflex-client-token`` is refused first, and nothing is kept for it.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import httpx
import pytest
import reflex as rx
from playwright.sync_api import expect
from reflex.utils.format import format_event_handler
from sqlalchemy import func
from sqlmodel import select

from agent_workspace.models import Attachment, AuditLog
from agent_workspace.services.attachments import MULTIPART_OVERHEAD
from agent_workspace.state.customer import CustomerChatState
from agent_workspace.uploads import NOT_CONNECTED
from tests.e2e.conftest import ATTACHMENT_LIMIT
from tests.e2e.test_interaction_tools import chat_pair
from tests.e2e.ws_client import EventClient

BODY_LIMIT = ATTACHMENT_LIMIT + MULTIPART_OVERHEAD
HOSTILE_SIZE = 256 * 1024 * 1024  # what the client is prepared to send
CHUNK = 64 * 1024
BOUNDARY = "aw-upload-limit-test"
HANDLER = format_event_handler(CustomerChatState.upload)
HYDRATE = format_event_handler(rx.State.event_handlers["hydrate"])


@pytest.fixture
def tab(app_server) -> Iterator[EventClient]:
    """A tab with its websocket connected: the only kind of token the upload endpoint serves."""
    client = EventClient(app_server.base_url)
    yield client
    client.close()


def _stored(world) -> tuple[int, int, int]:
    """Attachment rows, upload audit rows and files on disk."""
    with world.session() as session:
        rows = session.exec(select(func.count()).select_from(Attachment)).one()
        audited = session.exec(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "attachment.uploaded")
        ).one()
    folder = world.app.data_dir / "attachments"
    files = len(list(folder.iterdir())) if folder.exists() else 0
    return rows, audited, files


def _multipart_head() -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()


def test_a_declared_length_over_the_limit_is_refused_before_any_body_is_sent(app_server, world, tab):
    before = _stored(world)
    with socket.create_connection(("127.0.0.1", app_server.port), timeout=10) as conn:
        conn.sendall(
            (
                "POST /_upload HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{app_server.port}\r\n"
                f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                f"Content-Length: {HOSTILE_SIZE}\r\n"
                f"Reflex-Client-Token: {tab.token}\r\n"
                f"Reflex-Event-Handler: {HANDLER}\r\n\r\n"
            ).encode()
        )
        # Not one byte of the body is sent: the answer cannot wait for it.
        answer = conn.makefile("rb").read()
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"413"
    assert b"Upload too large" in rest
    assert _stored(world) == before


def test_a_token_no_websocket_holds_is_refused_and_nothing_is_kept_for_it(app_server, world):
    made_up, before = str(uuid.uuid4()), _stored(world)
    with socket.create_connection(("127.0.0.1", app_server.port), timeout=10) as conn:
        conn.sendall(
            (
                "POST /_upload HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{app_server.port}\r\n"
                f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                f"Content-Length: {HOSTILE_SIZE}\r\n"
                f"Reflex-Client-Token: {made_up}\r\n"
                f"Reflex-Event-Handler: {HANDLER}\r\n\r\n"
            ).encode()
        )
        answer = conn.makefile("rb").read()
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"403"
    assert NOT_CONNECTED.encode() in rest
    assert _stored(world) == before
    # Had the refusal been written into a state for that token, a tab connecting with it now would be handed it.
    late = EventClient(app_server.base_url, token=made_up)
    try:
        mark = late.mark()
        late.send(HYDRATE, path="/chat")
        late.drain()
        hydrated: dict = {}
        for delta in late.deltas[mark:]:
            hydrated.update(delta.get(CustomerChatState.get_full_name(), {}))
    finally:
        late.close()
    assert hydrated.get("upload_error_rx_state_") == ""  # a fresh state, not one the POST made


def test_a_chunked_body_is_cut_off_soon_after_the_limit(app_server, world, tab):
    before = _stored(world)
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        head = _multipart_head()
        sent += len(head)
        yield head
        while sent < HOSTILE_SIZE:
            sent += CHUNK
            yield b"x" * CHUNK

    # No Content-Length: httpx sends the generator with Transfer-Encoding: chunked.
    response = httpx.post(
        f"{app_server.base_url}/_upload",
        content=body(),
        headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Reflex-Client-Token": tab.token,
            "Reflex-Event-Handler": HANDLER,  # a real one, so Reflex starts reading the form
        },
        timeout=30,
    )
    assert response.status_code == 413
    assert "Upload too large" in response.text
    # The server stopped reading near the limit; what the client got out beyond
    # that sits in socket buffers, a small part of what it meant to send.
    assert sent < HOSTILE_SIZE // 4, sent
    assert _stored(world) == before


def test_an_upload_within_the_limit_passes_the_guard(app_server, tab):
    """Control: the guard lets a connected tab's normal upload reach Reflex (which asks for its handler)."""
    response = httpx.post(
        f"{app_server.base_url}/_upload",
        files={"files": ("small.txt", b"hello\n", "text/plain")},
        headers={"Reflex-Client-Token": tab.token},
        timeout=30,
    )
    assert response.status_code == 400 and "reflex-event-handler" in response.text.lower()


def test_the_person_uploading_is_told_why(app_server, world, new_context, tmp_path):
    _queue, agent, customer, _name = chat_pair(app_server, world, new_context)
    before = _stored(world)
    huge = tmp_path / "huge.txt"
    huge.write_text("x" * (4 * BODY_LIMIT))

    agent.get_by_role("button", name="Add attachment").click()
    agent.locator("#attachments input[type=file]").set_input_files(huge)
    agent.get_by_role("button", name="Upload", exact=True).click()
    expect(agent.get_by_role("dialog").get_by_role("alert")).to_contain_text(
        "Upload too large: the limit is 0.3 MB per upload."
    )

    customer.locator("#customer-attachments input[type=file]").set_input_files(huge)
    customer.get_by_role("button", name="Upload files").click()
    expect(customer.get_by_role("alert")).to_contain_text("Upload too large")

    expect(agent.get_by_role("log", name="Conversation").get_by_role("link", name="huge.txt")).to_have_count(0)
    assert _stored(world) == before
