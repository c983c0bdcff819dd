"""An agent who is gone keeps no customer: their live chats go back to their place
in line when their workspace has not been seen for the grace period, and the next
agent continues them with their history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from agent_workspace.models import (
    AuditLog,
    AuthSession,
    ClientConnection,
    ClientKind,
    Interaction,
    InteractionState,
    Message,
    Presence,
    SenderKind,
    User,
    utcnow,
)
from agent_workspace.services import absence, audit_words, chat_close, notices, routing, transfers
from agent_workspace.services.absence import BACK_IN_LINE
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.auth import SIGNED_OUT_TAB
from agent_workspace.services.events import AgentChanged, InteractionChanged, QueueChanged
from tests.services.helpers import accept, fresh, make_agent, offers_to, start, touch_all

pytestmark = pytest.mark.usefixtures("offer_timeout")

GRACE = 60


def _system_lines(session: Session, item: Interaction) -> list[str]:
    return list(
        session.exec(
            select(Message.body)
            .where(Message.interaction_id == item.id, Message.sender_kind == SenderKind.SYSTEM)
            .order_by(col(Message.id))
        )
    )


def _only_seen(session: Session, agent: User, now) -> None:
    """Every agent's workspace was last seen long ago, but ``agent``'s just now."""
    touch_all(session, now - timedelta(seconds=2 * GRACE))
    row = fresh(session, User, agent.id)
    row.last_seen_at = now
    session.add(row)
    session.commit()


def test_the_chats_of_an_agent_who_is_gone_go_back_to_their_place_in_line(session: Session, queue, announced) -> None:
    alice = make_agent(session, "alice", queues=[queue], capacity=2)
    first, second = start(session, queue, name="First"), start(session, queue, name="Second")
    accept(session, alice, queue)
    accept(session, alice, queue)
    later = start(session, queue, name="Later")  # waits behind them: alice is full, nobody else is on
    now = utcnow()
    touch_all(session, now)

    routing.sweep(session, presence_grace_seconds=GRACE, now=now + timedelta(seconds=GRACE - 5))
    assert fresh(session, Interaction, first.id).agent_id == alice.id  # seen recently: hers

    announced.take()
    routing.sweep(session, presence_grace_seconds=GRACE, now=now + timedelta(seconds=GRACE + 5))
    for item in (first, second):
        back = fresh(session, Interaction, item.id)
        assert (back.state, back.agent_id, back.requested_at) == (InteractionState.QUEUED, None, item.requested_at)
        assert _system_lines(session, item)[-1] == BACK_IN_LINE.format(agent="Alice")
        assert InteractionChanged(item.id) in announced
    assert QueueChanged(queue.id) in announced and AgentChanged(alice.id) in announced
    assert fresh(session, User, alice.id).presence == Presence.OFFLINE
    [entry, _] = session.exec(
        select(AuditLog).where(AuditLog.action == AuditAction.INTERACTION_RETURNED_TO_QUEUE).order_by(col(AuditLog.id))
    ).all()
    [line] = audit_words.describe(session, [entry])
    assert line.text == f"System put the chat {first.number} back in line: Alice was no longer connected"

    # The next agent gets them first, oldest first, with everything written so far.
    bob = make_agent(session, "bob", queues=[queue], capacity=3)
    routing.drain(session)
    assert offers_to(session, bob.id) == [first.id, second.id, later.id]
    taken = accept(session, bob, queue)
    assert taken.id == first.id and fresh(session, Interaction, first.id).agent_id == bob.id
    assert BACK_IN_LINE.format(agent="Alice") in _system_lines(session, first)


def test_a_chat_whose_customer_left_and_an_agent_still_seen_stay(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    bob = make_agent(session, "bob", queues=[queue])
    left = start(session, queue, name="Left")
    accept(session, alice, queue)
    kept = start(session, queue, name="Kept")
    accept(session, bob, queue)
    chat_close.customer_end(session, interaction_id=left.id)
    now = utcnow()
    _only_seen(session, bob, now)

    routing.sweep(session, presence_grace_seconds=GRACE, now=now)
    assert fresh(session, Interaction, left.id).agent_id == alice.id  # nobody waits in it: alice closes it later
    assert fresh(session, Interaction, kept.id).agent_id == bob.id


def test_a_transfer_that_waited_for_an_answer_goes_with_its_note(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    bob = make_agent(session, "bob", queues=[queue])
    item = start(session, queue)
    accept(session, alice, queue)
    transfers.to_agent(session, interaction_id=item.id, user_id=alice.id, target_user_id=bob.id, note="For Bob")
    now = utcnow()
    _only_seen(session, bob, now)

    routing.sweep(session, presence_grace_seconds=GRACE, now=now)
    back = fresh(session, Interaction, item.id)
    assert (back.agent_id, back.transfer_to_id, back.transfer_note) == (None, None, "")
    assert notices.unseen_notices(session, user_id=bob.id) == []  # "Alice wants to transfer…" is moot


def _open_tab(
    session: Session, agent: User, token: str, *, signed_in: bool = True, kind: str = ClientKind.AGENT
) -> None:
    """A workspace tab of ``agent`` (and, if ``signed_in``, a live login of theirs)."""
    now = utcnow()
    session.add(ClientConnection(token=token, kind=kind, user_id=agent.id, last_seen_at=now - timedelta(hours=1)))
    expires = now + timedelta(hours=1) if signed_in else now - timedelta(minutes=1)
    session.add(AuthSession(user_id=agent.id, token_hash=f"hash-{token}", expires_at=expires))
    session.commit()


def test_an_agent_whose_tab_holds_its_socket_open_is_seen_and_keeps_their_chats(session: Session, queue) -> None:
    """A hidden tab's timers run once a minute (no heartbeat for a while), but its
    socket stays open: the agent is seen, and only through a tab still signed in."""
    agents = {name: make_agent(session, name, queues=[queue]) for name in ("hidden", "expired", "out", "closed")}
    _open_tab(session, agents["hidden"], "tab-hidden")
    _open_tab(session, agents["expired"], "tab-expired", signed_in=False)
    _open_tab(session, agents["out"], "tab-out", kind=SIGNED_OUT_TAB)
    _open_tab(session, agents["closed"], "tab-closed")  # its socket is gone: not in the process's list
    item = start(session, queue)
    accept(session, agents["hidden"], queue)
    touch_all(session, utcnow() - timedelta(seconds=2 * GRACE))

    absence.see_open_tabs(session, ["tab-hidden", "tab-expired", "tab-out", "a-customer-tab"])
    routing.sweep(session, presence_grace_seconds=GRACE, now=utcnow())
    presence = {name: fresh(session, User, agent.id).presence for name, agent in agents.items()}
    assert presence == {
        "hidden": Presence.AVAILABLE,
        "expired": Presence.OFFLINE,
        "out": Presence.OFFLINE,
        "closed": Presence.OFFLINE,
    }
    assert fresh(session, Interaction, item.id).agent_id == agents["hidden"].id
    seen = {row.token: row.last_seen_at for row in session.exec(select(ClientConnection))}
    assert seen["tab-hidden"] > seen["tab-closed"] + timedelta(minutes=30)  # the open tab's row is kept fresh
