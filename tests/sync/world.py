"""The world the sync contract test drives: the routing property test's ``World``
(its database, agents, queues and random service actions) with transfers,
typing and detail edits added, and one browser tab per agent, per customer and
(read-only) per every other chat for a supervisor, whose view is kept by
``agent_workspace.sync`` from the notices it hears.

Who hears what is ``audience.tokens_for``, resolved right after each commit as
the realtime layer does; each tab keeps what it heard as batches (one per
commit) until the test delivers them, perturbed as the random generator says.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import note
from sqlmodel import Session, col, select

from agent_workspace import db
from agent_workspace.models import ClientKind, Interaction, InteractionState, Presence, QueueMember, SenderKind, utcnow
from agent_workspace.services import audience, chat_close, conversations, events, transfers
from agent_workspace.services.audience import concern_of
from agent_workspace.services.errors import ServiceError
from agent_workspace.services.events import Change, ChatOffered, QueueChanged
from agent_workspace.sync import agent as agent_sync
from agent_workspace.sync import customer as customer_sync
from agent_workspace.sync import merged
from agent_workspace.sync import supervisor as watch_sync
from tests.factories import make_user
from tests.services.routing_world import World

SYNC = {ClientKind.AGENT: agent_sync, ClientKind.CUSTOMER: customer_sync, ClientKind.SUPERVISOR: watch_sync}


@dataclass
class Batch:
    """The changes one commit sent a tab, and the read taken ahead for them right then."""

    changes: list[Change]
    ahead: object | None = None
    seq: int = 0  # commit order


@dataclass
class Tab:
    """A page: its view, and the messages it shows (per chat for an agent, as the
    chat slots hold them), which only ``apply``'s hand-outs change."""

    token: str
    kind: ClientKind
    view: object
    messages: object = None  # agent: {chat id: messages}; customer: the chat's messages
    pending: list[Batch] = field(default_factory=list)
    dropped: bool = False  # lost a push: only a heal brings it back

    def absorb(self, applied) -> None:
        """What the tab's state does with an ``apply``: the new view, and the new
        messages added to those shown; an agent's chat that left the view takes its messages along."""
        self.view = applied.view
        if self.kind == ClientKind.AGENT:
            held = self.messages or {}
            kept = {
                c.details.id: merged(held.get(c.details.id, ()), applied.messages.get(c.details.id, ()))
                for c in applied.view.chats
            }
            self.messages = {i: m for i, m in kept.items() if m}
        else:
            self.messages = merged(self.messages or (), applied.messages)

    @property
    def shown(self):
        """The view and the messages, as ``fresh`` returns them."""
        return SYNC[self.kind].Applied(self.view, self.messages)


