"""Read models: what the customer's page re-reads on every push."""

from __future__ import annotations

from sqlmodel import Session

from agent_workspace.models import Interaction, InteractionState, Presence, SenderKind
from agent_workspace.services import audience, conversations, customer_views, routing, views
from agent_workspace.services.availability import Availability
from tests.factories import make_queue
from tests.services.helpers import make_agent
from tests.services.record_helpers import ESCALATION_REASON, whole_story


def test_customer_snapshot_gives_the_place_in_line_only_while_waiting(session: Session) -> None:
    queue = make_queue(session, "Billing")
    first = conversations.start_chat(
        session, name="Ada", email="ada@example.com", queue_id=queue.id, question="Invoice?"
    )
    second = conversations.start_chat(
        session, name="Bob", email="bob@example.com", queue_id=queue.id, question="Refund?"
    )

    waiting = customer_views.customer_snapshot(session, interaction_id=second.id, after_id=0)
    assert (waiting.state, waiting.outlook.position, waiting.queue_name, waiting.agent_name) == (
        InteractionState.QUEUED,
        2,
        "Billing",
        "",
    )
    assert waiting.outlook.status == Availability.NOBODY  # nobody is signed in yet
    assert (waiting.customer_name, waiting.customer_email) == ("Bob", "bob@example.com")
    assert [m.sender_kind for m in waiting.new_messages] == [SenderKind.SYSTEM]  # the acknowledgement

    agent = make_agent(session, "grace", queues=[queue])
    routing.accept(session, user_id=agent.id, queue_id=queue.id)
    chatting = customer_views.customer_snapshot(
        session, interaction_id=first.id, after_id=waiting.new_messages[-1].id + 10**6
    )
    assert (chatting.state, chatting.outlook) == (InteractionState.WORK_IN_PROGRESS, None)
    assert chatting.agent_name == agent.display_name and chatting.new_messages == []
    still_waiting = customer_views.customer_snapshot(session, interaction_id=second.id, after_id=0).outlook
    assert (still_waiting.position, still_waiting.status) == (1, Availability.AVAILABLE)  # grace has seats left


def test_inboxes_of_clients_find_the_agent_behind_each_tab(session: Session) -> None:
    queue = make_queue(session, "Billing")
    grace = make_agent(session, "grace", queues=[queue])
    alan = make_agent(session, "alan", queues=[queue])
    audience.register_client(session, token="tab-of-grace", kind="agent", user_id=grace.id)
    audience.register_client(session, token="second-tab-of-grace", kind="agent", user_id=grace.id)
    audience.register_client(session, token="tab-of-alan", kind="agent", user_id=alan.id)
    conversations.start_chat(session, name="Ada", email="ada@example.com", queue_id=queue.id, question="Invoice?")

    found = views.inboxes_of_clients(
        session, tokens=["tab-of-grace", "second-tab-of-grace", "tab-of-alan", "no-such-tab"]
    )

    assert {token: user_id for token, (user_id, _) in found.items()} == {
        "tab-of-grace": grace.id,
        "second-tab-of-grace": grace.id,
        "tab-of-alan": alan.id,
    }
    offered_to = grace.id if found["tab-of-grace"][1].inbox[0].offered_to_me else alan.id
    for user_id, snapshot in found.values():
        assert snapshot == views.inbox_snapshot(session, user_id=user_id)
        assert [(c.customer_name, c.offered_to_me) for c in snapshot.inbox] == (
            [("Ada", True)] if user_id == offered_to else []
        )


def test_places_of_clients_only_for_customers_still_waiting(session: Session) -> None:
    queue = make_queue(session, "Billing")
    first = conversations.start_chat(
        session, name="Ada", email="ada@example.com", queue_id=queue.id, question="Invoice?"
    )
    second = conversations.start_chat(
        session, name="Bob", email="bob@example.com", queue_id=queue.id, question="Refund?"
    )
    audience.register_client(session, token="tab-of-ada", kind="customer", interaction_id=first.id)
    audience.register_client(session, token="tab-of-bob", kind="customer", interaction_id=second.id)
    agent = make_agent(session, "grace", queues=[queue], presence=Presence.AWAY)
    audience.register_client(session, token="tab-of-grace", kind="agent", user_id=agent.id)

    before = customer_views.places_of_clients(session, tokens=["tab-of-ada", "tab-of-bob", "tab-of-grace"])
    assert {token: place.outlook.position for token, place in before.items()} == {"tab-of-ada": 1, "tab-of-bob": 2}
    snapshot = customer_views.customer_snapshot(session, interaction_id=second.id, after_id=0)
    assert (before["tab-of-bob"].interaction_id, before["tab-of-bob"].outlook) == (second.id, snapshot.outlook)

    routing.set_presence(session, user_id=agent.id, presence=Presence.AVAILABLE)
    routing.accept(session, user_id=agent.id, queue_id=queue.id)
    after = customer_views.places_of_clients(session, tokens=["tab-of-ada", "tab-of-bob"])
    assert {token: place.outlook.position for token, place in after.items()} == {"tab-of-bob": 1}


def test_agent_snapshot_reads_in_full_only_new_and_named_chats(session: Session) -> None:
    queue = make_queue(session, "Billing")
    agent = make_agent(session, "grace", queues=[queue], capacity=3)
    for name in ("Ada", "Bob", "Cy"):
        conversations.start_chat(
            session, name=name, email=f"{name.lower()}@example.com", queue_id=queue.id, question="?"
        )
    opened = [routing.accept(session, user_id=agent.id, queue_id=queue.id).id for _ in range(3)]
    first, second, third = opened

    everything = views.agent_snapshot(session, user_id=agent.id, cursors={})
    assert everything.open_ids == opened
    assert [d.id for d in everything.open_interactions] == opened

    # The page shows the first two; the third is new to it and the second changed.
    partial = views.agent_snapshot(session, user_id=agent.id, cursors={}, known={first, second}, reread={second})
    assert partial.open_ids == opened
    assert [d.id for d in partial.open_interactions] == [second, third]
    assert [d.customer_name for d in partial.open_interactions] == ["Bob", "Cy"]
    assert (
        views.agent_snapshot(session, user_id=agent.id, cursors={}, known=set(opened), reread=set()).open_interactions
        == []
    )


def test_the_details_tab_tells_each_records_activity_in_words(session: Session) -> None:
    story = whole_story(session)
    chat = session.get(Interaction, story.chat.id)

    [record] = views.interaction_data(session, chat, after_id=None, with_work=True).records

    assert [line.split(" · ", 1)[1] for line in record.activity] == [
        f"Bob Agent created case {story.case.number} from the chat",
        f"Bob Agent escalated {story.case.number}: priority 2 - High → 1 - Critical, group Network, level 1. Reason: {ESCALATION_REASON}",
    ]
