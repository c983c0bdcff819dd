"""A transfer's notice asks its target to answer: it goes by itself once the question is gone."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from agent_workspace.models import Interaction, Presence, Queue
from agent_workspace.services import chat_close, transfers
from agent_workspace.services.events import AgentChanged
from agent_workspace.services.notices import NoticeTopic, dismiss_notice, notify, unseen_notices
from agent_workspace.services.views import agent_snapshot
from tests.factories import make_customer, make_interaction, make_queue
from tests.services.helpers import live_chat, make_agent


@pytest.fixture
def world(session: Session):
    queue, other = make_queue(session, "General"), make_queue(session, "Billing")
    ann = make_agent(session, "ann", queues=[queue])
    bob = make_agent(session, "bob", queues=[queue], presence=Presence.AVAILABLE)
    chat = live_chat(session, queue, ann)
    transfers.to_agent(session, interaction_id=chat.id, user_id=ann.id, target_user_id=bob.id, note="Knows refunds")
    assert _asked(session, bob, chat) == [f"{ann.display_name} wants to transfer {chat.number} to you."]
    return chat, ann, bob, other


def _asked(session: Session, bob, chat) -> list[str]:
    return [n.body for n in unseen_notices(session, user_id=bob.id) if "wants to transfer" in n.body]


@pytest.mark.parametrize("accept", [True, False])
def test_answering_retires_the_question(session: Session, world, announced, accept: bool) -> None:
    chat, ann, bob, _other = world
    announced.take()
    transfers.answer(session, interaction_id=chat.id, user_id=bob.id, accept=accept)
    assert _asked(session, bob, chat) == []
    assert AgentChanged(bob.id) in announced  # every tab of Bob's drops it, without a reload


def test_closing_the_chat_retires_the_question_and_the_transfer(session: Session, world, announced) -> None:
    chat, ann, bob, _other = world
    chat_close.update_details(
        session,
        interaction_id=chat.id,
        user_id=ann.id,
        short_description="Refund",
        category="billing",
        priority=3,
        work_notes="",
    )
    announced.take()
    chat_close.close(session, interaction_id=chat.id, user_id=ann.id, save_history=True)
    assert _asked(session, bob, chat) == []
    assert AgentChanged(bob.id) in announced
    assert transfers.pending_for(session, user_id=bob.id) == []


def test_moving_the_chat_to_a_queue_retires_the_question(session: Session, world, announced) -> None:
    chat, ann, bob, other = world
    announced.take()
    transfers.to_queue(session, interaction_id=chat.id, user_id=ann.id, queue_id=other.id, note="Billing knows")
    assert _asked(session, bob, chat) == []
    assert AgentChanged(bob.id) in announced


def test_other_notices_stay_until_dismissed(session: Session, world) -> None:
    chat, ann, bob, _other = world
    transfers.answer(session, interaction_id=chat.id, user_id=bob.id, accept=False)
    told = [n.body for n in unseen_notices(session, user_id=ann.id)]
    assert told == [f"{bob.display_name} declined the transfer of {chat.number}; the chat stays with you."]


def test_a_dismissed_notice_leaves_the_agents_other_tabs_too(session: Session, world, announced) -> None:
    chat, ann, bob, _other = world
    transfers.answer(session, interaction_id=chat.id, user_id=bob.id, accept=False)
    [told] = unseen_notices(session, user_id=ann.id)
    announced.take()
    dismiss_notice(session, user_id=bob.id, notice_id=told.id)  # not Bob's: nothing changes, nobody is told
    assert announced.take() == []
    assert [n.id for n in unseen_notices(session, user_id=ann.id)] == [told.id]
    dismiss_notice(session, user_id=ann.id, notice_id=told.id)
    assert unseen_notices(session, user_id=ann.id) == []
    assert announced.take() == [AgentChanged(ann.id)]  # her other tabs re-read their notices


def _answers(session: Session, agent) -> list[str]:
    """The agent's unseen notices (a sender's: the answers to their transfers)."""
    return [n.body for n in unseen_notices(session, user_id=agent.id)]


def _shown_note(session: Session, agent, chat) -> str:
    """The "Transfer note" the agent's open chat shows (what their tab reads in full)."""
    [shown] = [c for c in agent_snapshot(session, user_id=agent.id, cursors={}).open_interactions if c.id == chat.id]
    return shown.transfer_note


