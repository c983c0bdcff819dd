"""Random operation sequences over routing + conversations, with invariants after every step.

A hypothesis state machine drives a small world (3 queues, 4 agents with
capacities 1-3 and random memberships) through starts, presence changes,
drains, accepts, rejects, sweeps with a jumped clock, heartbeats, messages
(including retried sends), customer ends and closes. Each example runs on its
own freshly migrated SQLite database (a copy of one migrated template).

Checked after every step:
* a chat's agent never changes once set, and the state / agent / offer columns agree;
* no agent ever has more live chats than their capacity;
* offers go only to Available members who have not declined the chat;
* a chat an agent declined (or let lapse) is never assigned to them;
* every accepted send is stored exactly once, and nothing else is;
and in the steps themselves: accept takes the oldest eligible request (FIFO),
refusals match the rules, closed / ended chats take no messages, a lapsed
offer sets the agent Away and never comes back to them, and after a full
drain nothing is left waiting that a free eligible agent could be offered.
"""

from __future__ import annotations

import itertools
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import Session, col, select

from agent_workspace import db
from agent_workspace.migrations import upgrade
from agent_workspace.models import (
    OPEN_STATES,
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
from agent_workspace.services import conversations, routing
from agent_workspace.services.errors import Conflict, Forbidden, NotFound
from tests.factories import make_queue, make_user

OFFER_SECONDS = 30
GRACE_SECONDS = 60
N_QUEUES = 3
N_AGENTS = 4
PRESENCES = [Presence.AVAILABLE, Presence.AVAILABLE, Presence.AWAY, Presence.OFFLINE]

W = Interaction  # shorter queries


def build_machine(template: Path, workdir: Path) -> type[RuleBasedStateMachine]:
    counter = itertools.count()

    class RoutingMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            path = workdir / f"example-{next(counter)}.db"
            shutil.copyfile(template, path)
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

        def teardown(self) -> None:
            self.s.close()
            self.engine.dispose()

        # ---------------------------------------------------------- helpers

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

        def db_declined(self) -> set[tuple[int, int]]:
            return {(r.interaction_id, r.user_id) for r in self.s.exec(select(OfferRejection))}

        def expect_error(self, error: type[Exception], call) -> None:
            with pytest.raises(error):
                call()
            self.s.rollback()

        # ---------------------------------------------------------- world

        @initialize(
            capacities=st.lists(st.integers(1, 3), min_size=N_AGENTS, max_size=N_AGENTS),
            memberships=st.lists(
                st.sets(st.integers(0, N_QUEUES - 1), min_size=1, max_size=N_QUEUES),
                min_size=N_AGENTS,
                max_size=N_AGENTS,
            ),
        )
        def world(self, capacities: list[int], memberships: list[set[int]]) -> None:
            self.queue_ids = [make_queue(self.s, f"Queue {q}").id for q in range(N_QUEUES)]
            for a, (capacity, queues) in enumerate(zip(capacities, memberships)):
                user = make_user(self.s, f"agent{a}", capacity=capacity)
                user.last_seen_at = utcnow()
                for q in queues:
                    self.s.add(QueueMember(queue_id=self.queue_ids[q], user_id=user.id))
                self.s.add(user)
                self.s.commit()
                self.agent_ids.append(user.id)
                self.capacity[user.id] = capacity
                self.members[user.id] = {self.queue_ids[q] for q in queues}

        # ---------------------------------------------------------- customers

        @rule(q=st.integers(0, N_QUEUES - 1))
        def start(self, q: int) -> None:
            started = conversations.start_chat(
                self.s, name=f"Customer {len(self.chats)}", email="c@example.com",
                queue_id=self.queue_ids[q], question=f"Question number {len(self.chats)}",
            )
            self.chats.append(started.interaction.id)

        @precondition(lambda self: self.chats)
        @rule(c=st.integers(0, 10**6))
        def customer_end(self, c: int) -> None:
            chat_id = self.chats[c % len(self.chats)]
            before = self.item(chat_id)
            was_state, was_ended = before.state, before.customer_ended_at
            conversations.customer_end(self.s, interaction_id=chat_id)
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

        @rule(a=st.integers(0, N_AGENTS - 1), presence=st.sampled_from(PRESENCES))
        def set_presence(self, a: int, presence: str) -> None:
            routing.set_presence(self.s, user_id=self.agent_ids[a], presence=presence)
            assert self.user(self.agent_ids[a]).presence == presence

        @rule(a=st.integers(0, N_AGENTS - 1))
        def touch(self, a: int) -> None:
            routing.touch_agent(self.s, user_id=self.agent_ids[a])

        @rule()
        def drain(self) -> None:
            routing.drain(self.s)
            self.check_nothing_left_that_could_be_offered()

        @rule(a=st.integers(0, N_AGENTS - 1), q=st.integers(0, N_QUEUES - 1))
        def accept(self, a: int, q: int) -> None:
            user_id, queue_id = self.agent_ids[a], self.queue_ids[q]
            agent = self.user(user_id)
            declined = self.db_declined()
            eligible = [
                r for r in self.rows()
                if r.queue_id == queue_id and (
                    (r.state == InteractionState.QUEUED and (r.id, user_id) not in declined)
                    or (r.state == InteractionState.OFFERED and r.offered_to_id == user_id)
                )
            ]
            call = lambda: routing.accept(self.s, user_id=user_id, queue_id=queue_id)  # noqa: E731
            if agent.presence != Presence.AVAILABLE or queue_id not in self.members[user_id]:
                return self.expect_error(Forbidden, call)
            if self.wip(user_id) >= self.capacity[user_id]:
                return self.expect_error(Conflict, call)
            if not eligible:
                return self.expect_error(NotFound, call)
            oldest = min(eligible, key=lambda r: (r.requested_at, r.id))
            item, _ = call()
            assert item.id == oldest.id, "accept must claim the oldest eligible request"
            event("accept: claimed" + (" an offer" if oldest.state == InteractionState.OFFERED else " a queued chat"))
            self.first_agent[item.id] = user_id
            row = self.item(item.id)
            assert row.state == InteractionState.WORK_IN_PROGRESS and row.agent_id == user_id
            if self.wip(user_id) >= self.capacity[user_id]:
                assert not [r for r in self.rows() if r.state == InteractionState.OFFERED and r.offered_to_id == user_id]

        @precondition(lambda self: self.chats)
        @rule(a=st.integers(0, N_AGENTS - 1), c=st.integers(0, 10**6))
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
            event("reject: done")
            self.declined.add((chat_id, user_id))
            after = self.item(chat_id)
            assert after.state in routing.WAITING_STATES and after.offered_to_id != user_id

        @rule(jump=st.sampled_from([0, OFFER_SECONDS + 1, GRACE_SECONDS + 1, 3 * GRACE_SECONDS]))
        def sweep(self, jump: int) -> None:
            now = utcnow() + timedelta(seconds=jump)
            lapsed = [
                (r.id, r.offered_to_id) for r in self.rows()
                if r.state == InteractionState.OFFERED and r.offer_expires_at < now
            ]
            cutoff = now - timedelta(seconds=GRACE_SECONDS)
            self.s.expire_all()
            gone = [
                u.id for u in self.s.exec(select(User))
                if u.presence != Presence.OFFLINE and (u.last_seen_at is None or u.last_seen_at < cutoff)
            ]
            routing.sweep(self.s, presence_grace_seconds=GRACE_SECONDS, now=now)
            if lapsed:
                event("sweep: offers lapsed")
            if gone:
                event("sweep: presence expired")
            for chat_id, user_id in lapsed:
                self.declined.add((chat_id, user_id))
                assert (chat_id, user_id) in self.db_declined()
                assert self.user(user_id).presence != Presence.AVAILABLE
                assert self.item(chat_id).offered_to_id != user_id
            for user_id in gone:
                assert self.user(user_id).presence == Presence.OFFLINE

        # ---------------------------------------------------------- messages

        @precondition(lambda self: self.chats)
        @rule(
            c=st.integers(0, 10**6),
            who=st.sampled_from(["customer", "assigned agent", "some agent"]),
            a=st.integers(0, N_AGENTS - 1),
            body=st.text(alphabet="abc xyz", min_size=1, max_size=12).filter(str.strip),
            retry=st.booleans(),
        )
        def post(self, c: int, who: str, a: int, body: str, retry: bool) -> None:
            chat_id = self.chats[c % len(self.chats)]
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
                message, changes = conversations.post_message(
                    self.s, interaction_id=chat_id, sender_kind=kind, body=body, client_id=client_id,
                    sender_user_id=user_id,
                )
                assert (message.id, message.body, changes) == (stored_id, stored_body, [])
                event("post: retried send")
                return
            client_id = f"client-{next(self.client_ids):06d}"
            call = lambda: conversations.post_message(  # noqa: E731
                self.s, interaction_id=chat_id, sender_kind=kind, body=body, client_id=client_id,
                sender_user_id=user_id,
            )
            if row.state not in OPEN_STATES or row.customer_ended_at is not None:
                return self.expect_error(Conflict, call)
            if kind == SenderKind.AGENT and (
                row.state != InteractionState.WORK_IN_PROGRESS or row.agent_id != user_id
            ):
                return self.expect_error(Forbidden, call)
            message, _ = call()
            event(f"post: stored ({kind})")
            self.sent[(chat_id, client_id)] = (message.id, body.strip())

        # ---------------------------------------------------------- close

        @precondition(lambda self: self.chats)
        @rule(c=st.integers(0, 10**6), a=st.integers(0, N_AGENTS - 1), own=st.booleans(), save=st.booleans())
        def close(self, c: int, a: int, own: bool, save: bool) -> None:
            chat_id = self.chats[c % len(self.chats)]
            row = self.item(chat_id)
            user_id = row.agent_id if own and row.agent_id else self.agent_ids[a]
            ended = row.customer_ended_at is not None
            call = lambda: conversations.close(self.s, interaction_id=chat_id, user_id=user_id, save_history=save)  # noqa: E731
            if row.agent_id != user_id:
                return self.expect_error(NotFound, call)
            if row.state != InteractionState.WORK_IN_PROGRESS:
                return self.expect_error(Conflict, call)
            call()
            event("close: done")
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
            available = {u.id for u in self.s.exec(select(User)) if u.presence == Presence.AVAILABLE}
            for r in rows:
                if r.state != InteractionState.QUEUED:
                    continue
                for user_id in available:
                    could = (
                        r.queue_id in self.members[user_id]
                        and (r.id, user_id) not in declined
                        and load[user_id] < self.capacity[user_id]
                    )
                    assert not could, f"chat {r.id} left queued although agent {user_id} could take it"

        @invariant()
        def consistent(self) -> None:
            if not self.agent_ids:
                return
            rows = self.rows()
            declined = self.db_declined()
            assert self.declined <= declined
            self.s.expire_all()
            presence = {u.id: u.presence for u in self.s.exec(select(User))}
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
            # Every accepted send stored exactly once, and nothing else from customers or agents.
            stored = {
                (m.interaction_id, m.client_id): (m.id, m.body)
                for m in self.s.exec(select(Message).where(Message.sender_kind != SenderKind.SYSTEM))
            }
            assert stored == self.sent

    return RoutingMachine


def test_random_operations_keep_the_routing_invariants(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AW_OFFER_TIMEOUT_SECONDS", str(OFFER_SECONDS))
    template = tmp_path / "template.db"
    upgrade(f"sqlite:///{template}")
    machine = build_machine(template, tmp_path)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
