"""The audit log: who did what, when, to which record."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from agent_workspace.models import AuditLog


def record(
    session: Session,
    *,
    action: str,
    actor_kind: str,
    actor_id: int | None = None,
    target_kind: str = "",
    target_id: int | None = None,
    **detail: Any,
) -> AuditLog:
    """Add an audit row in the caller's transaction (it commits with the action)."""
    row = AuditLog(
        action=action,
        actor_kind=actor_kind,
        actor_id=actor_id,
        target_kind=target_kind,
        target_id=target_id,
        detail=json.dumps(detail, default=str, sort_keys=True) if detail else "",
    )
    session.add(row)
    return row