def test_asking_again_retires_the_senders_earlier_answer_and_the_new_answer_stands_alone(
    session: Session, world, announced
) -> None:
    chat, ann, bob, _other = world
    transfers.answer(session, interaction_id=chat.id, user_id=bob.id, accept=False)
    assert _answers(session, ann) == [
        f"{bob.display_name} declined the transfer of {chat.number}; the chat stays with you."
    ]

    announced.take()
    transfers.to_agent(session, interaction_id=chat.id, user_id=ann.id, target_user_id=bob.id, note="Second try")
    assert _answers(session, ann) == []  # "declined" is moot: the chat is offered again
    assert AgentChanged(ann.id) in announced  # every tab of Ann's drops it

    transfers.answer(session, interaction_id=chat.id, user_id=bob.id, accept=True)
    assert _answers(session, ann) == [f"{bob.display_name} accepted the transfer of {chat.number}."]


def test_moving_the_chat_to_a_queue_retires_the_senders_earlier_answer(session: Session, world) -> None:
    chat, ann, bob, other = world
    transfers.answer(session, interaction_id=chat.id, user_id=bob.id, accept=False)
    transfers.to_queue(session, interaction_id=chat.id, user_id=ann.id, queue_id=other.id)
    assert _answers(session, ann) == []  # "the chat stays with you" is no longer true


def test_an_answer_retires_only_its_senders_earlier_answers_of_that_chat(session: Session, world) -> None:
    chat, ann, bob, _other = world
    elsewhere = make_interaction(
        session, queue=session.get_one(Queue, chat.queue_id), customer=make_customer(session), agent=ann
    )
    # Unseen answers written before this request (as by a request that did not retire them).
    for user, about, body in [(ann, chat, "Old answer"), (ann, elsewhere, "Other chat"), (bob, chat, "Bob's")]:
        notify(session, user_id=user.id, body=body, topic=NoticeTopic.TRANSFER_ANSWER, chat_id=about.id)
    notify(session, user_id=ann.id, body="Unrelated")
    session.commit()

    transfers.answer(session, interaction_id=chat.id, user_id=bob.id, accept=False)
    declined = f"{bob.display_name} declined the transfer of {chat.number}; the chat stays with you."
    assert _answers(session, ann) == ["Other chat", "Unrelated", declined]
    assert _answers(session, bob) == ["Bob's"]


def test_a_declined_transfer_takes_its_note_off_the_chat_and_a_later_one_brings_its_own(
    session: Session, world
) -> None:
    chat, ann, bob, _other = world
    assert _shown_note(session, ann, chat) == "Knows refunds"  # while Bob is asked
    transfers.answer(session, interaction_id=chat.id, user_id=bob.id, accept=False)
    assert _shown_note(session, ann, chat) == ""  # it was for Bob: Ann's chat stops showing it

    carol = make_agent(session, "carol", queues=[], presence=Presence.AVAILABLE)
    transfers.to_agent(session, interaction_id=chat.id, user_id=ann.id, target_user_id=carol.id, note="Carol's turn")
    [offered] = agent_snapshot(session, user_id=carol.id, cursors={}).transfer_offers
    assert offered.transfer_note == "Carol's turn"  # her transfer card
    transfers.answer(session, interaction_id=chat.id, user_id=carol.id, accept=True)
    assert _shown_note(session, carol, chat) == "Carol's turn"  # the receiver's chat keeps its note


def test_closing_the_chat_takes_a_waiting_transfers_note_off_it(session: Session, world) -> None:
    chat, ann, _bob, _other = world
    chat_close.close(session, interaction_id=chat.id, user_id=ann.id, save_history=False)
    assert session.get_one(Interaction, chat.id).transfer_note == ""
