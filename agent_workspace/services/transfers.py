"""Moving a live chat: to another queue, or to a named agent who accepts or declines.

Both keep the whole history on the interaction; the customer is told, and
the agents involved get a notice.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from agent_workspace.models import Interaction, InteractionState, Presence, Queue, User, stored_id, utcnow
from agent_workspace.services import audit, routing
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.conversations import system_message
from agent_workspace.services.errors import Conflict, NotFound, ValidationError
from agent_workspace.services.events import AgentChanged, DetailsChanged, InteractionChanged, QueueChanged, announce
from agent_workspace.services.notices import NoticeTopic, notify, retire_pending, retire_topic

MAX_NOTE_LENGTH = 1000


def _my_live_chat(session: Session, *, interaction_id: int, user_id: int) -> Interaction:
    item = session.get(Interaction, interaction_id)
    if item is None or item.agent_id != user_id:
        raise NotFound("That chat is not yours.")
    if item.state != InteractionState.WORK_IN_PROGRESS or item.customer_ended_at is not None:
        raise Conflict("Only a live chat can be transferred.")
    return item


def _clean_note(note: str) -> str:
    note = note.strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise ValidationError(f"Keep the transfer note under {MAX_NOTE_LENGTH} characters.")
    return note


def _retire_answers(session: Session, *, item: Interaction, sender_id: int) -> None:
    """The sender's unseen answers to earlier transfers of this chat are moot: a new
    transfer was asked or answered (no commit)."""
    retire_topic(session, user_id=sender_id, topic=NoticeTopic.TRANSFER_ANSWER, chat_id=stored_id(item))


def _agent(session: Session, user_id: int | None) -> User:
    agent = session.get(User, user_id) if user_id is not None else None
    if agent is None:
        raise NotFound("That agent does not exist.")
    return agent


def to_queue(session: Session, *, interaction_id: int, user_id: int, queue_id: int, note: str = "") -> None:
    """Release the agent and put the chat back in line, in its original place, in another queue."""
    item = _my_live_chat(session, interaction_id=interaction_id, user_id=user_id)
    note = _clean_note(note)
    target = session.get(Queue, queue_id) if isinstance(queue_id, int) else None
    if target is None or not target.active:
        raise ValidationError("Choose a queue to transfer to.")
    if target.id == item.queue_id:
        raise ValidationError("The chat is already in that queue; pick another one.")
    agent = _agent(session, user_id)
    old_queue = item.queue_id
    item.queue_id = stored_id(target)
    item.state = InteractionState.QUEUED
    item.agent_id = None
    item.transfer_note = note
    if item.transfer_to_id is not None:  # an agent's pending answer is moot now
        retire_pending(session, interaction_id=stored_id(item))
    _retire_answers(session, item=item, sender_id=user_id)
    item.transfer_to_id = item.transfer_from_id = item.transfer_requested_at = None
    item.updated_at = utcnow()
    system_message(
        session,
        interaction_id=stored_id(item),
        body=f"{agent.display_name} is transferring you to {target.name}. Please stay in the chat: the next available agent will continue.",
    )
    audit.record(
        session,
        action=AuditAction.INTERACTION_TRANSFERRED_TO_QUEUE,
        actor_kind="agent",
        actor_id=user_id,
        target_kind="interaction",
        target_id=item.id,
        from_queue=old_queue,
        to_queue=target.id,
        note=note,
    )
    announce(
        session,
        InteractionChanged(stored_id(item)),
        QueueChanged(old_queue),
        QueueChanged(stored_id(target)),
        AgentChanged(user_id),
    )
    session.commit()
    routing.drain(session)


def to_agent(session: Session, *, interaction_id: int, user_id: int, target_user_id: int, note: str = "") -> None:
    """Offer the chat to a named agent; it stays with the sender until they accept."""
    item = _my_live_chat(session, interaction_id=interaction_id, user_id=user_id)
    note = _clean_note(note)
    if item.transfer_to_id is not None:
        raise Conflict("A transfer of this chat is already waiting for an answer.")
    target = session.get(User, target_user_id) if isinstance(target_user_id, int) else None
    if target is None or target.id == user_id or not target.active or "workspace_user" not in target.roles.split(","):
        raise ValidationError("Choose another agent to transfer to.")
    if target.presence != Presence.AVAILABLE:
        raise Conflict(f"{target.display_name} is not Available.")
    if routing.active_chat_count(session, stored_id(target)) >= target.capacity:
        raise Conflict(f"{target.display_name} has no free capacity.")
    sender = _agent(session, user_id)
    item.transfer_to_id = target.id
    item.transfer_from_id = user_id
    item.transfer_requested_at = utcnow()
    item.transfer_note = note
    _retire_answers(session, item=item, sender_id=user_id)
    notify(
        session,
        user_id=stored_id(target),
        body=f"{sender.display_name} wants to transfer {item.number} to you.",
        pending_for=stored_id(item),
    )
    audit.record(
        session,
        action=AuditAction.INTERACTION_TRANSFER_REQUESTED,
        actor_kind="agent",
        actor_id=user_id,
        target_kind="interaction",
        target_id=item.id,
        to_agent=target.id,
        note=note,
    )
    # The sender's chat shows the transfer waiting, the target's header the offer.
    announce(session, DetailsChanged(stored_id(item)), AgentChanged(stored_id(target)))
    session.commit()


def pending_for(session: Session, *, user_id: int) -> list[Interaction]:
    """Transfers offered to this agent and not yet answered."""
    return list(
        session.exec(
            select(Interaction)
            .where(Interaction.transfer_to_id == user_id, Interaction.state == InteractionState.WORK_IN_PROGRESS)
            .order_by(col(Interaction.transfer_requested_at))
        )
    )


def answer(session: Session, *, interaction_id: int, user_id: int, accept: bool) -> None:
    """The target agent accepts (the chat moves with its history) or declines (it stays)."""
    item = session.get(Interaction, interaction_id)
    if item is None or item.transfer_to_id != user_id:
        raise NotFound("That transfer is not waiting for you.")
    sender_id = item.transfer_from_id
    me = routing.lock_agent(session, user_id)
    if accept and routing.active_chat_count(session, user_id) >= me.capacity:
        raise Conflict(f"You are at your capacity of {me.capacity} chats.")
    retire_pending(session, interaction_id=stored_id(item))
    item.transfer_to_id = item.transfer_from_id = item.transfer_requested_at = None
    if item.state != InteractionState.WORK_IN_PROGRESS or item.agent_id != sender_id:
        # The offer is gone: both agents' inboxes stop showing it, and its note goes.
        item.transfer_note = ""
        announce(session, DetailsChanged(stored_id(item)), AgentChanged(user_id))
        if sender_id is not None:
            announce(session, AgentChanged(sender_id))
        session.commit()
        raise Conflict("The chat ended or moved before you answered.")
    sender = _agent(session, sender_id)
    _retire_answers(session, item=item, sender_id=stored_id(sender))
    if accept:
        item.agent_id = user_id
        system_message(
            session,
            interaction_id=stored_id(item),
            body=f"{me.display_name} joined the chat (transferred from {sender.display_name}).",
        )
        notify(
            session,
            user_id=stored_id(sender),
            body=f"{me.display_name} accepted the transfer of {item.number}.",
            level="success",
            topic=NoticeTopic.TRANSFER_ANSWER,
            chat_id=stored_id(item),
        )
    else:
        item.transfer_note = ""  # the note was for the colleague: the sender's chat stops showing it
        notify(
            session,
            user_id=stored_id(sender),
            body=f"{me.display_name} declined the transfer of {item.number}; the chat stays with you.",
            level="warning",
            topic=NoticeTopic.TRANSFER_ANSWER,
            chat_id=stored_id(item),
        )
    item.updated_at = utcnow()
    audit.record(
        session,
        action=AuditAction.INTERACTION_TRANSFER_ACCEPTED if accept else AuditAction.INTERACTION_TRANSFER_DECLINED,
        actor_kind="agent",
        actor_id=user_id,
        target_kind="interaction",
        target_id=item.id,
        from_agent=sender_id,
    )
    # A declined transfer leaves the chat with the sender, no longer waiting; an
    # accepted one moves it (the target reads it in full as a chat new to their tab).
    announce(session, DetailsChanged(stored_id(item)), AgentChanged(user_id), AgentChanged(stored_id(sender)))
    session.commit()
    if accept:
        routing.drain(session)


def candidates(session: Session, *, user_id: int) -> list[routing.AgentLoad]:
    """Other agents, with presence and load, for the transfer picker."""
    return [a for a in routing.agent_loads(session) if a.user_id != user_id]


def transfer_queues(session: Session, *, interaction_id: int) -> list[Queue]:
    item = session.get(Interaction, interaction_id)
    return [q for q in routing.active_queues(session) if item is None or q.id != item.queue_id]
