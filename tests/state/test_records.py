"""The record page's view of its history: timed to the second, while lists keep minutes."""

from __future__ import annotations

from datetime import datetime

from agent_workspace.services.audit_words import HistoryLine
from agent_workspace.state.records import history_views, when


def test_history_lines_are_timed_to_the_second() -> None:
    at = datetime(2026, 12, 2, 14, 4, 31, 250_000)
    lines = [
        HistoryLine(at=at, actor="Alice Martin", text="Alice Martin changed the chat: priority 4 - Low → 2 - High")
    ]

    [view] = history_views(lines)

    assert (view.at, view.text) == ("2026-12-02 14:04:31", "Alice Martin changed the chat: priority 4 - Low → 2 - High")
    assert when(at) == "2026-12-02 14:04"  # the lists and the conversation keep their minutes
