"""Who may see which record: the rule the lists, record pages and exports share."""

from __future__ import annotations

from sqlmodel import Session

from agent_workspace.models import Interaction, InteractionState, Role, SenderKind
from agent_workspace.services import transfers
from agent_workspace.services.record_access import Viewer, can_view_interaction, can_view_record, queue_ids_of
from agent_workspace.services.record_lists import ListQuery, Scope, list_records
from tests.factories import make_user
from tests.services.helpers import fresh, make_agent, post
from tests.services.record_list_helpers import agent_of, chat, supervisor_of, support_record


def test_supervisors_see_all_agents_and_administrators_do_not() -> None:
    assert Viewer.of(1, {Role.SUPERVISOR}).sees_all
    assert not Viewer.of(1, frozenset({Role.WORKSPACE_USER, Role.ADMIN})).sees_all  # accounts, not records
    assert not Viewer.of(1, {Role.WORKSPACE_USER}).sees_all


def test_an_agent_of_another_queue_sees_nothing_of_a_chat_or_its_records(session: Session, queue, other_queue) -> None:
    ann = make_agent(session, "ann", queues=[queue])
    bob = make_agent(session, "bob", queues=[other_queue])
    item = chat(session, queue=queue, agent=ann)
    case = support_record(session, interaction=item, created_by=ann)
    left_message = support_record(session, queue=queue)

    assert queue_ids_of(session, agent_of(bob)) == {other_queue.id}
    assert not can_view_interaction(session, agent_of(bob), item)
    assert not can_view_record(session, agent_of(bob), case)
    assert not can_view_record(session, agent_of(bob), left_message)
    assert can_view_interaction(session, agent_of(ann), item)
    assert can_view_record(session, agent_of(ann), case)
    assert can_view_record(session, agent_of(ann), left_message)


def test_the_agent_who_took_a_transferred_chat_still_sees_it_outside_their_queues(
    session: Session, queue, other_queue
) -> None:
    ann = make_agent(session, "ann", queues=[queue])
    bob = make_agent(session, "bob", queues=[other_queue])
    item = chat(session, queue=queue, agent=ann, state=InteractionState.WORK_IN_PROGRESS)
    transfers.to_agent(session, interaction_id=item.id, user_id=ann.id, target_user_id=bob.id)
    transfers.answer(session, interaction_id=item.id, user_id=bob.id, accept=True)
    item = fresh(session, Interaction, item.id)
    assert item.agent_id == bob.id and item.queue_id == queue.id

    case = support_record(session, interaction=item, created_by=ann)
    assert can_view_interaction(session, agent_of(bob), item)
    assert can_view_record(session, agent_of(bob), case)  # a record from a chat he handled
    assert can_view_interaction(session, agent_of(ann), item)  # still her queue


def test_a_record_of_a_queue_is_seen_by_that_queue_not_by_its_chats_queue(session: Session, queue, other_queue) -> None:
    ann = make_agent(session, "ann", queues=[queue])
    bob = make_agent(session, "bob", queues=[other_queue])
    item = chat(session, queue=queue)
    moved = support_record(session, interaction=item, queue=other_queue)
    assert can_view_record(session, agent_of(bob), moved)
    assert not can_view_record(session, agent_of(ann), moved)


def test_an_agent_sees_the_records_they_created(session: Session, queue, other_queue) -> None:
    ann = make_agent(session, "ann", queues=[queue])
    record = support_record(session, queue=other_queue, created_by=ann)
    assert can_view_record(session, agent_of(ann), record)


def test_a_supervisor_in_no_queue_sees_every_record(session: Session, queue) -> None:
    sue = make_user(session, "sue", roles="supervisor")
    item = chat(session, queue=queue)
    assert queue_ids_of(session, supervisor_of(sue)) is None
    assert can_view_interaction(session, supervisor_of(sue), item)
    assert can_view_record(session, supervisor_of(sue), support_record(session, interaction=item))
    assert can_view_record(session, supervisor_of(sue), support_record(session, queue=queue))


def test_an_agent_who_wrote_in_a_chat_keeps_it_after_transferring_it_to_a_queue_they_do_not_work(
    session: Session, queue, other_queue
) -> None:
    ann = make_agent(session, "ann", queues=[queue])
    cid = make_agent(session, "cid", queues=[queue])
    item = chat(session, queue=queue, agent=ann, state=InteractionState.WORK_IN_PROGRESS)
    post(session, item, "Let me move you to Billing.", kind=SenderKind.AGENT, user=ann)
    case = support_record(session, interaction=item, created_by=cid)
    transfers.to_queue(session, interaction_id=item.id, user_id=ann.id, queue_id=other_queue.id)
    item = fresh(session, Interaction, item.id)
    assert item.agent_id is None and item.queue_id == other_queue.id

    assert can_view_interaction(session, agent_of(ann), item)
    assert can_view_record(session, agent_of(ann), fresh(session, type(case), case.id))
    for scope in (Scope.MINE, Scope.MY_QUEUES):
        assert [row.number for row in list_records(session, agent_of(ann), ListQuery(scope=scope)).rows] == [
            item.number
        ]
    assert not can_view_interaction(session, agent_of(cid), item)  # never wrote in it, not her queue now
