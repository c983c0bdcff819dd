"""Offers through their real interface on a real (SQLite) database.

Who is offered which waiting chat (``offers.drain``) and when, offers handed
back when an agent goes Away, lapsed offers and presence expiry (``routing.sweep``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from agent_workspace.models import (
    AgentNotice,
    AuditLog,
    Interaction,
    InteractionState,
    OfferRejection,
    Presence,
    User,
    utcnow,
)
from agent_workspace.services import absence, audit_words, chat_close, notices, offers, routing
from agent_workspace.services.errors import ValidationError
from agent_workspace.services.events import AgentChanged, ChatOffered, QueueChanged
from tests.factories import make_customer, make_interaction
from tests.services.helpers import (
    OFFER_SECONDS,
    accept,
    at,
    count,
    fresh,
    make_agent,
    make_waiting,
    offers_to,
    start,
    state_of,
    touch_all,
)

pytestmark = pytest.mark.usefixtures("offer_timeout")


# ------------------------------------------------------------------ drain


def test_drain_offers_oldest_first(session: Session, queue) -> None:
    agent = make_agent(session, "alice", queues=[queue], capacity=1, presence=Presence.AWAY)
    newer = make_waiting(session, queue, requested_at=at(2))
    older = make_waiting(session, queue, requested_at=at(1))

    routing.set_presence(session, user_id=agent.id, presence=Presence.AVAILABLE)

    assert offers_to(session, agent.id) == [older.id]
    assert state_of(session, newer) == InteractionState.QUEUED


def test_drain_sets_offer_fields(session: Session, queue) -> None:
    agent = make_agent(session, "alice", queues=[queue])
    before = utcnow()
    item = start(session, queue)
    row = fresh(session, Interaction, item.id)
    assert row.state == InteractionState.OFFERED and row.offered_to_id == agent.id
    assert before <= row.offered_at <= utcnow()
    assert row.offer_expires_at - row.offered_at == timedelta(seconds=OFFER_SECONDS)


def test_an_offer_tells_the_agent_only_that_their_inbox_changed(session: Session, queue, announced) -> None:
    agent = make_agent(session, "alice", queues=[queue])
    make_waiting(session, queue, requested_at=at(0))
    announced.take()
    assert offers.drain(session) == 1
    assert announced.take() == [ChatOffered(agent.id), QueueChanged(queue.id)]  # no whole-workspace refresh


def test_drain_prefers_the_least_loaded_agent(session: Session, queue) -> None:
    busy = make_agent(session, "busy", queues=[queue], capacity=4, presence_changed_at=at(0))
    idle = make_agent(session, "idle", queues=[queue], capacity=4, presence_changed_at=at(1))
    customer = make_customer(session)
    for _ in range(2):
        make_interaction(session, queue=queue, customer=customer, agent=busy)
    items = [make_waiting(session, queue, requested_at=at(10 + i)) for i in range(4)]

    offers.drain(session)

    # Loads (chats + offers): idle 0→1→2, then a tie 2:2 goes to the longest Available (busy), then idle.
    offered_to = [fresh(session, Interaction, i.id).offered_to_id for i in items]
    assert offered_to == [idle.id, idle.id, busy.id, idle.id]


def test_drain_respects_capacity_including_pending_offers(session: Session, queue) -> None:
    agent = make_agent(session, "alice", queues=[queue], capacity=2)
    customer = make_customer(session)
    make_interaction(session, queue=queue, customer=customer, agent=agent)
    items = [make_waiting(session, queue, requested_at=at(i)) for i in range(3)]

    offers.drain(session)

    assert offers_to(session, agent.id) == [items[0].id]
    assert [state_of(session, i) for i in items[1:]] == [InteractionState.QUEUED] * 2


def test_drain_gives_a_seat_shared_by_two_queues_to_the_oldest_chat_of_either(
    session: Session, queue, other_queue
) -> None:
    agent = make_agent(session, "alice", queues=[queue, other_queue], capacity=1)
    newer = make_waiting(session, queue, requested_at=at(2))
    older = make_waiting(session, other_queue, requested_at=at(1))

    offers.drain(session)

    assert offers_to(session, agent.id) == [older.id]
    assert state_of(session, newer) == InteractionState.QUEUED


def test_drain_skips_an_agent_who_declined_and_offers_them_the_next_chat(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue], capacity=1)
    declined = make_waiting(session, queue, requested_at=at(1))
    later = make_waiting(session, queue, requested_at=at(2))
    session.add(OfferRejection(interaction_id=declined.id, user_id=alice.id, reason="Not my area"))
    session.commit()

    offers.drain(session)

    assert offers_to(session, alice.id) == [later.id]
    assert state_of(session, declined) == InteractionState.QUEUED


def test_drain_never_offers_to_away_offline_inactive_or_non_members(session: Session, queue, other_queue) -> None:
    make_agent(session, "away", queues=[queue], presence=Presence.AWAY)
    make_agent(session, "offline", queues=[queue], presence=Presence.OFFLINE)
    inactive = make_agent(session, "gone", queues=[queue])
    inactive.active = False
    session.add(inactive)
    session.commit()
    make_agent(session, "elsewhere", queues=[other_queue])
    item = make_waiting(session, queue)

    offers.drain(session)

    row = fresh(session, Interaction, item.id)
    assert row.state == InteractionState.QUEUED and row.offered_to_id is None


def test_set_presence_validates_and_away_releases_offers(session: Session, queue) -> None:
    agent = make_agent(session, "alice", queues=[queue])
    item = start(session, queue)
    assert offers_to(session, agent.id) == [item.id]

    with pytest.raises(ValidationError):
        routing.set_presence(session, user_id=agent.id, presence="busy")
    session.rollback()
    assert offers_to(session, agent.id) == [item.id]

    routing.set_presence(session, user_id=agent.id, presence=Presence.AWAY)

    assert fresh(session, User, agent.id).presence == Presence.AWAY
    row = fresh(session, Interaction, item.id)
    assert row.state == InteractionState.QUEUED and row.offered_to_id is None


def test_going_away_hands_the_offer_to_a_free_colleague(session: Session, queue) -> None:
    """Leaving Available frees the offer; a capacity event like that should drain the queue."""
    alice = make_agent(session, "alice", queues=[queue], presence_changed_at=at(0))
    bob = make_agent(session, "bob", queues=[queue], presence_changed_at=at(1))
    item = start(session, queue)
    assert fresh(session, Interaction, item.id).offered_to_id == alice.id

    routing.set_presence(session, user_id=alice.id, presence=Presence.AWAY)

    row = fresh(session, Interaction, item.id)
    assert row.state == InteractionState.OFFERED and row.offered_to_id == bob.id


def test_rejecting_an_offer_frees_the_seat_for_a_chat_in_another_queue(session: Session, queue, other_queue) -> None:
    alice = make_agent(session, "alice", queues=[queue, other_queue], capacity=1)
    offered = start(session, queue)
    waiting = start(session, other_queue)  # alice is full with the offer
    assert offers_to(session, alice.id) == [offered.id]
    assert state_of(session, waiting) == InteractionState.QUEUED

    routing.reject(session, user_id=alice.id, interaction_id=offered.id, reason="Not my area")

    assert offers_to(session, alice.id) == [waiting.id]


def test_a_customer_leaving_an_offered_chat_frees_the_seat(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue], capacity=1)
    offered = start(session, queue)
    waiting = start(session, queue)
    assert offers_to(session, alice.id) == [offered.id]

    chat_close.customer_end(session, interaction_id=offered.id)

    assert offers_to(session, alice.id) == [waiting.id]


def test_closing_a_chat_offers_the_next_waiting_chat(session: Session, queue) -> None:
    agent = make_agent(session, "alice", queues=[queue], capacity=1)
    first = start(session, queue)
    accept(session, agent, queue)
    second = start(session, queue)
    assert state_of(session, second) == InteractionState.QUEUED  # alice is full

    chat_close.close(session, interaction_id=first.id, user_id=agent.id, save_history=True)

    assert offers_to(session, agent.id) == [second.id]


# ------------------------------------------------------------------ sweep


def test_a_lapsed_offer_is_not_a_rejection_the_lone_agent_gets_it_again(session: Session, queue, announced) -> None:
    """The stranding bug: a lone agent let an offer lapse, came back, and the
    customer waited forever because the lapse was stored as a rejection."""
    alice = make_agent(session, "alice", queues=[queue])
    item = start(session, queue)
    assert offers_to(session, alice.id) == [item.id]
    now = utcnow()
    touch_all(session, now)

    # Not yet lapsed: nothing happens.
    routing.sweep(session, presence_grace_seconds=3600, now=now + timedelta(seconds=OFFER_SECONDS - 5))
    assert offers_to(session, alice.id) == [item.id]
    assert fresh(session, User, alice.id).presence == Presence.AVAILABLE

    announced.take()
    routing.sweep(session, presence_grace_seconds=3600, now=now + timedelta(seconds=OFFER_SECONDS + 5))

    assert QueueChanged(queue.id) in announced and AgentChanged(alice.id) in announced
    row = fresh(session, Interaction, item.id)
    assert row.state == InteractionState.QUEUED and row.offered_to_id is None
    assert row.requested_at == item.requested_at  # its place in line is kept
    assert fresh(session, User, alice.id).presence == Presence.AWAY
    assert session.exec(select(OfferRejection)).all() == []
    # She is told why she is Away.
    notice = session.exec(select(AgentNotice).where(AgentNotice.user_id == alice.id)).one()
    assert (
        notice.body
        == f"You missed an offer from {queue.name}; you are Away. Set yourself Available to get chats again."
    )
    assert notice.level == "warning"
    # Back to Available: nobody else is eligible, so the chat is offered to her again,
    # and "you are Away" goes from every tab of hers.
    announced.take()
    routing.set_presence(session, user_id=alice.id, presence=Presence.AVAILABLE)
    assert offers_to(session, alice.id) == [item.id]
    assert notices.unseen_notices(session, user_id=alice.id) == []
    assert AgentChanged(alice.id) in announced
    # She lets it lapse again: one notice, not a second copy beside an old one.
    routing.sweep(session, presence_grace_seconds=3600, now=now + timedelta(seconds=2 * OFFER_SECONDS + 10))
    assert [n.body for n in notices.unseen_notices(session, user_id=alice.id)] == [notice.body]


def test_only_an_explicit_reject_keeps_a_chat_from_an_agent(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    item = start(session, queue)
    routing.reject(session, user_id=alice.id, interaction_id=item.id, reason="Not my area")
    routing.set_presence(session, user_id=alice.id, presence=Presence.AWAY)
    routing.set_presence(session, user_id=alice.id, presence=Presence.AVAILABLE)
    assert offers_to(session, alice.id) == []
    assert fresh(session, OfferRejection, (item.id, alice.id)).reason == "Not my area"


def test_presence_changes_tell_the_agents_queues(session: Session, queue, other_queue, announced) -> None:
    """Waiting customers are told who is available, so their queues change."""
    alice = make_agent(session, "alice", queues=[queue, other_queue], presence=Presence.OFFLINE)
    announced.take()
    routing.set_presence(session, user_id=alice.id, presence=Presence.AVAILABLE)
    assert {QueueChanged(queue.id), QueueChanged(other_queue.id)} <= set(announced.take())
    routing.set_presence(session, user_id=alice.id, presence=Presence.AVAILABLE)
    assert announced.take() == [AgentChanged(alice.id)]


def test_offer_timeout_reoffers_to_another_available_agent(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue], presence_changed_at=at(0))
    bob = make_agent(session, "bob", queues=[queue], presence_changed_at=at(1))
    item = start(session, queue)
    assert offers_to(session, alice.id) == [item.id]
    now = utcnow()
    touch_all(session, now)

    routing.sweep(session, presence_grace_seconds=3600, now=now + timedelta(seconds=OFFER_SECONDS + 1))

    assert offers_to(session, bob.id) == [item.id]
    assert fresh(session, User, alice.id).presence == Presence.AWAY
    assert fresh(session, User, bob.id).presence == Presence.AVAILABLE


def test_sweep_is_idempotent(session: Session, queue, announced) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    item = start(session, queue)
    now = utcnow()
    touch_all(session, now)
    later = now + timedelta(seconds=OFFER_SECONDS + 1)

    routing.sweep(session, presence_grace_seconds=3600, now=later)
    audit_rows = count(session, AuditLog)
    announced.take()
    routing.sweep(session, presence_grace_seconds=3600, now=later)
    assert announced.take() == []

    assert count(session, AuditLog) == audit_rows
    assert state_of(session, item) == InteractionState.QUEUED
    assert fresh(session, User, alice.id).presence == Presence.AWAY


def test_an_agent_set_away_by_a_lapsed_offer_keeps_no_other_offer(session: Session, queue, other_queue) -> None:
    """sweep() sets the agent Away; an Away agent must not keep holding other offers."""
    alice = make_agent(session, "alice", queues=[queue, other_queue], capacity=3, presence_changed_at=at(0))
    first = start(session, queue)
    second = start(session, other_queue)
    assert offers_to(session, alice.id) == [first.id, second.id]
    now = utcnow()
    # The second offer was made later, so it lapses later.
    session.execute(
        update(Interaction)
        .where(col(Interaction.id) == second.id)
        .values(offer_expires_at=now + timedelta(seconds=OFFER_SECONDS * 3))
    )
    session.commit()
    touch_all(session, now)
    bob = make_agent(session, "bob", queues=[other_queue], presence_changed_at=at(1))

    routing.sweep(session, presence_grace_seconds=3600, now=now + timedelta(seconds=OFFER_SECONDS + 1))

    assert fresh(session, User, alice.id).presence == Presence.AWAY
    row = fresh(session, Interaction, second.id)
    assert row.offered_to_id != alice.id
    assert row.state == InteractionState.OFFERED and row.offered_to_id == bob.id
    # The trail tells why: the lapse, the automatic Away, the other offer withdrawn.
    trail = list(session.exec(select(AuditLog).where(col(AuditLog.actor_kind) == "system").order_by(col(AuditLog.id))))
    lines = [line.text for line in audit_words.describe(session, trail)]
    assert lines[-4:] == [
        "System set Alice Away: they did not answer an offer in time",
        f"Alice did not answer the offer of the chat {first.number} in time",
        f"System withdrew the offer of the chat {second.number} from Alice: they are no longer Available",
        f"System offered the chat {second.number} to Bob",
    ]


def test_every_lapsed_offer_of_an_agent_comes_back_to_them(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue], capacity=2)
    first = start(session, queue)
    second = start(session, queue)
    assert offers_to(session, alice.id) == [first.id, second.id]
    now = utcnow()
    touch_all(session, now)

    # Both offers have lapsed by the time the sweep runs.
    routing.sweep(session, presence_grace_seconds=3600, now=now + timedelta(seconds=OFFER_SECONDS + 1))

    assert fresh(session, User, alice.id).presence == Presence.AWAY
    assert session.exec(select(OfferRejection)).all() == []
    assert len(session.exec(select(AgentNotice).where(AgentNotice.user_id == alice.id)).all()) == 1  # told once
    routing.set_presence(session, user_id=alice.id, presence=Presence.AVAILABLE)
    assert offers_to(session, alice.id) == [first.id, second.id]


def test_presence_expiry_sets_offline_and_returns_offers(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue], presence_changed_at=at(0))
    item = start(session, queue)
    assert offers_to(session, alice.id) == [item.id]
    bob = make_agent(session, "bob", queues=[queue], presence_changed_at=at(1))
    away = make_agent(session, "away", queues=[queue], presence=Presence.AWAY)
    now = utcnow()
    touch_all(session, now - timedelta(seconds=600))
    session.execute(update(User).where(col(User.id) == bob.id).values(last_seen_at=now - timedelta(seconds=10)))
    session.commit()

    routing.sweep(session, presence_grace_seconds=60, now=now)

    assert fresh(session, User, alice.id).presence == Presence.OFFLINE
    assert fresh(session, User, away.id).presence == Presence.OFFLINE
    assert fresh(session, User, bob.id).presence == Presence.AVAILABLE
    # alice's offer came back and the drain after the sweep gave it to bob.
    assert offers_to(session, alice.id) == []
    assert offers_to(session, bob.id) == [item.id]


def test_presence_expiry_tells_the_agent_why_once_and_available_retires_it(session: Session, queue, announced) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    bob = make_agent(session, "bob", queues=[queue])  # still connected: told nothing
    now = utcnow()
    touch_all(session, now - timedelta(seconds=600))
    session.execute(update(User).where(col(User.id) == bob.id).values(last_seen_at=now))
    session.commit()
    announced.take()

    routing.sweep(session, presence_grace_seconds=60, now=now)
    assert fresh(session, User, alice.id).presence == Presence.OFFLINE
    [told] = notices.unseen_notices(session, user_id=alice.id)
    assert (told.body, told.level, told.topic) == (absence.SET_OFFLINE, "warning", notices.NoticeTopic.CONNECTION)
    assert AgentChanged(alice.id) in announced  # her tabs (if one is left) show it
    assert notices.unseen_notices(session, user_id=bob.id) == []

    # Back as Away, lost again: still one notice, not a stack of copies.
    routing.sweep(session, presence_grace_seconds=60, now=now + timedelta(seconds=1))
    routing.set_presence(session, user_id=alice.id, presence=Presence.AWAY)
    routing.sweep(session, presence_grace_seconds=60, now=now + timedelta(seconds=2))
    assert fresh(session, User, alice.id).presence == Presence.OFFLINE
    assert [n.body for n in notices.unseen_notices(session, user_id=alice.id)] == [absence.SET_OFFLINE]

    # Available again: "you were set Offline" goes from every tab of hers.
    announced.take()
    routing.set_presence(session, user_id=alice.id, presence=Presence.AVAILABLE)
    assert notices.unseen_notices(session, user_id=alice.id) == []
    assert AgentChanged(alice.id) in announced


def test_presence_expiry_respects_the_grace(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    now = utcnow()
    touch_all(session, now - timedelta(seconds=50))

    routing.sweep(session, presence_grace_seconds=60, now=now)
    assert fresh(session, User, alice.id).presence == Presence.AVAILABLE

    routing.sweep(session, presence_grace_seconds=60, now=now + timedelta(seconds=11))
    assert fresh(session, User, alice.id).presence == Presence.OFFLINE


def test_touch_agent_records_the_heartbeat(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    touch_all(session, utcnow() - timedelta(hours=1))
    before = utcnow()
    routing.touch_agent(session, user_id=alice.id)
    assert fresh(session, User, alice.id).last_seen_at >= before
    routing.sweep(session, presence_grace_seconds=60)
    assert fresh(session, User, alice.id).presence == Presence.AVAILABLE
