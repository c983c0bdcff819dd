"""The audit log: who did what, when, to which record."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
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


def changes(row: object, wanted: Mapping[str, Any], *, long_texts: Collection[str] = ()) -> dict[str, Any]:
    """The fields of ``row`` that ``wanted`` changes, as the audit detail of an edit:
    field → [old, new]. A long free text (work notes, a description) is kept as
    {"length": [old, new]}: the trail says it changed and by how much without a
    second copy of text that can run to pages and hold customers' details.
    Call it before applying the change."""
    return {
        field: {"length": [len(getattr(row, field)), len(value)]}
        if field in long_texts
        else [getattr(row, field), value]
        for field, value in wanted.items()
        if getattr(row, field) != value
    }
