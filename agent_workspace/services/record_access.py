"""Who may see which interaction, case and incident records.

One rule for the lists, the record pages, the exports and the file downloads:
a supervisor sees every record; a workspace user sees the records of
the queues they work and the chats they handled themselves (the one they have
now, and any they wrote in before a transfer took it elsewhere). A record outside
that is reported as not existing, so a guessed number learns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from agent_workspace.models import Interaction, Message, QueueMember, Role, SupportRecord, stored_id


@dataclass(frozen=True)
class Viewer:
    """The signed-in person asking for records."""

    user_id: int
    sees_all: (
        bool  # supervisors (administrators manage accounts; they see records as supervisors do only with that role)
    )

    @classmethod
    def of(cls, user_id: int, roles: frozenset[str] | set[str]) -> Viewer:
        return cls(user_id=user_id, sees_all=Role.SUPERVISOR in roles)


def queue_ids_of(session: Session, viewer: Viewer) -> frozenset[int] | None:
    """The queues whose records ``viewer`` sees (None: all of them)."""
    if viewer.sees_all:
        return None
    return frozenset(session.exec(select(QueueMember.queue_id).where(QueueMember.user_id == viewer.user_id)))


def chats_written_in_by(user_id: int) -> SelectOfScalar[int]:
    """The ids of the chats ``user_id`` wrote in, as a subquery (index on sender, chat)."""
    return select(Message.interaction_id).where(col(Message.sender_user_id) == user_id)


def _wrote_in(session: Session, user_id: int, interaction_id: int) -> bool:
    written = chats_written_in_by(user_id).where(col(Message.interaction_id) == interaction_id).limit(1)
    return session.exec(written).first() is not None


def can_view_interaction(session: Session, viewer: Viewer, item: Interaction) -> bool:
    """A supervisor always; an agent for a chat of their queues or one they handled."""
    queues = queue_ids_of(session, viewer)
    if queues is None or item.agent_id == viewer.user_id or item.queue_id in queues:
        return True
    return _wrote_in(session, viewer.user_id, stored_id(item))


def can_view_record(session: Session, viewer: Viewer, record: SupportRecord) -> bool:
    """A supervisor always; an agent for a case or incident of their queues (the
    record's queue, else its chat's), one they created, or one from a chat they handled."""
    queues = queue_ids_of(session, viewer)
    if queues is None or record.created_by_id == viewer.user_id or record.queue_id in queues:
        return True
    chat = session.get(Interaction, record.interaction_id) if record.interaction_id is not None else None
    if chat is None:
        return False
    return (
        (record.queue_id is None and chat.queue_id in queues)
        or chat.agent_id == viewer.user_id
        or _wrote_in(session, viewer.user_id, stored_id(chat))
    )
