"""Which queues customers may choose on the public chat page and the widget.

A hidden queue still takes transfers and its agents still work it; only the
public surface leaves it out, and ``conversations.new_request`` refuses it.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from agent_workspace.models import Queue
from agent_workspace.services import audit
from agent_workspace.services.audit import AuditAction
from agent_workspace.services.errors import NotFound
from agent_workspace.services.events import QueueChanged, announce

HIDDEN_QUEUE_REFUSAL = "That topic is not offered here any more. Choose one from the list."


def public_queues(session: Session) -> list[Queue]:
    """The active queues a customer may choose, by name."""
    return list(
        session.exec(select(Queue).where(col(Queue.active).is_(True), col(Queue.public).is_(True)).order_by(Queue.name))
    )


def set_public(session: Session, *, queue_id: int, public: bool, actor_id: int | None) -> bool:
    """Show or hide a queue on the public page, audited; False when it was so already."""
    queue = session.get(Queue, queue_id)
    if queue is None:
        raise NotFound("No such queue.")
    if queue.public == public:
        return False
    queue.public = public
    audit.record(
        session,
        action=AuditAction.QUEUE_VISIBILITY_CHANGED,
        actor_kind="agent" if actor_id is not None else "system",
        actor_id=actor_id,
        target_kind="queue",
        target_id=queue_id,
        public=public,
    )
    announce(session, QueueChanged(queue_id))
    session.commit()
    return True
