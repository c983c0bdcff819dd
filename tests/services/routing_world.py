"""The routing world test_routing_properties.py drives: one example's database and what the
test expects of it, a method per random operation checking what it did, and
``check_invariants`` for what must hold after every step."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import note
from sqlmodel import Session, col, func, select

from agent_workspace import db
from agent_workspace.models import (
    OPEN_STATES,
    AgentNotice,
    AuditLog,
    CloseReason,
    Interaction,
    InteractionState,
    Message,
    OfferRejection,
    Presence,
    QueueMember,
    SenderKind,
    User,
    utcnow,
)
from agent_workspace.services import chat_close, conversations, hours, routing
from agent_workspace.services.errors import Conflict, Forbidden, NotFound, ValidationError
from tests.factories import make_queue, make_user

GRACE_SECONDS = 60
N_QUEUES = 3
N_AGENTS = 4
PRESENCES = [Presence.AVAILABLE, Presence.AVAILABLE, Presence.AVAILABLE, Presence.AWAY, Presence.OFFLINE]

W = Interaction  # shorter queries


class World:
    """The database of one example, what the test expects of it, and one method per operation."""

    def __init__(self, path: Path) -> None:
        self.engine = db.make_engine(f"sqlite:///{path}")
        self.s = Session(self.engine, expire_on_commit=False)
        self.queue_ids: list[int] = []
        self.agent_ids: list[int] = []
        self.capacity: dict[int, int] = {}
        self.members: dict[int, set[int]] = {}
        self.chats: list[int] = []
        self.first_agent: dict[int, int] = {}  # chat -> the agent it was assigned to
        self.declined: set[tuple[int, int]] = set()  # (chat, agent)
        self.sent: dict[tuple[int, str], tuple[int, str]] = {}  # (chat, client id) -> (message id, body)
        self.client_ids = itertools.count()
        self.events: list[str] = []
        self.closed_queues: set[int] = set()
        # Audit-log ids at which a queue closed / an agent opted out: offers made after them are checked.
        self.closed_mark: dict[int, int] = {}
        self.opt_out_mark: dict[int, int] = {}

    def close_db(self) -> None:
        self.s.close()
        self.engine.dispose()

    # -------------------------------------------------------------- helpers

    def rows(self) -> list[Interaction]:
        self.s.expire_all()
        return list(self.s.exec(select(W).order_by(col(W.id))))

    def item(self, chat_id: int) -> Interaction:
        self.s.expire_all()
        return self.s.get(W, chat_id)

    def user(self, user_id: int) -> User:
        self.s.expire_all()
        return self.s.get(User, user_id)

    def wip(self, user_id: int) -> int:
        return sum(1 for r in self.rows() if r.agent_id == user_id and r.state == InteractionState.WORK_IN_PROGRESS)

    def audit_mark(self) -> int:
        return self.s.exec(select(func.max(AuditLog.id))).one() or 0

    def offer_marks(self) -> dict[int, int]:
        """Chat -> the audit id of its latest offer."""
        rows = self.s.exec(
            select(AuditLog.target_id, func.max(AuditLog.id))
            .where(AuditLog.action == "interaction.offered")
            .group_by(AuditLog.target_id)
        )
        return dict(rows.all())

    def db_declined(self) -> set[tuple[int, int]]:
        return {(r.interaction_id, r.user_id) for r in self.s.exec(select(OfferRejection))}

    def recent_customer_messages(self, chat_id: int) -> int:
        since = utcnow() - conversations.MESSAGE_RATE_WINDOW
        return len(
            self.s.exec(
                select(Message.id).where(
                    Message.interaction_id == chat_id,
                    Message.sender_kind == SenderKind.CUSTOMER,
                    Message.created_at >= since,
                )
            ).all()
        )

    def pick_chat(self, c: int, *, live: bool) -> int:
        """Any chat; with ``live``, preferably one an agent is working on."""
        candidates = [r.id for r in self.rows() if r.state == InteractionState.WORK_IN_PROGRESS] if live else []
        candidates = candidates or self.chats
        return candidates[c % len(candidates)]

    def expect_error(self, error: type[Exception], call) -> None:
        with pytest.raises(error):
            call()
        self.s.rollback()
        self.events.append(f"refused: {error.__name__}")

    # -------------------------------------------------------------- world

    def build(self, rng: random.Random) -> None:
        self.queue_ids = [make_queue(self.s, f"Queue {q}").id for q in range(N_QUEUES)]
        for a in range(N_AGENTS):
            capacity = rng.randint(1, 3)
            queues = rng.sample(range(N_QUEUES), rng.randint(1, N_QUEUES))
            user = make_user(self.s, f"agent{a}", capacity=capacity)
            user.last_seen_at = utcnow()
            user.presence = rng.choice(PRESENCES)
            for q in queues:
                self.s.add(QueueMember(queue_id=self.queue_ids[q], user_id=user.id))
            self.s.add(user)
            self.s.commit()
            self.agent_ids.append(user.id)
            self.capacity[user.id] = capacity
            self.members[user.id] = {self.queue_ids[q] for q in queues}
        note(f"capacities={list(self.capacity.values())} members={list(self.members.values())}")

    # ---------------------------------------------------------- customers

    def start(self, q: int) -> None:
        started = conversations.start_chat(
            self.s,
            name=f"Customer {len(self.chats)}",
            email="c@example.com",
            queue_id=self.queue_ids[q],
            question=f"Question number {len(self.chats)}",
        )
        self.chats.append(started.id)

    def customer_end(self, c: int) -> None:
        chat_id = self.chats[c % len(self.chats)]
        before = self.item(chat_id)
        was_state, was_ended = before.state, before.customer_ended_at
        chat_close.customer_end(self.s, interaction_id=chat_id)
        after = self.item(chat_id)
        if was_state in routing.WAITING_STATES:
            assert after.state == InteractionState.CLOSED_ABANDONED
            assert after.close_reason == CloseReason.CUSTOMER_LEFT_BEFORE_ENGAGEMENT
            assert after.offered_to_id is None
        elif was_state == InteractionState.WORK_IN_PROGRESS:
            assert after.state == InteractionState.WORK_IN_PROGRESS
            assert after.customer_ended_at is not None
            if was_ended is not None:
                assert after.customer_ended_at == was_ended
        else:
            assert after.state == was_state

    # ---------------------------------------------------------- agents

    def offers_of(self, user_id: int) -> list[int]:
        return [r.id for r in self.rows() if r.state == InteractionState.OFFERED and r.offered_to_id == user_id]

    def set_presence(self, a: int, presence: str) -> None:
        user_id = self.agent_ids[a]
        had_offers = self.offers_of(user_id)
        routing.set_presence(self.s, user_id=user_id, presence=presence)
        assert self.user(user_id).presence == presence
        if presence != Presence.AVAILABLE:
            assert self.offers_of(user_id) == []
        if had_offers and presence != Presence.AVAILABLE:
            self.events.append("presence: offers handed back")

    def touch(self, a: int) -> None:
        routing.touch_agent(self.s, user_id=self.agent_ids[a])

    def tab_gone(self, a: int) -> None:
        """The agent's tabs stopped sending heartbeats a while ago (the only direct write the driver makes)."""
        user = self.user(self.agent_ids[a])
        user.last_seen_at = utcnow() - timedelta(seconds=2 * GRACE_SECONDS)
        self.s.add(user)
        self.s.commit()

    def drain(self) -> None:
        routing.drain(self.s)

    def accept(self, a: int, q: int) -> None:
        self._accept(self.agent_ids[a], self.queue_ids[q])

    def accept_as_an_available_member(self, a: int, q: int) -> None:
        """The productive case, so that claims happen often: an Available agent in one of their queues."""
        self.s.expire_all()
        available = [u.id for u in self.s.exec(select(User).order_by(col(User.id))) if u.presence == Presence.AVAILABLE]
        if not available:
            return
        user_id = available[a % len(available)]
        queues = sorted(self.members[user_id])
        self._accept(user_id, queues[q % len(queues)])

    def _accept(self, user_id: int, queue_id: int) -> None:
        agent = self.user(user_id)
        had_offers = self.offers_of(user_id)
        declined = self.db_declined()
        eligible = [
            r
            for r in self.rows()
            if r.queue_id == queue_id
            and (
                (r.state == InteractionState.QUEUED and (r.id, user_id) not in declined)
                or (r.state == InteractionState.OFFERED and r.offered_to_id == user_id)
            )
        ]
        call = lambda: routing.accept(self.s, user_id=user_id, queue_id=queue_id)  # noqa: E731
        if agent.presence != Presence.AVAILABLE or queue_id not in self.members[user_id]:
            return self.expect_error(Forbidden, call)
        if self.wip(user_id) >= self.capacity[user_id]:
            return self.expect_error(Conflict, call)
        if queue_id in self.closed_queues and not agent.after_hours:
            # Out of hours without the opt-in: only what was offered to the agent before.
            eligible = [r for r in eligible if r.state == InteractionState.OFFERED]
            if not eligible:
                return self.expect_error(Forbidden, call)
        if not eligible:
            return self.expect_error(NotFound, call)
        oldest = min(eligible, key=lambda r: (r.requested_at, r.id))
        oldest_id, was_offered = oldest.id, oldest.state == InteractionState.OFFERED
        item = call()
        assert item.id == oldest_id, "accept must claim the oldest eligible request"
        self.events.append("accept: claimed" + (" an offer" if was_offered else " a queued chat"))
        self.first_agent[item.id] = user_id
        row = self.item(item.id)
        assert row.state == InteractionState.WORK_IN_PROGRESS and row.agent_id == user_id
        if self.wip(user_id) >= self.capacity[user_id]:
            # At capacity: the agent's other offers are handed back, and offered to someone else.
            assert self.offers_of(user_id) == []
            if set(had_offers) - {oldest_id}:
                self.events.append("accept: released offers at capacity")

    def reject(self, a: int, c: int) -> None:
        user_id = self.agent_ids[a]
        chat_id = self.chats[c % len(self.chats)]
        row = self.item(chat_id)
        call = lambda: routing.reject(self.s, user_id=user_id, interaction_id=chat_id, reason="Busy")  # noqa: E731
        if row.queue_id not in self.members[user_id]:
            return self.expect_error(NotFound, call)
        if row.state not in routing.WAITING_STATES:
            return self.expect_error(Conflict, call)
        if row.state == InteractionState.OFFERED and row.offered_to_id != user_id:
            return self.expect_error(Conflict, call)
        call()
        self.events.append("reject: done")
        self.declined.add((chat_id, user_id))
        after = self.item(chat_id)
        assert after.state in routing.WAITING_STATES and after.offered_to_id != user_id

    def sweep(self, jump: int | None) -> None:
        """``jump`` seconds ahead; ``None``: just after the earliest pending offer lapses (only that one)."""
        expiries = sorted(r.offer_expires_at for r in self.rows() if r.state == InteractionState.OFFERED)
        if jump is None and expiries:
            now = expiries[0] + timedelta(microseconds=1)
            if len(expiries) > 1 and expiries[1] >= now:
                self.events.append("sweep: between two offers' deadlines")
        else:
            now = utcnow() + timedelta(seconds=jump or 0)
        lapsed = [
            (r.id, r.offered_to_id)
            for r in self.rows()
            if r.state == InteractionState.OFFERED and r.offer_expires_at < now
        ]
        cutoff = now - timedelta(seconds=GRACE_SECONDS)
        self.s.expire_all()
        unseen = {u.id: u.presence for u in self.s.exec(select(User)) if not u.last_seen_at or u.last_seen_at < cutoff}
        gone = [user_id for user_id, presence in unseen.items() if presence != Presence.OFFLINE]
        live = [r for r in self.rows() if r.state == InteractionState.WORK_IN_PROGRESS and not r.customer_ended_at]
        stranded = [(r.id, r.agent_id) for r in live if r.agent_id in unseen]
        routing.sweep(self.s, presence_grace_seconds=GRACE_SECONDS, now=now)
        for chat_id, agent_id in stranded:  # an absent agent keeps no customer: back in line
            after = self.item(chat_id)
            assert after.state in routing.WAITING_STATES and after.offered_to_id != agent_id, (
                "left with an absent agent"
            )
            del self.first_agent[chat_id]
            self.events.append("sweep: an absent agent's chats back in line")
        if lapsed:
            self.events.append("sweep: offers lapsed")
        if gone:
            self.events.append("sweep: presence expired")
        declined = self.db_declined()
        for chat_id, user_id in lapsed:
            assert self.user(user_id).presence != Presence.AVAILABLE
            assert self.item(chat_id).offered_to_id != user_id
            assert (chat_id, user_id) not in declined, "a lapsed offer was stored as a rejection"
            assert self.s.exec(select(AgentNotice).where(AgentNotice.user_id == user_id)).first() is not None
        for user_id in gone:
            assert self.user(user_id).presence == Presence.OFFLINE

    def business_hours(self, q: int, closed: bool) -> None:
        """Close a queue for days around now (a closure), or open it around the clock."""
        queue_id = self.queue_ids[q]
        today = utcnow().date()
        closures = f"{today - timedelta(days=1)}..{today + timedelta(days=2)}" if closed else ""
        hours.set_hours(
            self.s,
            queue_id=queue_id,
            weekly_hours="",
            time_zone="UTC",
            closures=closures,
            closed_message="",
            actor_id=None,
        )
        (self.closed_queues.add if closed else self.closed_queues.discard)(queue_id)
        self.closed_mark[queue_id] = self.audit_mark()
        self.events.append("hours: closed a queue" if closed else "hours: opened a queue")

    def after_hours(self, a: int, enabled: bool) -> None:
        user_id = self.agent_ids[a]
        routing.set_after_hours(self.s, user_id=user_id, enabled=enabled)
        assert self.user(user_id).after_hours == enabled
        if not enabled:
            self.opt_out_mark[user_id] = self.audit_mark()
        if enabled:
            self.events.append("after hours: opted in")

    # ---------------------------------------------------------- messages

    def post(self, c: int, who: str, a: int, body: str, retry: bool) -> None:
        chat_id = self.pick_chat(c, live=who == "assigned agent")
        row = self.item(chat_id)
        if who == "customer":
            kind, user_id = SenderKind.CUSTOMER, None
        else:
            kind = SenderKind.AGENT
            user_id = row.agent_id if who == "assigned agent" and row.agent_id else self.agent_ids[a]
        earlier = [cid for (chat, cid) in self.sent if chat == chat_id]
        if retry and earlier:
            client_id = earlier[len(earlier) // 2]
            stored_id, stored_body = self.sent[(chat_id, client_id)]
            message, follows = conversations.post_message(
                self.s,
                interaction_id=chat_id,
                sender_kind=kind,
                body=body,
                client_id=client_id,
                sender_user_id=user_id,
            )
            assert (message.id, message.body, follows) == (stored_id, stored_body, None)
            self.events.append("post: retried send")
            return
        client_id = f"client-{next(self.client_ids):06d}"
        call = lambda: conversations.post_message(  # noqa: E731
            self.s,
            interaction_id=chat_id,
            sender_kind=kind,
            body=body,
            client_id=client_id,
            sender_user_id=user_id,
        )
        if row.state not in OPEN_STATES or row.customer_ended_at is not None:
            return self.expect_error(Conflict, call)
        if kind == SenderKind.AGENT and (row.state != InteractionState.WORK_IN_PROGRESS or row.agent_id != user_id):
            return self.expect_error(Forbidden, call)
        if (
            kind == SenderKind.CUSTOMER
            and self.recent_customer_messages(chat_id) >= conversations.MAX_CUSTOMER_MESSAGES_PER_WINDOW
        ):
            return self.expect_error(ValidationError, call)  # the public page's flood limit
        message, _ = call()
        self.events.append(f"post: stored ({kind})")
        self.sent[(chat_id, client_id)] = (message.id, body.strip())

    # ---------------------------------------------------------- close

    def close(self, c: int, a: int, own: bool, save: bool) -> None:
        chat_id = self.pick_chat(c, live=own)
        row = self.item(chat_id)
        user_id = row.agent_id if own and row.agent_id else self.agent_ids[a]
        ended = row.customer_ended_at is not None
        call = lambda: chat_close.close(self.s, interaction_id=chat_id, user_id=user_id, save_history=save)  # noqa: E731
        if row.agent_id != user_id:
            return self.expect_error(NotFound, call)
        if row.state != InteractionState.WORK_IN_PROGRESS:
            return self.expect_error(Conflict, call)
        call()
        self.events.append("close: done")
        after = self.item(chat_id)
        assert after.state == InteractionState.CLOSED_COMPLETE and after.closed_at is not None
        if save:
            assert after.transcript and after.close_reason == (
                CloseReason.CUSTOMER_ENDED if ended else CloseReason.AGENT_ENDED
            )
        else:
            assert after.transcript is None and after.close_reason == CloseReason.TAB_CLOSED

    # ---------------------------------------------------------- invariants

    def check_nothing_left_that_could_be_offered(self) -> None:
        rows = self.rows()
        declined = self.db_declined()
        load = {u: 0 for u in self.agent_ids}
        for r in rows:
            if r.state == InteractionState.WORK_IN_PROGRESS:
                load[r.agent_id] += 1
            elif r.state == InteractionState.OFFERED:
                load[r.offered_to_id] += 1
        self.s.expire_all()
        available = {u.id: u.after_hours for u in self.s.exec(select(User)) if u.presence == Presence.AVAILABLE}
        for r in rows:
            if r.state != InteractionState.QUEUED:
                continue
            for user_id, after_hours in available.items():
                could = (
                    r.queue_id in self.members[user_id]
                    and (r.id, user_id) not in declined
                    and load[user_id] < self.capacity[user_id]
                    and (after_hours or r.queue_id not in self.closed_queues)
                )
                assert not could, f"chat {r.id} left queued although agent {user_id} could take it"

    def check_invariants(self) -> None:
        rows = self.rows()
        declined = self.db_declined()
        assert self.declined <= declined
        self.s.expire_all()
        presence = {u.id: u.presence for u in self.s.exec(select(User))}
        after_hours = {u.id: u.after_hours for u in self.s.exec(select(User))}
        offered_at_mark = self.offer_marks()
        wip = {u: 0 for u in self.agent_ids}
        for r in rows:
            # The assignment, once made, never changes.
            if r.id in self.first_agent:
                assert r.agent_id == self.first_agent[r.id]
            if r.state == InteractionState.QUEUED:
                assert r.agent_id is None and r.offered_to_id is None and r.offer_expires_at is None
            elif r.state == InteractionState.OFFERED:
                assert r.agent_id is None and r.offered_to_id is not None and r.offer_expires_at is not None
                assert r.queue_id in self.members[r.offered_to_id]
                assert presence[r.offered_to_id] == Presence.AVAILABLE, "offer held by an agent who is not Available"
                assert (r.id, r.offered_to_id) not in declined, "offered again to an agent who declined it"
                mark = offered_at_mark[r.id]
                if r.queue_id in self.closed_queues and mark > max(
                    self.closed_mark[r.queue_id], self.opt_out_mark.get(r.offered_to_id, 0)
                ):
                    assert after_hours[r.offered_to_id], (
                        "a closed queue's chat was offered to an agent who did not opt in"
                    )
            elif r.state == InteractionState.WORK_IN_PROGRESS:
                assert r.agent_id is not None and r.offered_to_id is None
                assert r.queue_id in self.members[r.agent_id]
                wip[r.agent_id] += 1
            elif r.state == InteractionState.CLOSED_COMPLETE:
                assert r.agent_id is not None and r.closed_at is not None
            else:
                assert r.state == InteractionState.CLOSED_ABANDONED
                assert r.agent_id is None and r.offered_to_id is None and r.closed_at is not None
            if r.agent_id is not None:
                assert (r.id, r.agent_id) not in declined, "assigned to an agent who declined it"
        for user_id, n in wip.items():
            assert n <= self.capacity[user_id], f"agent {user_id} over capacity"
        # Nobody stranded: every capacity event drains, so this holds after every step.
        self.check_nothing_left_that_could_be_offered()
        # Every accepted send stored exactly once, and nothing else from customers or agents.
        stored = {
            (m.interaction_id, m.client_id): (m.id, m.body)
            for m in self.s.exec(select(Message).where(Message.sender_kind != SenderKind.SYSTEM))
        }
        assert stored == self.sent


Operation = tuple[str, int, Callable[[random.Random], dict]]  # name, weight, its arguments drawn


def drawn_steps(
    rng: random.Random, operations: Sequence[Operation], steps: int, world: World, needs_a_chat: set[str]
) -> Iterator[tuple[int, str, dict]]:
    """The random run: each step's operation by weight (a chat is started first
    when the drawn one needs a chat and there is none) and its arguments."""
    names = [name for name, _w, _a in operations]
    weights = [w for _n, w, _a in operations]
    draw_args = {name: args for name, _w, args in operations}
    for step in range(steps):
        name = rng.choices(names, weights)[0]
        if name in needs_a_chat and not world.chats:
            name = "start"
        yield step, name, draw_args[name](rng)
