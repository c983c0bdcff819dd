"""The Inbox cards of agents: waiting work in their queues, oldest first.

Read for one agent on their own actions and for all members of a queue at
once when it moves (``cards_for_many``); the claim itself is ``routing.accept``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from agent_workspace.models import (
    Customer,
    Interaction,
    InteractionState,
    OfferRejection,
    Queue,
    QueueMember,
    non_null,
    utcnow,
)
from agent_workspace.services import hours
from agent_workspace.services.availability import WAITING_STATES


@dataclass(frozen=True)
class InboxCard:
    interaction_id: int
    number: str
    queue_id: int
    queue_name: str
    customer_name: str
    question: str
    requested_at: datetime
    offered_to_me: bool
    offer_expires_at: datetime | None
    transfer_note: str
    can_accept: bool
    queue_closed: bool = False  # outside its business hours: only offers, or agents who opted in, may be accepted


INBOX_CARDS_SHOWN = 200


def cards_for(session: Session, *, user_id: int) -> list[InboxCard]:
    """Waiting work in the agent's queues, oldest first, minus what they rejected."""
    return cards_for_many(session, user_ids=[user_id])[user_id]


def cards_for_many(session: Session, *, user_ids: Collection[int]) -> dict[int, list[InboxCard]]:
    """``cards_for`` for many agents in four statements, whatever their number: a
    queue change reaches every member's tab, and they all see the same cards."""
    users = list(user_ids)
    result: dict[int, list[InboxCard]] = {user_id: [] for user_id in users}
    if not users:
        return result
    connection = session.connection()
    queues_of: dict[int, set[int]] = {user_id: set() for user_id in users}
    for queue_id, user_id in connection.execute(_MEMBERSHIPS, {"user_ids": users}):
        queues_of[user_id].add(queue_id)
    queue_ids = list(set().union(*queues_of.values()))
    if not queue_ids:
        return result
    rejected = set(connection.execute(_REJECTIONS_WAITING, {"user_ids": users, "queue_ids": queue_ids}).all())
    # Plain columns, not ORM objects, read once and dealt to every agent.
    rows = connection.execute(_WAITING_CARDS, {"queue_ids": queue_ids}).all()
    now = utcnow()
    closed = {
        queue_id
        for queue_id, weekly, zone, closures in connection.execute(_QUEUE_HOURS, {"queue_ids": queue_ids})
        if not hours.is_open(hours.from_texts(weekly, zone, closures), now)
    }
    rows_of_queues: dict[frozenset[int], list] = {}  # agents mostly share the same few sets of queues
    for user_id in users:
        queues = frozenset(queues_of[user_id])
        if queues not in rows_of_queues:
            rows_of_queues[queues] = [row for row in rows if row[3] in queues]
        cards, first_eligible_seen = result[user_id], set()
        for (
            interaction_id,
            number,
            state,
            queue_id,
            offered_to_id,
            offer_expires_at,
            question,
            requested_at,
            transfer_note,
            queue_name,
            customer_name,
        ) in rows_of_queues[queues]:
            mine = state == InteractionState.OFFERED and offered_to_id == user_id
            if state == InteractionState.OFFERED and not mine:
                continue  # someone else's offer: not for this agent to take
            if not mine and (interaction_id, user_id) in rejected:
                continue
            can_accept = mine or queue_id not in first_eligible_seen
            first_eligible_seen.add(queue_id)
            cards.append(
                InboxCard(
                    interaction_id=interaction_id,
                    number=number or "",
                    queue_id=queue_id,
                    queue_name=queue_name,
                    customer_name=customer_name,
                    question=question,
                    requested_at=requested_at,
                    offered_to_me=mine,
                    offer_expires_at=offer_expires_at if mine else None,
                    transfer_note=transfer_note,
                    can_accept=can_accept,
                    queue_closed=queue_id in closed,
                )
            )
            if len(cards) == INBOX_CARDS_SHOWN:
                break
    return result


_QUEUE_HOURS = sa_select(non_null(Queue.id), col(Queue.weekly_hours), col(Queue.time_zone), col(Queue.closures)).where(
    col(Queue.id).in_(bindparam("queue_ids", expanding=True))
)
_MEMBERSHIPS = sa_select(col(QueueMember.queue_id), col(QueueMember.user_id)).where(
    col(QueueMember.user_id).in_(bindparam("user_ids", expanding=True))
)
_REJECTIONS_WAITING = (
    sa_select(col(OfferRejection.interaction_id), col(OfferRejection.user_id))
    .join(Interaction, col(Interaction.id) == col(OfferRejection.interaction_id))
    .where(
        col(OfferRejection.user_id).in_(bindparam("user_ids", expanding=True)),
        col(Interaction.queue_id).in_(bindparam("queue_ids", expanding=True)),
        col(Interaction.state) == InteractionState.QUEUED,
    )
)
_WAITING_CARDS = (
    sa_select(
        non_null(Interaction.id),
        col(Interaction.number),
        col(Interaction.state),
        col(Interaction.queue_id),
        col(Interaction.offered_to_id),
        col(Interaction.offer_expires_at),
        col(Interaction.question),
        col(Interaction.requested_at),
        col(Interaction.transfer_note),
        col(Queue.name),
        col(Customer.name),
    )
    .join(Queue, col(Queue.id) == col(Interaction.queue_id))
    .join(Customer, col(Customer.id) == col(Interaction.customer_id))
    .where(
        col(Interaction.queue_id).in_(bindparam("queue_ids", expanding=True)),
        col(Interaction.state).in_(WAITING_STATES),
    )
    .order_by(col(Interaction.requested_at), col(Interaction.id))
)
