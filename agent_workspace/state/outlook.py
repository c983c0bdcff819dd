"""What the public page says about a queue's availability, in words.

Kept apart from the state so the wording is tested directly: it is the promise
the product makes to a customer, and it must never be more hopeful than the data.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from zoneinfo import available_timezones

from agent_workspace.services.availability import Availability, Outlook, when_back

MAX_TIME_ZONE_LENGTH = 64


@dataclasses.dataclass
class OutlookView:
    """``status`` is an ``Availability`` value ("" before a topic is chosen)."""

    status: str = ""
    position: int = 0  # in line; 0 before the chat starts
    headline: str = ""
    detail: str = ""
    can_leave_message: bool = False


def wait_words(seconds: int) -> str:
    if seconds < 60:
        return "less than a minute"
    minutes = round(seconds / 60)
    return f"about {minutes} minute{'s' if minutes != 1 else ''}"


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


_known_zones()  # read the zone files at import (about 600 of them), not on the event loop of a visitor's event


def valid_time_zone(name: object) -> str:
    """The visitor's time zone as their browser named it, or UTC if it is not one."""
    if not isinstance(name, str) or len(name) > MAX_TIME_ZONE_LENGTH:
        return "UTC"
    return name if name in _known_zones() else "UTC"


def outlook_view(outlook: Outlook | None, *, queue_name: str, time_zone: str, waiting: bool) -> OutlookView:
    """The words for someone choosing ``queue_name`` (``waiting`` False) or in its line."""
    if outlook is None:
        return OutlookView()
    return dataclasses.replace(
        _words(outlook, queue_name=queue_name, time_zone=time_zone, waiting=waiting),
        position=outlook.position if waiting else 0,
    )


def _words(outlook: Outlook, *, queue_name: str, time_zone: str, waiting: bool) -> OutlookView:
    if outlook.status == Availability.CLOSED:
        back = (
            f"We're back {when_back(outlook.opens_at, time_zone=time_zone)} (your time)."
            if outlook.opens_at
            else "We don't know yet when we're back."
        )
        return OutlookView(
            outlook.status,
            headline=f"{queue_name} is closed right now. {back}",
            detail=outlook.closed_message or _choices(waiting),
            can_leave_message=True,
        )
    if outlook.status == Availability.NOBODY:
        return OutlookView(
            outlook.status,
            headline=f"Nobody from {queue_name} is available right now.",
            detail=_choices(waiting),
            can_leave_message=True,
        )
    if not waiting:
        if outlook.status == Availability.AVAILABLE:
            return OutlookView(
                outlook.status,
                headline="An agent is available now.",
                detail="Start the chat and you'll be connected in a moment.",
            )
        return OutlookView(
            outlook.status,
            headline="All agents are busy.",
            detail=f"Expected wait: {wait_words(outlook.wait_seconds)}.",
        )
    if outlook.status == Availability.AVAILABLE:
        return OutlookView(outlook.status, headline="An agent is about to join.")
    return OutlookView(outlook.status, headline=f"Estimated wait: {wait_words(outlook.wait_seconds)}.")


def _choices(waiting: bool) -> str:
    if waiting:
        return "You can leave a message and we'll reply by email, or keep waiting: an agent takes your chat as soon as one is available."
    return "You can leave a message and we'll reply by email, or start the chat and wait for the next free agent."
