"""Things an agent must be told (a transfer answered, an offer they missed), shown until dismissed."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import update
from sqlmodel import Session, col, select

from agent_workspace.models import AgentNotice
from agent_workspace.services.events import AgentChanged, announce


class NoticeTopic(StrEnum):
    PRESENCE = "presence"  # the agent was set Away (a missed offer): moot once Available again
    CONNECTION = "connection"  # set Offline (their workspace was gone): moot once Available again
    TRANSFER_ANSWER = "transfer_answer"  # a colleague answered the agent's transfer of a chat


# What stops being true once the agent sets themself Available.
UNTIL_AVAILABLE = (NoticeTopic.PRESENCE, NoticeTopic.CONNECTION)


def notify(
    session: Session,
    *,
    user_id: int,
    body: str,
    level: str = "info",
    pending_for: int | None = None,
    topic: NoticeTopic | None = None,
    chat_id: int | None = None,
) -> None:
    """Add a notice in the caller's transaction (shown on the agent's next refresh).
    ``pending_for``: a chat whose pending question it asks (a transfer to answer);
    it goes by itself once that is answered or moot (``retire_pending``). ``topic``:
    what it is about, retired with ``retire_topic``; an unseen notice of the same
    topic and text is not added again. ``chat_id``: the chat a topic's notice is
    about, so that chat's can be retired alone."""
    if pending_for is not None and (topic is not None or chat_id is not None):
        raise ValueError("A pending question has no topic: it is retired with its chat's question.")
    if chat_id is not None and topic is None:
        raise ValueError("A notice about a chat needs a topic to be retired by.")
    body = body[:500]
    if (
        topic is not None
        and session.exec(
            select(AgentNotice.id).where(
                AgentNotice.user_id == user_id,
                AgentNotice.topic == topic,
                AgentNotice.body == body,
                col(AgentNotice.seen).is_(False),
            )
        ).first()
    ):
        return
    session.add(
        AgentNotice(
            user_id=user_id,
            body=body,
            level=level,
            interaction_id=pending_for if pending_for is not None else chat_id,
            topic=topic,
        )
    )


def retire_topic(
    session: Session, *, user_id: int, topic: NoticeTopic | tuple[NoticeTopic, ...], chat_id: int | None = None
) -> None:
    """What the agent's notices of ``topic`` (or of any of several) were about, of
    chat ``chat_id`` only if given, is settled: no tab of theirs shows them any more
    (no commit)."""
    topics = (topic,) if isinstance(topic, NoticeTopic) else topic
    retired = update(AgentNotice).where(
        col(AgentNotice.user_id) == user_id, col(AgentNotice.topic).in_(topics), col(AgentNotice.seen).is_(False)
    )
    if chat_id is not None:
        retired = retired.where(col(AgentNotice.interaction_id) == chat_id)
    if session.exec(retired.values(seen=True)).rowcount:
        announce(session, AgentChanged(user_id))


def retire_pending(session: Session, *, interaction_id: int) -> None:
    """The chat's pending question was answered or became moot: its notices are no
    longer shown, in every tab of the agents who had them (no commit). A notice with
    a topic (a transfer's answer) is not a question: its topic retires it."""
    retired: list[int] = list(
        session.execute(
            update(AgentNotice)
            .where(
                col(AgentNotice.interaction_id) == interaction_id,
                col(AgentNotice.topic).is_(None),
                col(AgentNotice.seen).is_(False),
            )
            .values(seen=True)
            .returning(col(AgentNotice.user_id))
        ).scalars()
    )
    announce(session, *(AgentChanged(user_id) for user_id in set(retired)))


MAX_SHOWN = 5


def unseen_notices(session: Session, *, user_id: int) -> list[AgentNotice]:
    """The agent's newest notices not dismissed yet, oldest first. Every tab shows
    them until the agent dismisses one: a tab that was closed still takes pushes
    for a while, and a notice shown once would be spent on a tab nobody sees."""
    found = session.exec(
        select(AgentNotice)
        .where(AgentNotice.user_id == user_id, col(AgentNotice.seen).is_(False))
        .order_by(col(AgentNotice.id).desc())
        .limit(MAX_SHOWN)
    ).all()
    return list(reversed(found))


def dismiss_notice(session: Session, *, user_id: int, notice_id: int) -> None:
    """The agent read it: no tab of theirs shows it again, their other open tabs
    included (another agent's notice is left alone)."""
    dismissed = session.exec(
        update(AgentNotice)
        .where(col(AgentNotice.id) == notice_id, col(AgentNotice.user_id) == user_id)
        .values(seen=True)
    )
    if dismissed.rowcount:
        announce(session, AgentChanged(user_id))
    session.commit()


def dismiss_all_notices(session: Session, *, user_id: int, up_to: int | None = None) -> int:
    """Dismiss all, in one transaction: every notice of the agent not dismissed yet,
    those beyond the few shown included. ``up_to``: the newest notice the tab showed,
    so one that arrived since is still read before it goes. Their other tabs follow."""
    dismissed = update(AgentNotice).where(col(AgentNotice.user_id) == user_id, col(AgentNotice.seen).is_(False))
    if up_to is not None:
        dismissed = dismissed.where(col(AgentNotice.id) <= up_to)
    count = session.exec(dismissed.values(seen=True)).rowcount
    if count:
        announce(session, AgentChanged(user_id))
    session.commit()
    return count
