"""Offer timeouts and presence expiry come from stored timestamps, whichever process sweeps them."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from agent_workspace.agent_workspace import OPEN_TABS_SEEN_SECONDS
from agent_workspace.models import AuditLog, Interaction, OfferRejection, User, utcnow
from tests.scaleout.conftest import OFFER_TIMEOUT_SECONDS, PRESENCE_GRACE_SECONDS, SOCKET_PING_SECONDS
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


async def test_presence_expires_for_a_frozen_tab_on_b_but_not_for_a_hidden_or_live_one(cluster):
    """A frozen page answers nothing: the server drops its socket and the agent's
    presence expires. A hidden page's timers run once a minute, so it sends no
    heartbeat, but it answers the socket's pings: its agent stays present, as does
    the agent of a live tab."""
    queue_id, queue_name = cluster.queue("Presence")
    users = {name: cluster.agent(queues=[queue_name]) for name in ("frozen", "hidden", "live")}
    tabs = {
        name: await AgentTab().connect(cluster.b.port, cookie, tick=name == "live")
        for name, (_, cookie) in users.items()
    }
    ids = {name: user_id for name, (user_id, _) in users.items()}
    try:
        for tab in tabs.values():
            await tab.load()
            await tab.go_available()
        tabs["frozen"].client.answer_pings = False
        await asyncio.wait_for(tabs["frozen"].client.closed.wait(), timeout=4 * SOCKET_PING_SECONDS + 5)
        # Time passes for the two silent tabs only: the frozen one's heartbeat is
        # moved back past the grace period, the hidden one's to where the next
        # pass over the open sockets comes before the grace runs out.
        now = utcnow()
        backdated = {
            "frozen": now - timedelta(seconds=PRESENCE_GRACE_SECONDS + 1),
            "hidden": now - timedelta(seconds=PRESENCE_GRACE_SECONDS - OPEN_TABS_SEEN_SECONDS - SWEEP_SLACK),
        }
        with cluster.session() as session:
            for name, when in backdated.items():
                session.execute(update(User).where(col(User.id) == ids[name]).values(last_seen_at=when))
            session.commit()

        def seen() -> dict[str, tuple[str, datetime]]:
            with cluster.session() as session:
                return {name: (u.presence, u.last_seen_at) for name in ids if (u := session.get(User, ids[name]))}

        deadline = time.monotonic() + OPEN_TABS_SEEN_SECONDS + SWEEP_SLACK
        while (now_seen := seen())["hidden"][1] <= backdated["hidden"] or now_seen["frozen"][0] != "offline":
            assert time.monotonic() < deadline, (
                f"the hidden tab's socket was not seen, or the frozen tab's agent stayed: {now_seen}"
            )
            await asyncio.sleep(0.5)
        with cluster.session() as session:
            expired = session.exec(
                select(AuditLog.target_id).where(
                    AuditLog.action == "presence.expired", col(AuditLog.target_id).in_(ids.values())
                )
            ).all()
        assert expired == [ids["frozen"]]
        assert {name: presence for name, (presence, _) in now_seen.items()} == {
            "frozen": "offline",
            "hidden": "available",
            "live": "available",
        }
        assert tabs["hidden"].vars["presence"] == "available"
    finally:
        for tab in tabs.values():
            await tab.close()
        cluster.sign_off(*ids.values())
