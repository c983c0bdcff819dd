"""The server's side of a page's outbox (assets/outbox.js): a message comes with
the client id the page gave it, and the page may send it again after a lost
connection or a reload, so a send is taken once per client id."""

from __future__ import annotations

import uuid

from agent_workspace.services.conversations import CLIENT_ID_PATTERN
from agent_workspace.state.views import MessageView

TAKEN_KEPT = 20  # the page drops a pending text once its id is listed here


def client_id(form: object) -> str:
    """The page's id for this message; a fresh one for a send without a valid id
    (such a send cannot be repeated, so it needs no dedupe)."""
    value = form.get("client_id") if isinstance(form, dict) else None
    if isinstance(value, str) and CLIENT_ID_PATTERN.match(value):
        return value
    return uuid.uuid4().hex


def held(messages: list[MessageView], client_id: str) -> bool:
    """Whether the page's message is already in this conversation (stored,
    being stored, or failed with Retry): sending it again changes nothing."""
    return any(m.client_id == client_id for m in messages)


def taken(ids: list[str], client_id: str) -> list[str]:
    """The ids the page may forget, with this one: the last ``TAKEN_KEPT``."""
    return [*(i for i in ids if i != client_id), client_id][-TAKEN_KEPT:]
