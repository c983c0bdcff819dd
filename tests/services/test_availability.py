"""What customers are told: available, busy with an estimate, nobody, closed; and routing by business hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col

from agent_workspace.models import Interaction, InteractionState, Presence, User, utcnow
from agent_workspace.services import availability, conversations, hours, routing
from agent_workspace.services.availability import Availability
from agent_workspace.services.errors import Forbidden
from agent_workspace.services.events import QueueChanged
from tests.factories import make_customer, make_interaction
from tests.services.helpers import at, make_agent, make_waiting, offers_to

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday


def _in_progress(session: Session, queue, agent: User, *, running_seconds: float) -> Interaction:
    item = make_interaction(session, queue=queue, customer=make_customer(session), agent=agent)
    item.accepted_at = NOW - timedelta(seconds=running_seconds)
    session.add(item)
    session.commit()
    return item


def _closed(session: Session, queue, *, handled_seconds: float, closed_ago: float = 600) -> None:
    item = make_interaction(
        session, queue=queue, customer=make_customer(session), state=InteractionState.CLOSED_COMPLETE
    )
    item.closed_at = NOW - timedelta(seconds=closed_ago)
    item.accepted_at = item.closed_at - timedelta(seconds=handled_seconds)
    session.add(item)
    session.commit()


def _closed_today(session: Session, queue, *, today=NOW.date()) -> None:  # noqa: B008 (NOW is a constant)
    """Hours that make ``queue`` closed on ``today`` (NOW's day unless the test runs on the real clock)."""
    hours.set_hours(
        session,
        queue_id=queue.id,
        weekly_hours="Mon-Fri 09:00-17:00",
        time_zone="UTC",
        closures=f"{today}..{today + timedelta(days=1)}",
        closed_message="Back on Friday.",
        actor_id=None,
    )


def test_nobody_available_when_every_agent_is_away_or_offline(session: Session, queue) -> None:
    make_agent(session, "alice", queues=[queue], presence=Presence.AWAY)
    make_agent(session, "bob", queues=[queue], presence=Presence.OFFLINE)
    outlook = availability.queue_outlooks(session, now=NOW)[queue.id]
    assert (outlook.status, outlook.position, outlook.wait_seconds) == (Availability.NOBODY, 1, 0)


def test_available_when_a_seat_is_free(session: Session, queue) -> None:
    make_agent(session, "alice", queues=[queue], capacity=1)
    assert availability.queue_outlooks(session, now=NOW)[queue.id].status == Availability.AVAILABLE


def test_busy_estimate_comes_from_recent_handle_times_and_running_chats(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue], capacity=2)
    for handled in (200, 400):  # with the default's weight: (200 + 400 + 5 x 300) / 7 = 300 s
        _closed(session, queue, handled_seconds=handled)
    _in_progress(session, queue, alice, running_seconds=100)  # frees in about 200 s
    _in_progress(session, queue, alice, running_seconds=150)  # frees in about 150 s
    first = make_waiting(session, queue, requested_at=at(0))
    second = make_waiting(session, queue, requested_at=at(1))

    outlooks = availability.chat_outlooks(session, interaction_ids=[first.id, second.id], now=NOW)

    assert (outlooks[first.id].status, outlooks[first.id].position, outlooks[first.id].wait_seconds) == (
        Availability.BUSY,
        1,
        150,
    )
    assert (outlooks[second.id].position, outlooks[second.id].wait_seconds) == (2, 200)
    # Someone starting now is third: the first seat comes free again after 150 + 300 s.
    assert availability.queue_outlooks(session, now=NOW)[queue.id].wait_seconds == 450


def test_the_estimate_shrinks_as_time_passes_and_a_customer_never_outlives_it(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue], capacity=1)
    _closed(session, queue, handled_seconds=300)
    _in_progress(session, queue, alice, running_seconds=0)
    waiting = make_waiting(session, queue, requested_at=at(0))

    waits = [
        availability.chat_outlook(session, interaction_id=waiting.id, now=NOW + timedelta(seconds=later)).wait_seconds
        for later in (0, 120, 200, 600, 3600)
    ]

    assert waits[:3] == [300, 180, 100]
    # The chat ran past the average: a quarter of its running time more is expected, so
    # the wait grows while the agent stays busy, never zero or negative.
    assert waits[3:] == [150, 900]


def test_a_few_short_chats_do_not_make_every_wait_a_minute(session: Session, queue) -> None:
    """Seen in a walk: one 13 s chat made every busy customer read "less than a minute"."""
    alice = make_agent(session, "alice", queues=[queue], capacity=2)
    _closed(session, queue, handled_seconds=13)
    _in_progress(session, queue, alice, running_seconds=1500)
    _in_progress(session, queue, alice, running_seconds=5)
    waits = [
        o.wait_seconds
        for o in availability.chat_outlooks(
            session, interaction_ids=[make_waiting(session, queue, requested_at=at(i)).id for i in range(3)], now=NOW
        ).values()
    ]
    assert waits[0] >= 240 and waits == sorted(waits) and len(set(waits)) == 3


