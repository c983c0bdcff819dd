"""The widget's snippet and what an "all queues" launcher promises."""

from __future__ import annotations

from datetime import UTC, datetime

from agent_workspace.services import widget
from agent_workspace.services.availability import Availability, Outlook


def test_the_snippet_names_the_app_the_queue_and_escapes_what_it_is_given():
    assert widget.snippet("https://support.example.com/", queue_id=3) == (
        '<script src="https://support.example.com/widget.js" data-queue="3" data-title="Chat with us" data-color="#3e63dd" async></script>'
    )
    assert "data-queue" not in widget.snippet("https://support.example.com")
    assert 'data-title="&quot;&gt;&lt;b&gt;"' in widget.snippet("https://s.example", title='"><b>')


def test_a_launcher_for_every_queue_promises_what_the_best_queue_can_do():
    soon = datetime(2026, 12, 3, 8, tzinfo=UTC)
    later = datetime(2026, 12, 4, 8, tzinfo=UTC)
    closed = {1: Outlook(1, Availability.CLOSED, opens_at=later), 2: Outlook(2, Availability.CLOSED, opens_at=soon)}
    assert widget.launcher_outlook(closed, None).queue_id == 2  # the earliest reopening
    busy = {
        **closed,
        3: Outlook(3, Availability.BUSY, wait_seconds=600),
        4: Outlook(4, Availability.BUSY, wait_seconds=120),
    }
    assert widget.launcher_outlook(busy, None).queue_id == 4  # the shortest wait
    assert widget.launcher_outlook({**busy, 5: Outlook(5, Availability.NOBODY)}, None).queue_id == 4
    assert widget.launcher_outlook({**busy, 6: Outlook(6, Availability.AVAILABLE)}, None).queue_id == 6
    assert widget.launcher_outlook(busy, 1).queue_id == 1  # a named queue's own
    assert widget.launcher_outlook(busy, 99) is None and widget.launcher_outlook({}, None) is None


def test_the_launcher_says_its_headline_and_only_where_nobody_can_chat_that_a_message_can_be_left():
    assert widget.launcher_text("An agent is available now.", can_leave_message=False) == "An agent is available now."
    assert (
        widget.launcher_text("Billing is closed right now.", can_leave_message=True)
        == "Billing is closed right now. Leave us a message."
    )
