"""Oversized uploads are refused before the server reads their body.

Over real HTTP against the running app: a declared length over the limit is
answered 413 without the body being sent at all, a chunked body is cut off
soon after the limit although the client would send far more, nothing is
stored; and in the browser the person uploading is told why.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import httpx
from playwright.sync_api import expect
from reflex.utils.format import format_event_handler
from sqlalchemy import func
from sqlmodel import select

from agent_workspace.models import Attachment, AuditLog
from agent_workspace.services.attachments import MULTIPART_OVERHEAD
from agent_workspace.state.customer import CustomerChatState
from tests.e2e.conftest import ATTACHMENT_LIMIT
from tests.e2e.test_interaction_tools import chat_pair

BODY_LIMIT = ATTACHMENT_LIMIT + MULTIPART_OVERHEAD
HOSTILE_SIZE = 256 * 1024 * 1024  # what the client is prepared to send
CHUNK = 64 * 1024
BOUNDARY = "aw-upload-limit-test"
HANDLER = format_event_handler(CustomerChatState.upload)


def _stored(world) -> tuple[int, int, int]:
    """Attachment rows, upload audit rows and files on disk."""
    with world.session() as session:
        rows = session.exec(select(func.count()).select_from(Attachment)).one()
        audited = session.exec(select(func.count()).select_from(AuditLog).where(AuditLog.action == "attachment.uploaded")).one()
    folder = world.app.data_dir / "attachments"
    files = len(list(folder.iterdir())) if folder.exists() else 0
    return rows, audited, files


def _multipart_head() -> bytes:
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.txt\"\r\n"
        "Content-Type: text/plain\r\n\r\n"
    ).encode()


def test_a_declared_length_over_the_limit_is_refused_before_any_body_is_sent(app_server, world):
    before = _stored(world)
    with socket.create_connection(("127.0.0.1", app_server.port), timeout=10) as conn:
        conn.sendall(
            (
                "POST /_upload HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{app_server.port}\r\n"
                f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                f"Content-Length: {HOSTILE_SIZE}\r\n"
                f"Reflex-Client-Token: {uuid.uuid4()}\r\n"
                f"Reflex-Event-Handler: {HANDLER}\r\n\r\n"
            ).encode()
        )
        # Not one byte of the body is sent: the answer cannot wait for it.
        answer = conn.makefile("rb").read()
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"413"
    assert b"Upload too large" in rest
    assert _stored(world) == before


def test_a_chunked_body_is_cut_off_soon_after_the_limit(app_server, world):
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
            "Reflex-Client-Token": str(uuid.uuid4()),
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


def test_an_upload_within_the_limit_passes_the_guard(app_server):
    """Control: the guard lets a normal upload reach Reflex (which asks for its headers)."""
    response = httpx.post(
        f"{app_server.base_url}/_upload",
        files={"files": ("small.txt", b"hello\n", "text/plain")},
        timeout=30,
    )
    assert response.status_code == 400 and "reflex-client-token" in response.text.lower()


def test_the_person_uploading_is_told_why(app_server, world, new_context, tmp_path):
    _queue, agent, customer, _name = chat_pair(app_server, world, new_context)
    before = _stored(world)
    huge = tmp_path / "huge.txt"
    huge.write_text("x" * (4 * BODY_LIMIT))

    agent.get_by_role("button", name="Add attachment").click()
    agent.locator("#attachments input[type=file]").set_input_files(huge)
    agent.get_by_role("button", name="Upload", exact=True).click()
    expect(agent.get_by_role("dialog").get_by_role("alert")).to_contain_text("Upload too large: the limit is 0.3 MB per upload.")

    customer.locator("#customer-attachments input[type=file]").set_input_files(huge)
    customer.get_by_role("button", name="Upload files").click()
    expect(customer.get_by_role("alert")).to_contain_text("Upload too large")

    expect(agent.get_by_role("log", name="Conversation").get_by_role("link", name="huge.txt")).to_have_count(0)
    assert _stored(world) == before