class SyncWorld(World):
    def __init__(self, path: Path, *, shared_email: bool = False) -> None:
        super().__init__(path)
        self.shared_email = shared_email
        self.check_concerns = True
        self.read_engine = db.make_engine(f"sqlite:///{path}", writer=False)  # reads never take the write lock
        self.tabs: dict[str, Tab] = {}
        self.delivered = 0
        self.commits = itertools.count()
        self.rng = random.Random(0)  # reseeded by the test (``build``)

    def build(self, rng: random.Random, *, one_queue_each: bool = False) -> None:
        """The routing world; ``one_queue_each`` leaves every agent one queue only: a chat
        accepted in one queue changes the waits of the agent's other queues unannounced
        (see test_known_divergences)."""
        super().build(rng)
        self.rng = random.Random(rng.random())
        if one_queue_each:
            for index, user_id in enumerate(list(self.members)):
                keep = self.queue_ids[0 if index < 3 else 1]  # most agents share a queue: transfers, offers
                for member in self.s.exec(select(QueueMember).where(QueueMember.user_id == user_id)):
                    self.s.delete(member)
                self.s.add(QueueMember(queue_id=keep, user_id=user_id))
                self.members[user_id] = {keep}
            self.s.commit()

    # ------------------------------------------------------------ tabs

    def reader(self) -> Session:
        return Session(self.read_engine)

    def close_db(self) -> None:
        super().close_db()
        self.read_engine.dispose()

    def open_tab(self, kind: ClientKind, ref: int) -> None:
        """A page opened now: registered, then its fresh view (it hears only later commits)."""
        token = f"{kind}-{ref}"
        if kind == ClientKind.AGENT:
            audience.register_client(self.s, token=token, kind=kind.value, user_id=ref)
        else:
            audience.register_client(self.s, token=token, kind=kind.value, interaction_id=ref)
        with self.reader() as s:
            applied = self.read_fresh(s, kind, ref)
        self.tabs[token] = tab = Tab(token, kind, applied.view)
        tab.absorb(applied)

    @staticmethod
    def read_fresh(s: Session, kind: ClientKind, ref: int):
        """What a new tab of this kind reads (``ref``: its agent, or the chat it shows)."""
        if kind == ClientKind.AGENT:
            return agent_sync.fresh(s, user_id=ref)
        return SYNC[kind].fresh(s, interaction_id=ref)

    @staticmethod
    def ref_of(tab: Tab) -> int:
        return tab.view.user_id if tab.kind == ClientKind.AGENT else tab.view.interaction_id

    def fresh(self, tab: Tab):
        with self.reader() as s:
            return self.read_fresh(s, tab.kind, self.ref_of(tab))

    def heard(self, changes: list[Change]) -> None:
        """The publisher: each tab's share of one commit, and its read ahead taken now."""
        with self.reader() as s:
            heard_by = {token: list(target.changes) for token, target in audience.tokens_for(s, changes).items()}
            seq = next(self.commits)
            for token, heard in heard_by.items():
                tab = self.tabs.get(token)
                if tab is None:
                    continue
                if self.check_concerns:
                    self.assert_concerned(s, tab, heard)
                # As realtime.push_to_tab: queue changes go out apart from the rest (gathered for a
                # moment), and here the rest is sometimes split further, one push per change.
                queued = [c for c in heard if isinstance(c, QueueChanged)]
                urgent = [c for c in heard if not isinstance(c, QueueChanged)]
                parts = [[c] for c in urgent] if self.rng.random() < 0.3 else [urgent]
                for part in [*parts, queued]:
                    if part:
                        tab.pending.append(Batch(part, self.read_ahead(s, tab, part), seq=seq))

    def assert_concerned(self, s: Session, tab: Tab, heard: list[Change]) -> None:
        """``sync.*.concerns`` of the tab's view as of this commit covers all it hears:
        the view's own account of ``tokens_for``'s rules. Except an agent's chats:
        tokens_for also reaches the agent a chat has just left (closed, moved on),
        which no view of theirs shows any more."""
        module = SYNC[tab.kind]
        now = self.read_fresh(s, tab.kind, self.ref_of(tab)).view
        unconcerned = [
            c
            for c in heard
            if concern_of(c) not in module.concerns(now)
            and not (tab.kind == ClientKind.AGENT and concern_of(c)[0] == "chat")
        ]
        assert not unconcerned, f"{tab.token} hears {unconcerned}, which its view says do not concern it"

    def read_ahead(self, s: Session, tab: Tab, changes: list[Change]) -> object | None:
        """What realtime's prefetch would read for this tab (None: nothing to read ahead)."""
        if tab.kind == ClientKind.SUPERVISOR:
            return None
        if tab.kind == ClientKind.AGENT:
            if not any(isinstance(c, (QueueChanged, ChatOffered)) for c in changes):
                return None
            return agent_sync.read_inboxes(s, user_ids=[tab.view.user_id]).get(tab.view.user_id)
        if not changes or not all(isinstance(c, QueueChanged) for c in changes):
            return None
        return customer_sync.read_places(s, interaction_ids=[tab.view.interaction_id]).get(tab.view.interaction_id)

    def deliver(self, tab: Tab, rng: random.Random, *, everything: bool = False) -> None:
        """Some of the tab's batches (all with ``everything``), in any order, merged into
        one push, some changes twice, with a read ahead taken early, late or not at all."""
        if not tab.pending:
            return
        k = len(tab.pending) if everything else rng.randint(1, len(tab.pending))
        chosen = sorted(rng.sample(range(len(tab.pending)), k))
        batches = [tab.pending[i] for i in chosen]
        tab.pending = [b for i, b in enumerate(tab.pending) if i not in chosen]
        rng.shuffle(batches)
        changes = [c for b in batches for c in b.changes]
        changes += [rng.choice(changes) for _ in range(rng.choice([0, 0, 1, 2]))]
        how = rng.choice(["none", "early", "late"])
        module = SYNC[tab.kind]
        with self.reader() as s:
            if how == "early":  # as realtime reads ahead: after the last of the commits it is used for
                ahead = max(batches, key=lambda b: b.seq).ahead
                self.events.append("read ahead early" if ahead is not None else "nothing read ahead")
            elif how == "late":
                ahead = self.read_ahead(s, tab, changes)
                self.events.append("read ahead late" if ahead is not None else "nothing read ahead")
            else:
                ahead = None
            if rng.random() < 0.08 and not everything:
                tab.dropped = True
                self.events.append("push lost")
                note(f"{tab.token}: dropped {changes}")
                return
            if len(batches) > 1:
                self.events.append("batches merged")
            reads = module.plan(tab.view, changes)
            self.events.append("no read needed" if reads.nothing else "read")
            tab.absorb(module.apply(tab.view, changes, module.read(s, tab.view, reads, ahead)))
        self.delivered += 1

    def settle(self) -> None:
        """Every tab hears everything, as sent: nothing lost, nothing out of order."""
        rng = random.Random(0)
        for tab in self.tabs.values():
            while tab.pending:
                self.deliver(tab, rng, everything=True)
                assert not tab.dropped

    def add_agent(self, name: str, capacity: int, queue_ids: list[int]) -> int:
        """An Available agent of these queues, with a tab open."""
        user = make_user(self.s, name, capacity=capacity)
        user.presence, user.last_seen_at = Presence.AVAILABLE, utcnow()
        for queue_id in queue_ids:
            self.s.add(QueueMember(queue_id=queue_id, user_id=user.id))
        self.s.add(user)
        self.s.commit()
        self.agent_ids.append(user.id)
        self.open_tab(ClientKind.AGENT, user.id)
        return user.id

    def heal(self, tab: Tab) -> None:
        with self.reader() as s:
            tab.absorb(SYNC[tab.kind].heal(s, tab.view))
        tab.dropped = False
        self.events.append("healed")

    # ------------------------------------------------------------ more actions

    def start(self, q: int) -> None:
        if self.shared_email:
            return super().start(q)
        started = conversations.start_chat(
            self.s,
            name=f"Customer {len(self.chats)}",
            email=f"c{len(self.chats)}@example.com",
            queue_id=self.queue_ids[q],
            question=f"Question number {len(self.chats)}",
        )
        self.chats.append(started.id)
        self.open_tab(ClientKind.CUSTOMER, started.id)
        if len(self.chats) % 2:  # a supervisor watches every other chat read-only
            self.open_tab(ClientKind.SUPERVISOR, started.id)

    def live(self, c: int) -> Interaction | None:
        rows = [r for r in self.rows() if r.state == InteractionState.WORK_IN_PROGRESS]
        return rows[c % len(rows)] if rows else None

    def attempt(self, call, done: str) -> None:
        try:
            call()
        except ServiceError as error:
            self.s.rollback()
            self.events.append(f"refused: {type(error).__name__}")
        else:
            self.events.append(done)

    def typing(self, c: int, agent_side: bool) -> None:
        row = self.live(c)
        if row is None:
            return
        kind = SenderKind.AGENT if agent_side else SenderKind.CUSTOMER
        sent = conversations.signal_typing(
            self.s, interaction_id=row.id, sender_kind=kind, user_id=row.agent_id if agent_side else None
        )
        self.events.append(f"typing: {'sent' if sent else 'dropped'}")

    def transfer_to_queue(self, c: int, q: int) -> None:
        row = self.live(c)
        if row is not None:
            self.attempt(
                lambda: transfers.to_queue(
                    self.s, interaction_id=row.id, user_id=row.agent_id, queue_id=self.queue_ids[q], note="over"
                ),
                "transfer: to queue",
            )

    def transfer_to_agent(self, c: int, a: int) -> None:
        """To another agent, preferably one who is Available (the productive case)."""
        row = self.live(c)
        if row is None:
            return
        others = [u for u in self.agent_ids if u != row.agent_id]
        available = [u for u in others if self.user(u).presence == Presence.AVAILABLE] or others
        target = available[a % len(available)]
        self.attempt(
            lambda: transfers.to_agent(
                self.s, interaction_id=row.id, user_id=row.agent_id, target_user_id=target, note="you"
            ),
            "transfer: to agent",
        )

    def answer_transfer(self, c: int, accept: bool) -> None:
        self.s.expire_all()
        rows = list(self.s.exec(select(Interaction).where(col(Interaction.transfer_to_id).is_not(None))))
        if rows:
            row = rows[c % len(rows)]
            self.attempt(
                lambda: transfers.answer(self.s, interaction_id=row.id, user_id=row.transfer_to_id, accept=accept),
                f"transfer: answered {'yes' if accept else 'no'}",
            )

    def edit_details(self, c: int, priority: int) -> None:
        row = self.live(c)
        if row is not None:
            self.attempt(
                lambda: chat_close.update_details(
                    self.s,
                    interaction_id=row.id,
                    user_id=row.agent_id,
                    short_description=row.short_description or "About it",
                    category="technical",
                    priority=priority,
                    work_notes=f"{row.work_notes}+",
                ),
                "details: edited",
            )


def hear(world: SyncWorld):
    """Install ``world.heard`` as the publisher (returns the previous one)."""
    previous = events._publisher
    events.set_publisher(world.heard)
    return previous