def test_without_history_the_default_handle_time_is_used(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue], capacity=1)
    _in_progress(session, queue, alice, running_seconds=0)
    outlook = availability.queue_outlooks(session, now=NOW)[queue.id]
    assert (outlook.status, outlook.wait_seconds) == (Availability.BUSY, availability.DEFAULT_HANDLE_SECONDS)


def test_a_chat_every_available_agent_rejected_has_nobody(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    item = conversations.start_chat(session, name="Ada", email="ada@example.com", queue_id=queue.id, question="Hi")
    routing.reject(session, user_id=alice.id, interaction_id=item.id, reason="Not mine")
    assert availability.chat_outlook(session, interaction_id=item.id).status == Availability.NOBODY
    # For someone new the queue still has alice.
    assert availability.queue_outlooks(session)[queue.id].status == Availability.AVAILABLE


def test_closed_queue_says_when_it_opens_unless_an_agent_opted_in(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    _closed_today(session, queue)

    outlook = availability.queue_outlooks(session, now=NOW)[queue.id]
    assert outlook.status == Availability.CLOSED
    assert outlook.opens_at == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    assert outlook.closed_message == "Back on Friday."

    routing.set_after_hours(session, user_id=alice.id, enabled=True)
    assert availability.queue_outlooks(session, now=NOW)[queue.id].status == Availability.AVAILABLE


def test_outlooks_leave_out_chats_no_longer_waiting(session: Session, queue) -> None:
    live = make_interaction(session, queue=queue, customer=make_customer(session))
    assert availability.chat_outlooks(session, interaction_ids=[live.id, 424242]) == {}
    assert availability.chat_outlook(session, interaction_id=live.id) is None
    assert availability.chat_outlooks(session, interaction_ids=[]) == {}


def test_places_in_line_count_the_chats_ahead_in_the_same_queue(session: Session, queue, other_queue) -> None:
    customer = make_customer(session)
    first = make_waiting(session, queue, requested_at=at(1), customer=customer)
    tie_second = make_waiting(session, queue, requested_at=at(2), customer=customer)
    tie_third = make_waiting(session, queue, requested_at=at(2), customer=customer)
    elsewhere = make_waiting(session, other_queue, requested_at=at(0), customer=customer)
    # An offered chat holds its place in line.
    session.execute(update(Interaction).where(col(Interaction.id) == first.id).values(state=InteractionState.OFFERED))
    session.commit()

    outlooks = availability.chat_outlooks(
        session, interaction_ids=[first.id, tie_second.id, tie_third.id, elsewhere.id]
    )

    assert [outlooks[i.id].position for i in (first, tie_second, tie_third, elsewhere)] == [1, 2, 3, 1]
    assert availability.queue_outlooks(session)[queue.id].position == 4


def test_when_back_is_in_the_readers_time_zone() -> None:
    opens = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    assert availability.when_back(opens, time_zone="Europe/Berlin", now=NOW) == "Friday 4 December at 09:00"
    assert availability.when_back(opens, time_zone="UTC", now=opens - timedelta(hours=3)) == "today at 08:00"
    assert availability.when_back(opens, time_zone="America/New_York", now=NOW) == "Friday 4 December at 03:00"
    assert availability.when_back(opens, time_zone="UTC", now=NOW + timedelta(days=1)) == "tomorrow at 08:00"


# ------------------------------------------------------------------ routing by business hours


def test_a_closed_queue_is_not_offered_to_agents_who_did_not_opt_in(session: Session, queue, announced) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    _closed_today(session, queue)
    waiting = make_waiting(session, queue)

    routing.drain(session, now=NOW)
    assert offers_to(session, alice.id) == []

    announced.take()
    routing.set_after_hours(session, user_id=alice.id, enabled=True)
    assert QueueChanged(queue.id) in announced
    # set_after_hours drains at the real clock; the closure is of NOW's day.
    routing.drain(session, now=NOW)
    assert offers_to(session, alice.id) == [waiting.id]


def test_a_queue_that_opens_is_drained_by_the_sweep(session: Session, queue, announced) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    _closed_today(session, queue)
    waiting = make_waiting(session, queue)
    friday = datetime(2026, 12, 4, 9, 0, 1, tzinfo=UTC)
    session.execute(update(User).values(last_seen_at=friday))
    session.commit()

    assert queue.id not in availability.open_queue_ids(session, now=NOW)
    assert queue.id in availability.open_queue_ids(session, now=friday)
    announced.take()
    routing.sweep(session, presence_grace_seconds=3600, now=friday, hours_turned=[queue.id])

    assert QueueChanged(queue.id) in announced
    assert offers_to(session, alice.id) == [waiting.id]


def test_the_acknowledgement_is_honest_when_nobody_is_there(session: Session, queue) -> None:
    make_agent(session, "alice", queues=[queue], presence=Presence.OFFLINE)
    started = conversations.start_chat(session, name="Ada", email="ada@example.com", queue_id=queue.id, question="Hi")
    ack = conversations.messages_after(session, interaction_id=started.id)[0]
    assert "nobody is available right now" in ack.body
    assert "shortly" not in ack.body


def test_open_queue_ids_are_the_active_queues_within_their_hours(session: Session, queue, other_queue) -> None:
    _closed_today(session, queue)
    assert availability.open_queue_ids(session, now=NOW) == frozenset({other_queue.id})


def test_one_chats_outlook_equals_the_batched_read(session: Session, queue, other_queue) -> None:
    """A customer's own page reads ``chat_outlook`` (places ahead counted), a queue's
    push ``chat_outlooks`` (the whole line): they must agree."""
    alice = make_agent(session, "alice", queues=[queue], capacity=2)
    bob = make_agent(session, "bob", queues=[queue, other_queue], capacity=1)
    _closed(session, queue, handled_seconds=240)
    _in_progress(session, queue, alice, running_seconds=30)
    _in_progress(session, queue, alice, running_seconds=90)
    _in_progress(session, other_queue, bob, running_seconds=10)
    waiting = [
        make_waiting(session, q, requested_at=at(i)) for i, q in enumerate([queue, other_queue, queue, queue, queue])
    ]
    waiting.append(make_waiting(session, queue, requested_at=at(3)))  # a tie on requested_at
    routing.reject(session, user_id=alice.id, interaction_id=waiting[2].id, reason="Not mine")

    batched = availability.chat_outlooks(session, interaction_ids=[w.id for w in waiting], now=NOW)

    assert batched == {w.id: availability.chat_outlook(session, interaction_id=w.id, now=NOW) for w in waiting}
    assert [batched[w.id].position for w in waiting] == [1, 1, 2, 3, 5, 4]


def test_out_of_hours_accept_needs_the_opt_in_but_an_own_offer_can_be_taken(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue], capacity=2)
    offered = conversations.start_chat(session, name="Ada", email="ada@example.com", queue_id=queue.id, question="Hi")
    assert offers_to(session, alice.id) == [offered.id]
    _closed_today(session, queue, today=utcnow().date())  # accept reads the real clock
    later = make_waiting(session, queue)

    # Her offer, made before the queue closed, is still hers to take; the queued chat is not.
    item = routing.accept(session, user_id=alice.id, queue_id=queue.id)
    assert item.id == offered.id
    with pytest.raises(Forbidden, match="is closed now. Switch on Take chats after hours"):
        routing.accept(session, user_id=alice.id, queue_id=queue.id)
    routing.set_after_hours(session, user_id=alice.id, enabled=True)
    item = routing.accept(session, user_id=alice.id, queue_id=queue.id)
    assert item.id == later.id


def test_accept_on_an_offers_card_takes_that_offer(session: Session, queue) -> None:
    """Seen in a walk: Accept on the second offer's card opened the first customer."""
    alice = make_agent(session, "alice", queues=[queue], capacity=3)
    first, second = (
        conversations.start_chat(session, name=n, email="c@example.com", queue_id=queue.id, question="Hi")
        for n in ("Gina", "Gus")
    )
    assert offers_to(session, alice.id) == [first.id, second.id]

    item = routing.accept(session, user_id=alice.id, queue_id=queue.id, offer_id=second.id)
    assert item.id == second.id
    # A card that is not her offer (a crafted id, a queued chat further back) picks nothing out of line.
    third = make_waiting(session, queue)
    item = routing.accept(session, user_id=alice.id, queue_id=queue.id, offer_id=third.id)
    assert item.id == first.id


def test_a_seat_held_by_another_queues_offer_is_not_free(session: Session, queue, other_queue) -> None:
    """Seen in review: an agent holding an offer from one queue was reported free to another's line."""
    alice = make_agent(session, "alice", queues=[queue, other_queue], capacity=1)
    conversations.start_chat(session, name="Ada", email="ada@example.com", queue_id=other_queue.id, question="Hi")
    assert len(offers_to(session, alice.id)) == 1
    waiting = make_waiting(session, queue)
    outlook = availability.chat_outlook(session, interaction_id=waiting.id)
    assert (outlook.status, outlook.wait_seconds) == (Availability.BUSY, availability.DEFAULT_HANDLE_SECONDS)
