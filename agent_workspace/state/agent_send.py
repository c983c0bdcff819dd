"""An agent tab's own messages: which send is stored, and how it is stored and shown.

A text comes from the chat's outbox in the page (assets/outbox.js) with the id
the page gave it, and the page sends it again after a lost connection or a
reload until that id is listed in ``LiveState.taken_ids``; so every send lists
its id there, whether stored, failed (with Retry) or refused. Called by
``WorkspaceState.send_message`` and ``retry_message`` inside the tab's send turn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_workspace.models import SenderKind
from agent_workspace.services import canned
from agent_workspace.state import outbox
from agent_workspace.state.common import unproxied
from agent_workspace.state.live import LiveState, show_messages, update_urgency
from agent_workspace.state.message_status import MessageStatus
from agent_workspace.state.views import YOU, MessageView, merge_messages, own_message, start_delivery, storing_is_slow
from agent_workspace.sync import agent as agent_sync

if TYPE_CHECKING:
    from agent_workspace.state.workspace import WorkspaceState


async def to_store(state: WorkspaceState, interaction_id: int, form: dict) -> MessageView | None:
    """The message this send stores, or None: no such open chat, no text, a quick
    action typed out ("/kb printer": run by ``ToolsState.composer_submitted``,
    never sent), or a second copy of a text the chat holds already. With the tab
    locked; a text not stored is taken now, so the page's outbox lets it go."""
    body = str(form.get("body", "")).strip()
    client_id = outbox.client_id(form)
    open_chat = state._tab(interaction_id) is not None
    slot = await state._slot(interaction_id) if open_chat else None
    held = slot is not None and outbox.held(unproxied(slot.messages), client_id)
    if open_chat and body and not canned.is_command(body) and not held:
        return own_message(client_id=client_id, sender_kind=SenderKind.AGENT, sender_name=YOU, body=body)
    if body:  # (an empty submit is the composer's own, after the outbox took its text)
        take(await state._live(), client_id)
    return None


async def to_retry(state: WorkspaceState, interaction_id: int, client_id: str) -> MessageView | None:
    """The failed message of this open chat to store again, shown Sending from now
    (None: no such message waits for a retry). With the tab locked."""
    slot = await state._slot(interaction_id) if state._tab(interaction_id) else None
    chat = unproxied(slot.messages) if slot is not None else []
    message = next((m for m in chat if m.client_id == client_id), None)
    if slot is None or message is None or message.status != MessageStatus.FAILED:
        return None
    message.status = MessageStatus.SENDING
    slot.messages = list(chat)
    return message


async def post(state: WorkspaceState, interaction_id: int, message: MessageView) -> None:
    """Store a message with the tab's state unlocked: pushes to the tab and its
    sends in other chats go on meanwhile. The message shows as Sending only
    if storing is ``storing_is_slow``; then Sent (or Failed, with why)."""
    delivery = start_delivery(
        message, interaction_id=interaction_id, sender_kind=SenderKind.AGENT, sender_user_id=state._uid
    )
    if await storing_is_slow(delivery):
        async with state:
            await show(state, interaction_id, message)
    follows_id = await delivery
    async with state:
        if follows_id is not None:  # past our own message if nothing came in between
            state._view = agent_sync.sent(unproxied(state._view), interaction_id, message.id, follows_id)
        update_urgency(await show(state, interaction_id, message), state.tabs)


async def show(state: WorkspaceState, interaction_id: int, message: MessageView) -> LiveState:
    """Put the tab's own message (new or changed) into its chat, if still open;
    the page's outbox forgets it in the same update."""
    live = await state._live()
    take(live, message.client_id)
    slot = await state._slot(interaction_id) if state._tab(interaction_id) is not None else None
    if slot is not None:
        show_messages(live, slot, str(interaction_id), merge_messages(unproxied(slot.messages), [message]))
    return live


def take(live: LiveState, client_id: str) -> None:
    """The server has this text: the page's outbox drops it."""
    if client_id not in live.taken_ids:
        live.taken_ids = outbox.taken(unproxied(live.taken_ids), client_id)
