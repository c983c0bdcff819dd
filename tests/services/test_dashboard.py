"""Supervisor figures over seeded history: only today's window counts."""

from __future__ import annotations

from datetime import timedelta

from agent_workspace.models import InteractionState, Presence, utcnow
from agent_workspace.services import dashboard
from tests.factories import make_customer, make_interaction, make_queue, make_user
from tests.services.record_helpers import TRANSFER_NOTE, whole_story


def test_queue_and_agent_figures_count_today_only(session):
    now = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    since = dashboard.start_of_day(now)
    queue = make_queue(session, name="Billing")
    agent = make_user(session, username="ann", capacity=3)
    agent.presence = Presence.AVAILABLE
    session.commit()
    customer = make_customer(session)

    def chat(state, *, requested, accepted=None, closed=None, wait=None, agent_=None):
        item = make_interaction(session, queue=queue, customer=customer, state=state, agent=agent_)
        item.requested_at, item.accepted_at, item.closed_at, item.wait_seconds = requested, accepted, closed, wait
        session.commit()
        return item

    # Yesterday's history must not count.
    for day in range(1, 4):
        old = now - timedelta(days=day)
        chat(
            InteractionState.CLOSED_COMPLETE,
            requested=old,
            accepted=old,
            closed=old + timedelta(minutes=9),
            wait=30,
            agent_=agent,
        )
    # Today: two handled (5 and 15 minutes), one abandoned, one in progress, two waiting.
    chat(
        InteractionState.CLOSED_COMPLETE,
        requested=now - timedelta(hours=3),
        accepted=now - timedelta(hours=3),
        closed=now - timedelta(hours=3) + timedelta(minutes=5),
        wait=20,
        agent_=agent,
    )
    rated = chat(
        InteractionState.CLOSED_COMPLETE,
        requested=now - timedelta(hours=2),
        accepted=now - timedelta(hours=2),
        closed=now - timedelta(hours=2) + timedelta(minutes=15),
        wait=40,
        agent_=agent,
    )
    rated.rating = 4
    session.commit()
    chat(InteractionState.CLOSED_ABANDONED, requested=now - timedelta(hours=1), closed=now - timedelta(minutes=50))
    chat(
        InteractionState.WORK_IN_PROGRESS,
        requested=now - timedelta(minutes=30),
        accepted=now - timedelta(minutes=29),
        wait=60,
        agent_=agent,
    )
    chat(InteractionState.QUEUED, requested=now - timedelta(seconds=90))
    chat(InteractionState.QUEUED, requested=now - timedelta(seconds=30))

    [billing] = dashboard.queue_stats(session, since=since, now=now)
    assert (billing.waiting, billing.longest_wait_seconds, billing.average_wait_seconds) == (2, 90, 60)
    assert (billing.accepted_today, billing.abandoned_today) == (3, 1)
    assert (billing.average_rating, billing.ratings_today) == (4.0, 1)

    [ann] = dashboard.agent_stats(session, since=since)
    assert (ann.active_chats, ann.capacity, ann.handled_today) == (1, 3, 2)
    assert ann.average_handle_seconds == 600

    hours = dashboard.hourly(session, since=since, now=now)
    assert len(hours) == 13 and sum(h.requests for h in hours) == 6
    assert next(h for h in hours if h.hour == "09:00").average_wait_seconds == 20

    active = dashboard.active_chats(session)
    assert [c.state for c in active] == ["work_in_progress", "queued", "queued"]


def test_the_audit_log_reads_in_words_newest_first(session):
    story = whole_story(session)

    rows = dashboard.recent_audit(session, limit=100)

    assert rows[0][1:] == ("The customer", "Chat rated", f"The customer rated the chat {story.chat.number} 4 of 5")
    assert (
        "Ann Agent",
        "Chat transferred to a queue",
        f"Ann Agent transferred the chat {story.chat.number} from General to Billing: {TRANSFER_NOTE}",
    ) in [row[1:] for row in rows]
    assert [row[0] for row in rows] == sorted((row[0] for row in rows), reverse=True)
    assert not any("{" in detail or "_" in action for _at, _actor, action, detail in rows)
