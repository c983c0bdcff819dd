"""The words the public page uses for each availability: never more hopeful than the data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent_workspace.services.availability import Availability, Outlook
from agent_workspace.state.outlook import outlook_view, valid_time_zone, wait_words


def test_wait_words() -> None:
    assert wait_words(0) == "less than a minute"
    assert wait_words(59) == "less than a minute"
    assert wait_words(60) == "about 1 minute"
    assert wait_words(150) == "about 2 minutes"  # rounds half to even
    assert wait_words(330) == "about 6 minutes"


def test_before_starting_each_status_reads_plainly() -> None:
    view = outlook_view(
        Outlook(1, Availability.AVAILABLE, position=1), queue_name="Billing", time_zone="UTC", waiting=False
    )
    assert (view.headline, view.can_leave_message, view.position) == ("An agent is available now.", False, 0)
    view = outlook_view(
        Outlook(1, Availability.BUSY, position=3, wait_seconds=240),
        queue_name="Billing",
        time_zone="UTC",
        waiting=False,
    )
    assert (view.headline, view.detail) == ("All agents are busy.", "Expected wait: about 4 minutes.")
    view = outlook_view(
        Outlook(1, Availability.NOBODY, position=1), queue_name="Billing", time_zone="UTC", waiting=False
    )
    assert view.headline == "Nobody from Billing is available right now."
    assert "leave a message" in view.detail and view.can_leave_message


def test_closed_says_when_it_is_back_in_the_visitors_time_zone() -> None:
    opens = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=3)
    outlook = Outlook(1, Availability.CLOSED, position=2, opens_at=opens, closed_message="Closed for the holidays.")
    view = outlook_view(outlook, queue_name="Billing", time_zone="Asia/Tokyo", waiting=True)
    assert view.headline.startswith("Billing is closed right now. We're back ")
    assert "at 17:00 (your time)." in view.headline  # 08:00 UTC is 17:00 in Tokyo
    assert (view.detail, view.position, view.can_leave_message) == ("Closed for the holidays.", 2, True)
    never = outlook_view(Outlook(1, Availability.CLOSED), queue_name="Billing", time_zone="UTC", waiting=False)
    assert "We don't know yet when we're back." in never.headline


def test_in_line_the_place_and_the_estimate() -> None:
    view = outlook_view(
        Outlook(1, Availability.BUSY, position=2, wait_seconds=400), queue_name="Billing", time_zone="UTC", waiting=True
    )
    assert (view.position, view.headline, view.can_leave_message) == (2, "Estimated wait: about 7 minutes.", False)
    view = outlook_view(
        Outlook(1, Availability.AVAILABLE, position=1), queue_name="Billing", time_zone="UTC", waiting=True
    )
    assert view.headline == "An agent is about to join."
    assert outlook_view(None, queue_name="Billing", time_zone="UTC", waiting=True).status == ""


def test_an_unknown_or_oversized_time_zone_falls_back_to_utc() -> None:
    assert valid_time_zone("Europe/Berlin") == "Europe/Berlin"
    assert valid_time_zone("Mars/Olympus") == "UTC"
    assert valid_time_zone("Europe/Berlin" + "x" * 10_000) == "UTC"
