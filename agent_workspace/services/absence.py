"""An agent who is gone does not keep customers: chats whose agent's workspace has
not been seen for the presence grace period (signed out, a lost connection, a
closed laptop) go back to their place in line, and the next agent continues them
with their history. Run by ``routing.sweep``; no commit (the sweep commits).

A workspace is seen by its heartbeat (the page's ``tick``) and, whatever its
page's timers do, while its websocket is open (``see_open_tabs``): a browser
runs a hidden tab's timers once a minute, but answers the socket's pings."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from agent_workspace.models import (
    AuthSession,
    ClientConnection,
    ClientKind,
    Interaction,
    InteractionState,
    User,
    stored_id,
    utcnow,
)
from agent_workspace.services import audit, conversations
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.events import AgentChanged, InteractionChanged, QueueChanged, announce
from agent_workspace.services.notices import NoticeTopic, notify, retire_pending, retire_topic

SET_OFFLINE = (
    "You were set Offline because your workspace lost its connection for a while, and any"
    " chats you had open went back in line for the next agent. Set yourself Available to take"
    " chats again."
)
BACK_IN_LINE = (
    "{agent} is no longer connected. You are back at your place in line: the next available"
    " agent will continue this chat and see everything written so far."
)


def return_chats_of_absent_agents(session: Session, *, seen_before: datetime, now: datetime) -> bool:
    """Put back in line every live chat (its customer still there) whose agent was
    last seen before ``seen_before``; True if any went back. Each is a conditional
    update, so workers sweeping at once move a chat once."""
    stranded = session.exec(
        select(Interaction, User)
        .join(User, col(User.id) == col(Interaction.agent_id))
        .where(
            Interaction.state == InteractionState.WORK_IN_PROGRESS,
            col(Interaction.customer_ended_at).is_(None),
            or_(col(User.last_seen_at).is_(None), col(User.last_seen_at) < seen_before),
        )
    ).all()
    moved = False
    for item, agent in stranded:
        result = session.exec(
            update(Interaction)
            .where(
                col(Interaction.id) == item.id,
                col(Interaction.state) == InteractionState.WORK_IN_PROGRESS,
                col(Interaction.agent_id) == agent.id,
            )
            .values(
                state=InteractionState.QUEUED,
                agent_id=None,
                transfer_to_id=None,
                transfer_from_id=None,
                transfer_requested_at=None,
                # A note written for a colleague whose answer was awaited is moot; an earlier handover's stays.
                transfer_note="" if item.transfer_to_id is not None else item.transfer_note,
                updated_at=now,
            )
        )
        if result.rowcount != 1:
            continue
        chat = stored_id(item)
        retire_pending(session, interaction_id=chat)  # a transfer it waited for is moot, and its answers
        retire_topic(session, user_id=stored_id(agent), topic=NoticeTopic.TRANSFER_ANSWER, chat_id=chat)
        conversations.system_message(session, interaction_id=chat, body=BACK_IN_LINE.format(agent=agent.display_name))
        audit.record(
            session,
            action=AuditAction.INTERACTION_RETURNED_TO_QUEUE,
            actor_kind="system",
            target_kind="interaction",
            target_id=chat,
            agent_id=agent.id,
        )
        announce(session, InteractionChanged(chat), QueueChanged(item.queue_id), AgentChanged(stored_id(agent)))
        moved = True
    return moved


def tell_set_offline(session: Session, *, user_id: int) -> None:
    """The sweep set the agent Offline: back, they would not know why nor that they
    get no chats. One unseen at a time (its topic); Available retires it. No commit."""
    notify(session, user_id=user_id, body=SET_OFFLINE, level="warning", topic=NoticeTopic.CONNECTION)


def see_open_tabs(session: Session, tokens: Collection[str]) -> None:
    """The tabs whose websocket this process holds open are alive: their agents are
    seen, as long as they are still signed in (a tab whose session ended keeps no
    one present). One transaction."""
    now = utcnow()
    agents = (
        select(ClientConnection.user_id)
        .join(AuthSession, col(AuthSession.user_id) == col(ClientConnection.user_id))
        .where(
            col(ClientConnection.token).in_(tokens),
            ClientConnection.kind == ClientKind.AGENT,
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.expires_at) > now,
        )
    )
    session.execute(update(ClientConnection).where(col(ClientConnection.token).in_(tokens)).values(last_seen_at=now))
    session.execute(update(User).where(col(User.id).in_(agents)).values(last_seen_at=now))
    session.commit()
