"""Ending a chat: the customer leaving, the agent closing it (with or without
its history saved on the record), the details the agent fills in for the
record, and the customer's rating afterwards."""

from __future__ import annotations

from sqlmodel import Session

from agent_workspace.models import (
    OPEN_STATES,
    CloseReason,
    Interaction,
    InteractionState,
    stored_id,
    utcnow,
)
from agent_workspace.services import audit, notices, routing
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.conversations import MAX_COMMENT_LENGTH, system_message
from agent_workspace.services.errors import Conflict, NotFound, ValidationError
from agent_workspace.services.events import (
    AgentChanged,
    DetailsChanged,
    InteractionChanged,
    QueueChanged,
    announce,
)
from agent_workspace.services.text import check_sizes, strip_invisible
from agent_workspace.services.transcripts import transcript_text


def customer_end(session: Session, *, interaction_id: int) -> None:
    """The customer leaves. Before an agent took it: closed abandoned. After: the agent wraps up."""
    item = session.get(Interaction, interaction_id)
    if item is None:
        raise NotFound("That chat does not exist.")
    if item.state not in OPEN_STATES or item.customer_ended_at is not None:
        return
    freed_offer = end_by_customer(session, item, note="The customer ended the chat.")
    session.commit()
    if freed_offer:
        routing.drain(session)


def end_by_customer(session: Session, item: Interaction, *, note: str) -> bool:
    """``customer_end`` of an open chat, in the caller's transaction (no commit);
    True if it held an offer, whose seat the caller must drain after the commit."""
    now = utcnow()
    announce(session, InteractionChanged(stored_id(item)), QueueChanged(item.queue_id))
    freed_offer = item.state == InteractionState.OFFERED
    if item.state in routing.WAITING_STATES:
        if item.offered_to_id:
            announce(session, AgentChanged(item.offered_to_id))
        item.state = InteractionState.CLOSED_ABANDONED
        item.close_reason = CloseReason.CUSTOMER_LEFT_BEFORE_ENGAGEMENT
        item.closed_at = now
        item.offered_to_id = None
        item.offered_at = None
        item.offer_expires_at = None
    else:  # the agent's tab learns it from the chat's own change; their load is unchanged until they close
        item.customer_ended_at = now
    system_message(session, interaction_id=stored_id(item), body=note)
    item.updated_at = now
    audit.record(
        session,
        action=AuditAction.INTERACTION_CUSTOMER_ENDED,
        actor_kind="customer",
        target_kind="interaction",
        target_id=item.id,
    )
    return freed_offer


def close(session: Session, *, interaction_id: int, user_id: int, save_history: bool) -> None:
    """End a chat from the agent side.

    ``save_history=True`` is Close in the Details tab: a short description is
    required and the transcript is saved on the record. ``False`` is closing
    the tab: the record keeps no transcript (the message rows stay).
    """
    item = session.get(Interaction, interaction_id)
    if item is None or item.agent_id != user_id:
        raise NotFound("That chat is not yours.")
    if item.state != InteractionState.WORK_IN_PROGRESS:
        raise Conflict("That chat is already closed.")
    if save_history and not item.short_description.strip():
        raise ValidationError("Add a short description before closing.")
    now = utcnow()
    system_message(
        session,
        interaction_id=stored_id(item),
        body="The agent ended the chat." if item.customer_ended_at is None else "Chat closed.",
    )
    session.flush()
    item.state = InteractionState.CLOSED_COMPLETE
    if item.transfer_to_id is not None:  # a transfer still waiting for an answer is moot, and its note
        notices.retire_pending(session, interaction_id=stored_id(item))
        item.transfer_to_id = item.transfer_from_id = item.transfer_requested_at = None
        item.transfer_note = ""
    if save_history:
        item.close_reason = CloseReason.CUSTOMER_ENDED if item.customer_ended_at else CloseReason.AGENT_ENDED
        item.transcript = transcript_text(session, interaction_id=stored_id(item))
    else:
        item.close_reason = CloseReason.TAB_CLOSED
        item.transcript = None
    item.closed_at = now
    item.updated_at = now
    audit.record(
        session,
        action=AuditAction.INTERACTION_CLOSED,
        actor_kind="agent",
        actor_id=user_id,
        target_kind="interaction",
        target_id=item.id,
        saved_history=save_history,
    )
    announce(session, InteractionChanged(stored_id(item)), AgentChanged(user_id))
    # A seat is free: every queue of the agent's tells its waiting customers a new wait.
    announce(session, *(QueueChanged(queue_id) for queue_id in routing.queue_ids_of(session, user_id)))
    session.commit()
    routing.drain(session)


CATEGORIES = ("inquiry", "request", "incident", "complaint", "billing", "technical")


def update_details(
    session: Session,
    *,
    interaction_id: int,
    user_id: int,
    short_description: str,
    category: str,
    priority: int,
    work_notes: str,
) -> bool:
    """Update chat information from the Details tab; every change is audited.
    False if nothing differed (nothing is written)."""
    item = session.get(Interaction, interaction_id)
    if item is None or item.agent_id != user_id:
        raise NotFound("That chat is not yours.")
    short_description = short_description.strip()
    if not 1 <= len(short_description) <= 160:
        raise ValidationError("The short description needs 1-160 characters.")
    if category not in CATEGORIES:
        raise ValidationError(f"Category must be one of: {', '.join(CATEGORIES)}.")
    if priority not in (1, 2, 3, 4):
        raise ValidationError("Priority is 1 (critical) to 4 (low).")
    if len(work_notes) > 10_000:
        raise ValidationError("Work notes are limited to 10,000 characters.")
    wanted = {
        "short_description": short_description,
        "category": category,
        "priority": priority,
        "work_notes": work_notes,
    }
    changed = audit.changes(item, wanted, long_texts=("work_notes",))
    if not changed:
        return False
    audit.record(
        session,
        action=AuditAction.INTERACTION_UPDATED,
        actor_kind="agent",
        actor_id=user_id,
        target_kind="interaction",
        target_id=item.id,
        changes=changed,
    )
    for field in changed:
        setattr(item, field, wanted[field])
    item.updated_at = utcnow()
    announce(session, DetailsChanged(stored_id(item)))  # the agent's other tabs show the details
    session.commit()
    return True


def rate(session: Session, *, interaction_id: int, rating: int, comment: str = "") -> None:
    """The customer's post-chat survey: once, after the chat ended."""
    check_sizes({"The comment": (comment, MAX_COMMENT_LENGTH)})
    comment = strip_invisible(comment).strip()
    item = session.get(Interaction, interaction_id)
    if item is None:
        raise NotFound("That chat does not exist.")
    if item.state in OPEN_STATES and item.customer_ended_at is None:
        raise Conflict("You can rate the chat once it has ended.")
    if item.rating is not None:
        raise Conflict("Thanks, you already rated this chat.")
    if rating not in (1, 2, 3, 4, 5):
        raise ValidationError("Choose a rating from 1 to 5.")
    item.rating = rating
    item.rating_comment = comment
    audit.record(
        session,
        action=AuditAction.INTERACTION_RATED,
        actor_kind="customer",
        target_kind="interaction",
        target_id=item.id,
        rating=rating,
    )
    session.commit()
