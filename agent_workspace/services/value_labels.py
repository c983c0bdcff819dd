"""The labels of the values people read: priorities, close reasons, roles, fields,
durations (states are ``record_lists.state_label``'s). Shared by the record pages,
the audit trail in words and the activity lists."""

from __future__ import annotations

from agent_workspace.models import CloseReason, Role
from agent_workspace.services.record_lists import ListKind, state_label

PRIORITY_LABELS = {1: "1 - Critical", 2: "2 - High", 3: "3 - Moderate", 4: "4 - Low"}
CLOSE_REASON_LABELS: dict[str, str] = {
    CloseReason.CUSTOMER_LEFT_BEFORE_ENGAGEMENT: "The customer left before an agent answered",
    CloseReason.NO_ACTIVITY: "Closed for lack of activity",
    CloseReason.CUSTOMER_ENDED: "The customer ended the chat",
    CloseReason.AGENT_ENDED: "The agent ended the chat",
    CloseReason.TAB_CLOSED: "Closed by closing the tab, without saving the history",
}
ROLE_LABELS: dict[str, str] = {
    Role.WORKSPACE_USER: "Workspace user",
    Role.SUPERVISOR: "Supervisor",
    Role.ADMIN: "Admin",
}
FIELD_LABELS = {
    "short_description": "Short description",
    "description": "Description",
    "work_notes": "Work notes",
    "resolution_notes": "Resolution notes",
}
MISMATCH_LABELS = {"user_agent": "another browser", "address": "another network address"}


def words(value: str) -> str:
    """``in_progress`` → "In progress": a stored value read out when it has no label of its own."""
    text = str(value).replace("_", " ").replace(".", " ").strip()
    return text[:1].upper() + text[1:]


def priority_label(priority: int | None) -> str:
    return PRIORITY_LABELS.get(priority, str(priority)) if priority is not None else "—"


def record_state_label(state: str) -> str:
    return state_label(ListKind.CASE, state)


def close_reason_label(reason: str | None) -> str:
    return CLOSE_REASON_LABELS.get(reason, words(reason)) if reason else "—"


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, words(name))


def duration_text(seconds: float | None) -> str:
    """45 → "45 s", 65 → "1 min 5 s", 7380 → "2 h 3 min"."""
    if seconds is None:
        return "—"
    minutes, secs = divmod(max(int(seconds), 0), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"
