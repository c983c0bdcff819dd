"""Claims through routing's real interface on a real (SQLite) database.

FIFO claims, queue independence, membership / presence / capacity rules,
concurrent claims from many threads and rejections. Offers (drain), their
timeouts and presence expiry (sweep) are in test_offers.py.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from agent_workspace import db
from agent_workspace.models import (
    Interaction,
    InteractionState,
    Message,
    OfferRejection,
    Presence,
    SenderKind,
    User,
    utcnow,
)
from agent_workspace.services import chat_close, inbox, routing
from agent_workspace.services.errors import Conflict, Forbidden, NotFound, ValidationError
from tests.factories import make_customer, make_interaction
from tests.services.helpers import (
    accept,
    at,
    count,
    fresh,
    make_agent,
    make_waiting,
    offers_to,
    start,
    state_of,
    wip_count,
)

pytestmark = pytest.mark.usefixtures("offer_timeout")


# ------------------------------------------------------------------ FIFO


def test_accept_always_takes_the_oldest_request(session: Session, queue) -> None:
    agent = make_agent(session, "alice", queues=[queue], capacity=10)
    # Created out of order on purpose: ids do not follow requested_at.
    late = make_waiting(session, queue, requested_at=at(30))
    early = make_waiting(session, queue, requested_at=at(10))
    middle = make_waiting(session, queue, requested_at=at(20))

    claimed = [accept(session, agent, queue).id for _ in range(3)]

    assert claimed == [early.id, middle.id, late.id]
    with pytest.raises(NotFound):
        accept(session, agent, queue)


def test_requested_at_ties_are_broken_by_id(session: Session, queue) -> None:
    agent = make_agent(session, "alice", queues=[queue], capacity=10)
    later = make_waiting(session, queue, requested_at=at(5))
    tie_a = make_waiting(session, queue, requested_at=at(1))
    tie_b = make_waiting(session, queue, requested_at=at(1))
    tie_c = make_waiting(session, queue, requested_at=at(1))

    claimed = [accept(session, agent, queue).id for _ in range(4)]

    assert claimed == [tie_a.id, tie_b.id, tie_c.id, later.id]


def test_accept_sets_the_claim_fields_and_announces_the_agent(session: Session, queue) -> None:
    agent = make_agent(session, "alice", queues=[queue])
    item = make_waiting(session, queue, requested_at=utcnow() - timedelta(seconds=90))

    claimed = accept(session, agent, queue)

    row = fresh(session, Interaction, item.id)
    assert claimed.id == item.id
    assert row.state == InteractionState.WORK_IN_PROGRESS
    assert row.agent_id == agent.id
    assert row.accepted_at is not None
    assert 89 <= row.wait_seconds <= 120
    assert row.offered_to_id is None and row.offer_expires_at is None
    joined = session.exec(
        select(Message).where(Message.interaction_id == item.id, Message.sender_kind == SenderKind.SYSTEM)
    ).all()
    assert [m.body for m in joined] == [f"{agent.display_name} joined the chat."]


def test_queues_are_independent(session: Session, queue, other_queue) -> None:
    agent = make_agent(session, "alice", queues=[queue, other_queue], capacity=10)
    billing_oldest = make_waiting(session, other_queue, requested_at=at(1))
    general_1 = make_waiting(session, queue, requested_at=at(2))
    general_2 = make_waiting(session, queue, requested_at=at(3))
    billing_2 = make_waiting(session, other_queue, requested_at=at(4))

    assert accept(session, agent, queue).id == general_1.id
    assert accept(session, agent, queue).id == general_2.id
    with pytest.raises(NotFound):
        accept(session, agent, queue)
    # The other queue was untouched by the claims above.
    assert state_of(session, billing_oldest) == InteractionState.QUEUED
    assert state_of(session, billing_2) == InteractionState.QUEUED
    assert accept(session, agent, other_queue).id == billing_oldest.id


def test_membership_is_required_to_accept(session: Session, queue, other_queue) -> None:
    agent = make_agent(session, "alice", queues=[other_queue])
    item = make_waiting(session, queue)

    with pytest.raises(Forbidden):
        accept(session, agent, queue)
    session.rollback()
    assert state_of(session, item) == InteractionState.QUEUED


@pytest.mark.parametrize("presence", [Presence.AWAY, Presence.OFFLINE])
def test_presence_must_be_available_to_accept(session: Session, queue, presence) -> None:
    agent = make_agent(session, "alice", queues=[queue], presence=presence)
    item = make_waiting(session, queue)

    with pytest.raises(Forbidden):
        accept(session, agent, queue)
    session.rollback()
    assert state_of(session, item) == InteractionState.QUEUED


def test_accept_from_an_empty_queue_is_not_found(session: Session, queue) -> None:
    agent = make_agent(session, "alice", queues=[queue])
    with pytest.raises(NotFound):
        accept(session, agent, queue)


# ------------------------------------------------------------------ capacity


def test_capacity_is_never_exceeded(session: Session, queue) -> None:
    agent = make_agent(session, "alice", queues=[queue], capacity=2)
    first = make_waiting(session, queue, requested_at=at(1))
    make_waiting(session, queue, requested_at=at(2))
    third = make_waiting(session, queue, requested_at=at(3))

    accept(session, agent, queue)
    accept(session, agent, queue)
    with pytest.raises(Conflict, match="capacity of 2"):
        accept(session, agent, queue)
    session.rollback()
    assert wip_count(session, agent.id) == 2
    assert state_of(session, third) == InteractionState.QUEUED

    # Closing one frees a slot.
    chat_close.close(session, interaction_id=first.id, user_id=agent.id, save_history=False)
    assert accept(session, agent, queue).id == third.id
    assert wip_count(session, agent.id) == 2


def test_capacity_counts_only_work_in_progress_chats(session: Session, queue) -> None:
    agent = make_agent(session, "alice", queues=[queue], capacity=1)
    customer = make_customer(session)
    # Finished chats of the agent do not count against the capacity.
    for state in (InteractionState.CLOSED_COMPLETE, InteractionState.CLOSED_ABANDONED):
        make_interaction(session, queue=queue, customer=customer, state=state, agent=agent)
    item = make_waiting(session, queue)

    assert accept(session, agent, queue).id == item.id
    assert wip_count(session, agent.id) == 1


def test_reaching_capacity_releases_pending_offers(session: Session, queue, other_queue) -> None:
    agent = make_agent(session, "alice", queues=[queue, other_queue], capacity=2)
    customer = make_customer(session)
    make_interaction(session, queue=queue, customer=customer, agent=agent)  # one live chat
    offered = start(session, other_queue)  # drain offers it to alice (1 chat + 0 offers < 2)
    assert offers_to(session, agent.id) == [offered.id]
    waiting = start(session, queue)  # alice is full with chat + offer: stays queued
    assert state_of(session, waiting) == InteractionState.QUEUED

    assert accept(session, agent, queue).id == waiting.id

    assert wip_count(session, agent.id) == 2
    row = fresh(session, Interaction, offered.id)
    assert row.state == InteractionState.QUEUED
    assert row.offered_to_id is None and row.offer_expires_at is None
    assert offers_to(session, agent.id) == []


def test_offers_released_at_capacity_go_to_another_free_agent(session: Session, queue, other_queue) -> None:
    """A released offer is a capacity event: the chat should be offered to a free colleague."""
    alice = make_agent(session, "alice", queues=[queue, other_queue], capacity=2)
    customer = make_customer(session)
    make_interaction(session, queue=queue, customer=customer, agent=alice)
    offered = start(session, other_queue)
    assert fresh(session, Interaction, offered.id).offered_to_id == alice.id
    waiting = start(session, queue)
    bob = make_agent(session, "bob", queues=[other_queue], capacity=2)  # free, Available

    accept(session, alice, queue)  # alice reaches capacity: her offer is released

    row = fresh(session, Interaction, offered.id)
    assert waiting.id != offered.id
    assert row.state == InteractionState.OFFERED and row.offered_to_id == bob.id


def test_accepting_my_offer_is_allowed_at_the_last_free_slot(session: Session, queue) -> None:
    agent = make_agent(session, "alice", queues=[queue], capacity=1)
    item = start(session, queue)
    assert offers_to(session, agent.id) == [item.id]

    assert accept(session, agent, queue).id == item.id
    assert fresh(session, Interaction, item.id).agent_id == agent.id


# ------------------------------------------------------------------ concurrency


def _run_concurrent_claims(queue_id: int, agents: list[User], threads_per_agent: int):
    """Every thread claims with its own Session until empty or full. Returns (claims, errors)."""
    engine = db.get_engine()
    barrier = threading.Barrier(len(agents) * threads_per_agent)
    claims: dict[int, list[int]] = defaultdict(list)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(agent_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            for _attempt in range(200):
                with Session(engine, expire_on_commit=False) as s:
                    try:
                        item = routing.accept(s, user_id=agent_id, queue_id=queue_id)
                    except NotFound:
                        return
                    except Conflict as error:
                        if "capacity" in str(error):
                            return
                        continue  # lost a race: try again
                with lock:
                    claims[agent_id].append(item.id)
            raise AssertionError("a claimer never finished")
        except BaseException as error:  # noqa: BLE001 - reported to the test
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=worker, args=(agent.id,)) for agent in agents for _ in range(threads_per_agent)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "claim threads hung"
    return claims, errors


def _fifo_rank(items: list[Interaction]) -> dict[int, int]:
    ordered = sorted(items, key=lambda i: (i.requested_at, i.id))
    return {item.id: rank for rank, item in enumerate(ordered)}


def _make_shuffled_queue(session: Session, queue, n: int, seed: int) -> list[Interaction]:
    customer = make_customer(session)
    slots = list(range(n))
    random.Random(seed).shuffle(slots)
    # Pairs share a requested_at, so the id tie-break is exercised too.
    return [make_waiting(session, queue, requested_at=at(slot // 2), customer=customer) for slot in slots]


def _check_claims(session: Session, queue, agents, items, claims) -> list[Interaction]:
    session.expire_all()
    rows = list(session.exec(select(Interaction).where(Interaction.queue_id == queue.id)))
    rank = _fifo_rank(rows)
    claimed_rows = [r for r in rows if r.state == InteractionState.WORK_IN_PROGRESS]
    # Every claim reported to a thread is in the database, and once only.
    reported = [i for ids in claims.values() for i in ids]
    assert len(reported) == len(set(reported))
    assert sorted(reported) == sorted(r.id for r in claimed_rows)
    for agent_id, ids in claims.items():
        for item_id in ids:
            assert fresh(session, Interaction, item_id).agent_id == agent_id
    # No agent over capacity.
    by_agent = defaultdict(list)
    for row in claimed_rows:
        by_agent[row.agent_id].append(row)
    for agent in agents:
        assert len(by_agent[agent.id]) <= agent.capacity
    # Claims happened in FIFO order: by claim time, overall and so for every agent.
    in_claim_order = sorted(claimed_rows, key=lambda r: (r.accepted_at, rank[r.id]))
    assert [rank[r.id] for r in in_claim_order] == sorted(rank[r.id] for r in claimed_rows)
    for agent_rows in by_agent.values():
        ranks = [rank[r.id] for r in sorted(agent_rows, key=lambda r: r.accepted_at)]
        assert ranks == sorted(ranks)
    # One "joined" line per claimed chat.
    for row in claimed_rows:
        joined = session.exec(
            select(Message).where(Message.interaction_id == row.id, col(Message.body).like("% joined the chat."))
        ).all()
        assert len(joined) == 1
    return claimed_rows


def test_concurrent_accepts_claim_every_chat_exactly_once(session: Session, queue) -> None:
    capacities = [9, 8, 8, 8, 7, 7, 7, 6, 3]  # 63 seats for 60 chats
    agents = [make_agent(session, f"agent{i}", queues=[queue], capacity=c) for i, c in enumerate(capacities)]
    items = _make_shuffled_queue(session, queue, 60, seed=7)
    session.commit()

    claims, errors = _run_concurrent_claims(queue.id, agents, threads_per_agent=3)

    assert errors == []
    claimed = _check_claims(session, queue, agents, items, claims)
    assert sorted(r.id for r in claimed) == sorted(i.id for i in items)  # every chat assigned


def test_concurrent_accepts_with_too_few_seats_fill_every_seat_with_the_oldest(session: Session, queue) -> None:
    capacities = [2, 3, 4, 5, 6, 7, 8, 9]  # 44 seats for 60 chats
    agents = [make_agent(session, f"agent{i}", queues=[queue], capacity=c) for i, c in enumerate(capacities)]
    items = _make_shuffled_queue(session, queue, 60, seed=11)
    session.commit()

    claims, errors = _run_concurrent_claims(queue.id, agents, threads_per_agent=3)

    assert errors == []
    claimed = _check_claims(session, queue, agents, items, claims)
    rank = _fifo_rank(items)
    assert sorted(rank[r.id] for r in claimed) == list(range(44))  # the 44 oldest
    for agent in agents:
        assert wip_count(session, agent.id) == agent.capacity
    assert sum(1 for i in items if state_of(session, i) == InteractionState.QUEUED) == 16


# ------------------------------------------------------------------ reject


def test_reject_requires_a_reason(session: Session, queue) -> None:
    agent = make_agent(session, "alice", queues=[queue])
    item = start(session, queue)
    assert offers_to(session, agent.id) == [item.id]

    for reason in ("", "   \n "):
        with pytest.raises(ValidationError, match="reason"):
            routing.reject(session, user_id=agent.id, interaction_id=item.id, reason=reason)
    with pytest.raises(ValidationError):
        routing.reject(session, user_id=agent.id, interaction_id=item.id, reason="x" * 501)
    session.rollback()
    assert count(session, OfferRejection) == 0
    row = fresh(session, Interaction, item.id)
    assert row.state == InteractionState.OFFERED and row.offered_to_id == agent.id


def test_reject_puts_an_offer_back_and_never_offers_it_to_that_agent_again(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    item = start(session, queue)
    assert offers_to(session, alice.id) == [item.id]

    routing.reject(session, user_id=alice.id, interaction_id=item.id, reason="  Not my area  ")

    row = fresh(session, Interaction, item.id)
    assert row.state == InteractionState.QUEUED
    assert row.offered_to_id is None and row.offered_at is None and row.offer_expires_at is None
    rejection = fresh(session, OfferRejection, (item.id, alice.id))
    assert rejection.reason == "Not my area"
    # Draining again (any event) never offers it to alice...
    routing.drain(session)
    routing.set_presence(session, user_id=alice.id, presence=Presence.AVAILABLE)
    assert offers_to(session, alice.id) == []
    # ...it is gone from her inbox, and her Accept skips it.
    assert item.id not in [c.interaction_id for c in inbox.cards_for(session, user_id=alice.id)]
    with pytest.raises(NotFound):
        accept(session, alice, queue)
    session.rollback()
    # A colleague who becomes Available gets the offer.
    bob = make_agent(session, "bob", queues=[queue], presence=Presence.AWAY)
    routing.set_presence(session, user_id=bob.id, presence=Presence.AVAILABLE)
    assert offers_to(session, bob.id) == [item.id]


def test_reject_offers_the_chat_to_the_next_free_agent_right_away(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue], presence_changed_at=at(0))
    bob = make_agent(session, "bob", queues=[queue], presence_changed_at=at(1))
    item = start(session, queue)
    assert offers_to(session, alice.id) == [item.id]  # tie on load: longest Available first

    routing.reject(session, user_id=alice.id, interaction_id=item.id, reason="Busy")

    assert offers_to(session, bob.id) == [item.id]
    assert offers_to(session, alice.id) == []


def test_rejecting_a_queued_item_skips_it_for_that_agent_only(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    bob = make_agent(session, "bob", queues=[queue], presence=Presence.AWAY)
    first = make_waiting(session, queue, requested_at=at(1))
    second = make_waiting(session, queue, requested_at=at(2))

    routing.reject(session, user_id=alice.id, interaction_id=first.id, reason="Language")
    # Rejecting a queued item keeps it queued (alice was offered the other one by the drain).
    assert state_of(session, first) == InteractionState.QUEUED
    assert offers_to(session, alice.id) == [second.id]

    assert accept(session, alice, queue).id == second.id
    routing.set_presence(session, user_id=bob.id, presence=Presence.AVAILABLE)
    assert accept(session, bob, queue).id == first.id


def test_reject_refusals(session: Session, queue, other_queue) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    bob = make_agent(session, "bob", queues=[queue], presence=Presence.AWAY)
    outsider = make_agent(session, "carol", queues=[other_queue])
    offered = start(session, queue)  # offered to alice
    assert offers_to(session, alice.id) == [offered.id]

    with pytest.raises(Conflict):  # someone else's offer
        routing.reject(session, user_id=bob.id, interaction_id=offered.id, reason="no")
    with pytest.raises(NotFound):  # not in my queues
        routing.reject(session, user_id=outsider.id, interaction_id=offered.id, reason="no")
    with pytest.raises(NotFound):
        routing.reject(session, user_id=alice.id, interaction_id=99999, reason="no")
    accept(session, alice, queue)
    with pytest.raises(Conflict):  # no longer waiting
        routing.reject(session, user_id=alice.id, interaction_id=offered.id, reason="no")
    session.rollback()
    assert count(session, OfferRejection) == 0
