"""Agent notices stay until the agent dismisses them, in every tab."""

from __future__ import annotations

from sqlmodel import Session

from agent_workspace.services import notices
from tests.services.helpers import make_agent


def test_a_notice_is_shown_until_dismissed_and_only_its_agent_can_dismiss_it(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    bob = make_agent(session, "bob", queues=[queue])
    for n in range(7):
        notices.notify(session, user_id=alice.id, body=f"Notice {n}", level="warning")
    session.commit()

    # Reading them (a tab refreshing, perhaps one nobody looks at) spends nothing.
    shown = notices.unseen_notices(session, user_id=alice.id)
    assert [n.body for n in shown] == [f"Notice {n}" for n in range(2, 7)]  # the newest five, oldest first
    assert notices.unseen_notices(session, user_id=alice.id) == shown

    notices.dismiss_notice(session, user_id=bob.id, notice_id=shown[0].id)  # not his
    assert notices.unseen_notices(session, user_id=alice.id)[0].id == shown[0].id
    notices.dismiss_notice(session, user_id=alice.id, notice_id=shown[0].id)
    assert [n.body for n in notices.unseen_notices(session, user_id=alice.id)] == [
        f"Notice {n}" for n in (1, 3, 4, 5, 6)
    ]
    assert notices.unseen_notices(session, user_id=bob.id) == []


def test_a_notice_with_a_topic_is_not_shown_twice_and_goes_when_it_is_settled(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    for _ in range(2):
        notices.notify(session, user_id=alice.id, body="You are Away.", topic=notices.NoticeTopic.PRESENCE)
        session.commit()
    notices.notify(session, user_id=alice.id, body="A transfer was answered.")
    session.commit()
    assert [n.body for n in notices.unseen_notices(session, user_id=alice.id)] == [
        "You are Away.",
        "A transfer was answered.",
    ]
    notices.retire_topic(session, user_id=alice.id, topic=notices.NoticeTopic.PRESENCE)
    session.commit()
    assert [n.body for n in notices.unseen_notices(session, user_id=alice.id)] == ["A transfer was answered."]


def test_dismiss_all_takes_every_notice_up_to_the_newest_shown_and_only_the_agents(session: Session, queue) -> None:
    alice = make_agent(session, "alice", queues=[queue])
    bob = make_agent(session, "bob", queues=[queue])
    for n in range(7):  # more than a tab shows: the older ones go too
        notices.notify(session, user_id=alice.id, body=f"Notice {n}")
    notices.notify(session, user_id=bob.id, body="Bob's own")
    session.commit()
    newest_shown = notices.unseen_notices(session, user_id=alice.id)[-1].id
    notices.notify(session, user_id=alice.id, body="Arrived after the tab drew its notices")
    session.commit()

    assert notices.dismiss_all_notices(session, user_id=alice.id, up_to=newest_shown) == 7
    assert [n.body for n in notices.unseen_notices(session, user_id=alice.id)] == [
        "Arrived after the tab drew its notices"
    ]
    assert [n.body for n in notices.unseen_notices(session, user_id=bob.id)] == ["Bob's own"]
    assert notices.dismiss_all_notices(session, user_id=alice.id) == 1
    assert notices.unseen_notices(session, user_id=alice.id) == []
    assert notices.dismiss_all_notices(session, user_id=alice.id) == 0
