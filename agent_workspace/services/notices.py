"""Things an agent must be told once: a transfer answered, an offer they missed."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from agent_workspace.models import AgentNotice


def notify(session: Session, *, user_id: int, body: str, level: str = "info") -> None:
    """Add a notice in the caller's transaction (shown on the agent's next refresh)."""
    session.add(AgentNotice(user_id=user_id, body=body[:500], level=level))


def take_notices(session: Session, *, user_id: int) -> list[AgentNotice]:
    """Unseen notices of an agent, marked seen (each is shown once)."""
    found = list(
        session.exec(
            select(AgentNotice).where(AgentNotice.user_id == user_id, col(AgentNotice.seen).is_(False)).order_by(col(AgentNotice.id))
        )
    )
    if found:
        session.execute(update(AgentNotice).where(col(AgentNotice.id).in_([n.id for n in found])).values(seen=True))
        session.commit()
    return found
