"""Inbox cards: waiting work in the agent's queues, oldest first, with Accept where it can claim."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col

from agent_workspace.models import Interaction, InteractionState, Presence, User, utcnow
from agent_workspace.services import inbox, routing
from tests.factories import make_customer, make_interaction, make_queue
from tests.services.helpers import at, fresh, make_agent, make_waiting

OFFER_SECONDS = 30


def _offer(session: Session, item: Interaction, user: User) -> None:
    now = utcnow()
    session.execute(
        update(Interaction)
        .where(col(Interaction.id) == item.id)
        .values(
            state=InteractionState.OFFERED,
            offered_to_id=user.id,
            offered_at=now,
            offer_expires_at=now + timedelta(seconds=OFFER_SECONDS),
        )
    )
    session.commit()


def test_inbox_shows_my_work_with_accept_on_the_first_eligible_card_per_queue(
    session: Session, queue, other_queue
) -> None:
    me = make_agent(session, "alice", queues=[queue, other_queue], presence=Presence.AWAY)
    bob = make_agent(session, "bob", queues=[queue, other_queue], presence=Presence.AWAY)
    third_queue = make_queue(session, "Elsewhere")
    customer = make_customer(session, name="Grace")
    g_bobs = make_waiting(session, queue, requested_at=at(1), customer=customer)
    g_first = make_waiting(session, queue, requested_at=at(2), customer=customer)
    g_rejected = make_waiting(session, queue, requested_at=at(3), customer=customer)
    g_next = make_waiting(session, queue, requested_at=at(4), customer=customer)
    b_first = make_waiting(session, other_queue, requested_at=at(5), customer=customer)
    b_mine = make_waiting(session, other_queue, requested_at=at(6), customer=customer)
    make_waiting(session, third_queue, requested_at=at(0), customer=customer)  # not my queue
    make_interaction(session, queue=queue, customer=customer, agent=bob)  # live: not in the inbox
    _offer(session, g_bobs, bob)
    _offer(session, b_mine, me)
    routing.reject(session, user_id=me.id, interaction_id=g_rejected.id, reason="Not me")

    cards = inbox.cards_for(session, user_id=me.id)

    summary = [(c.interaction_id, c.can_accept, c.offered_to_me) for c in cards]
    assert summary == [
        (g_first.id, True, False),
        (g_next.id, False, False),
        (b_first.id, True, False),
        (b_mine.id, True, True),
    ]
    mine = cards[-1]
    assert mine.offer_expires_at is not None
    assert all(c.offer_expires_at is None for c in cards[:-1])
    assert cards[0].queue_name == "General" and cards[2].queue_name == "Billing"
    assert cards[0].customer_name == "Grace"
    assert cards[0].number == fresh(session, Interaction, g_first.id).number

    # bob sees his own offer (with Accept: it is what his Accept claims) and not mine;
    # my rejection does not hide a chat from him.
    bob_cards = [(c.interaction_id, c.can_accept, c.offered_to_me) for c in inbox.cards_for(session, user_id=bob.id)]
    assert bob_cards == [
        (g_bobs.id, True, True),
        (g_first.id, False, False),
        (g_rejected.id, False, False),
        (g_next.id, False, False),
        (b_first.id, True, False),
    ]


def test_inboxes_read_once_for_many_agents_match_each_agents_own(session: Session, queue, other_queue) -> None:
    me = make_agent(session, "alice", queues=[queue, other_queue], presence=Presence.AWAY)
    bob = make_agent(session, "bob", queues=[queue], presence=Presence.AWAY)
    outsider = make_agent(session, "carol", queues=[], presence=Presence.AWAY)
    customer = make_customer(session)
    offered = make_waiting(session, queue, requested_at=at(1), customer=customer)
    rejected = make_waiting(session, queue, requested_at=at(2), customer=customer)
    make_waiting(session, queue, requested_at=at(3), customer=customer)
    make_waiting(session, other_queue, requested_at=at(4), customer=customer)
    _offer(session, offered, bob)
    routing.reject(session, user_id=me.id, interaction_id=rejected.id, reason="Not me")

    together = inbox.cards_for_many(session, user_ids=[me.id, bob.id, outsider.id])

    assert together == {user.id: inbox.cards_for(session, user_id=user.id) for user in (me, bob, outsider)}
    assert [len(together[user.id]) for user in (me, bob, outsider)] == [2, 3, 0]


def test_inbox_shows_at_most_two_hundred_cards(session: Session, queue) -> None:
    me = make_agent(session, "alice", queues=[queue], presence=Presence.AWAY)
    customer = make_customer(session)
    items = [
        make_waiting(session, queue, requested_at=at(i), customer=customer) for i in range(inbox.INBOX_CARDS_SHOWN + 5)
    ]
    routing.reject(session, user_id=me.id, interaction_id=items[0].id, reason="Not me")

    cards = inbox.cards_for(session, user_id=me.id)

    assert [c.interaction_id for c in cards] == [i.id for i in items[1 : inbox.INBOX_CARDS_SHOWN + 1]]


def test_inbox_of_a_non_member_is_empty(session: Session, queue) -> None:
    outsider = make_agent(session, "alice", queues=[])
    make_waiting(session, queue)
    assert inbox.cards_for(session, user_id=outsider.id) == []
