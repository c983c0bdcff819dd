"""Offer timeouts and presence expiry come from stored timestamps, whichever process sweeps them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from agent_workspace.models import AuditLog, Interaction, OfferRejection, User, utcnow
from tests.scaleout.conftest import OFFER_TIMEOUT_SECONDS, PRESENCE_GRACE_SECONDS
from tests.scaleout.tabs import AgentTab, CustomerTab

pytestmark = pytest.mark.scaleout
SWEEP_SLACK = 2.0 + 4.0  # the sweeper runs every 2 s in every process; margin for a busy machine


def _audit_at(session, action: str, target_id: int):
    return session.exec(
        select(AuditLog.at).where(AuditLog.action == action, AuditLog.target_id == target_id).order_by(AuditLog.id)
    ).all()


async def test_an_offer_to_an_agent_on_b_times_out_and_goes_to_an_agent_on_a(cluster):
    queue_id, queue_name = cluster.queue("Timeout")
    slow_id, slow_cookie = cluster.agent(queues=[queue_name], capacity=2)
    quick_id, quick_cookie = cluster.agent(queues=[queue_name], capacity=2)
    slow = await AgentTab().connect(cluster.b.port, slow_cookie)  # never answers the offer
    quick = await AgentTab().connect(cluster.a.port, quick_cookie)
    customer = await CustomerTab().connect(cluster.a.port)
    try:
        for tab in (slow, quick):
            await tab.load()
        await slow.go_available()

        await customer.load()
        await customer.send(
            "start_chat",
            {
                "form": {
                    "name": "Patient Customer",
                    "email": "patient@example.com",
                    "queue_id": str(queue_id),
                    "question": "Is anyone there?",
                }
            },
        )
        await customer.wait_until(lambda v: v.get("phase") == "waiting", what="waiting")
        await slow.wait_until(lambda v: any(c["offered_to_me"] for c in v.get("inbox", [])), what="the offer on B")
        interaction_id = next(c["interaction_id"] for c in slow.vars["inbox"] if c["offered_to_me"])

        # The sweeper (on A or B) returns the chat to the queue and sets the
        # agent Away; the agent's socket on B is told.
        await slow.wait_until(
            lambda v: v.get("presence") == "away",
            timeout=OFFER_TIMEOUT_SECONDS + SWEEP_SLACK + 4,
            what="Away after the offer lapsed",
        )
        await slow.wait_until(
            lambda v: not any(c["offered_to_me"] for c in v.get("inbox", [])), what="the offer withdrawn"
        )
        with cluster.session() as session:
            item = session.get(Interaction, interaction_id)
            assert item.state == "queued" and item.offered_to_id is None
            assert session.get(OfferRejection, (interaction_id, slow_id)) is None  # a lapse is no rejection
            assert session.get(User, slow_id).presence == "away"
            (offered_at,) = _audit_at(session, "interaction.offered", interaction_id)
            (timed_out_at,) = _audit_at(
                session, "interaction.offer_timed_out", interaction_id
            )  # once, though two processes sweep
        waited = (timed_out_at - offered_at).total_seconds()
        assert OFFER_TIMEOUT_SECONDS <= waited <= OFFER_TIMEOUT_SECONDS + SWEEP_SLACK, waited
        assert customer.vars["phase"] == "waiting"

        # Another agent, on A, becomes Available: the chat is offered there and taken.
        await quick.send("set_presence", {"label": "Available"})
        await quick.wait_until(
            lambda v: any(c["offered_to_me"] and c["interaction_id"] == interaction_id for c in v.get("inbox", [])),
            what="the re-offer on A",
        )
        await quick.send("accept", {"queue_id": queue_id})
        await quick.wait_until(
            lambda v: [t["interaction_id"] for t in v.get("tabs", [])] == [interaction_id], what="the chat on A"
        )
        await customer.wait_until(lambda v: v.get("phase") == "chatting", what="chatting")
    finally:
        for tab in (slow, quick, customer):
            await tab.close()
        cluster.sign_off(slow_id, quick_id)


async def test_a_lone_agent_on_b_who_lets_an_offer_lapse_gets_it_again(cluster):
    """The stranding bug, across processes: the customer on A is told nobody is
    there, the agent on B is told why they are Away, and once Available again
    the same chat is offered to them."""
    queue_id, queue_name = cluster.queue("Lone")
    lone_id, lone_cookie = cluster.agent(queues=[queue_name], capacity=2)
    lone = await AgentTab().connect(cluster.b.port, lone_cookie)
    customer = await CustomerTab().connect(cluster.a.port)
    try:
        await lone.load()
        await lone.go_available()
        await customer.load()
        await customer.send(
            "start_chat",
            {
                "form": {
                    "name": "Lone Customer",
                    "email": "lone@example.com",
                    "queue_id": str(queue_id),
                    "question": "Hello?",
                }
            },
        )
        await lone.wait_until(lambda v: any(c["offered_to_me"] for c in v.get("inbox", [])), what="the offer on B")
        interaction_id = next(c["interaction_id"] for c in lone.vars["inbox"] if c["offered_to_me"])

        await lone.wait_until(
            lambda v: v.get("presence") == "away",
            timeout=OFFER_TIMEOUT_SECONDS + SWEEP_SLACK + 4,
            what="Away after the lapse",
        )
        await lone.wait_until(
            lambda v: any("You missed an offer from" in notice[1] for notice in v.get("notices", [])),
            what="told why on B",
        )
        await customer.wait_until(
            lambda v: (v.get("outlook") or {}).get("status") == "nobody", what="told nobody is there on A"
        )

        await lone.send("set_presence", {"label": "Available"})
        await lone.wait_until(
            lambda v: any(c["offered_to_me"] and c["interaction_id"] == interaction_id for c in v.get("inbox", [])),
            what="offered again on B",
        )
        await lone.send("accept", {"queue_id": queue_id})
        await customer.wait_until(lambda v: v.get("phase") == "chatting", what="chatting on A")
    finally:
        for tab in (lone, customer):
            await tab.close()
        cluster.sign_off(lone_id)


async def test_presence_expires_for_a_silent_tab_on_b_but_not_for_a_live_one(cluster):
    queue_id, queue_name = cluster.queue("Presence")
    silent_id, silent_cookie = cluster.agent(queues=[queue_name])
    live_id, live_cookie = cluster.agent(queues=[queue_name])
    silent = await AgentTab().connect(
        cluster.b.port, silent_cookie, tick=False
    )  # a frozen page: socket open, no heartbeat
    live = await AgentTab().connect(cluster.b.port, live_cookie)  # ticks every 5 s, like the page
    try:
        for tab in (silent, live):
            await tab.load()
            await tab.go_available()
        # Time passes for the silent tab only: its last heartbeat is moved back
        # past the grace period (the live tab keeps heartbeating through B).
        backdated = utcnow() - timedelta(seconds=PRESENCE_GRACE_SECONDS + 1)
        with cluster.session() as session:
            session.execute(update(User).where(col(User.id) == silent_id).values(last_seen_at=backdated))
            session.commit()
        await silent.wait_until(
            lambda v: v.get("presence") == "offline", timeout=SWEEP_SLACK + 4, what="Offline pushed to B"
        )
        with cluster.session() as session:
            silent_user = session.get(User, silent_id)
            live_user = session.get(User, live_id)
            expired = session.exec(
                select(AuditLog).where(AuditLog.action == "presence.expired", AuditLog.target_id == silent_id)
            ).all()
        assert silent_user.presence == "offline" and len(expired) == 1
        assert (silent_user.presence_changed_at - silent_user.last_seen_at).total_seconds() >= PRESENCE_GRACE_SECONDS
        assert live_user.presence == "available"
        assert live.vars["presence"] == "available"
    finally:
        await silent.close()
        await live.close()
        cluster.sign_off(silent_id, live_id)
