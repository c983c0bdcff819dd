"""The chat widget a team pastes into its own site: its snippet, and what its
launcher says about availability."""

from __future__ import annotations

from html import escape

from agent_workspace.services.availability import Availability, Outlook

DEFAULT_TITLE = "Chat with us"
DEFAULT_COLOR = "#3e63dd"  # the app's indigo accent
LEAVE_A_MESSAGE = "Leave us a message."
# Best first: what an "all queues" launcher promises is what its best queue can do.
_RANK = {Availability.AVAILABLE: 0, Availability.BUSY: 1, Availability.NOBODY: 2, Availability.CLOSED: 3}


def snippet(
    base_url: str, *, queue_id: int | None = None, title: str = DEFAULT_TITLE, color: str = DEFAULT_COLOR
) -> str:
    """The one script tag a host page needs (``queue_id`` None: the visitor picks the topic)."""
    queue = f' data-queue="{queue_id}"' if queue_id is not None else ""
    return (
        f'<script src="{escape(base_url.rstrip("/"))}/widget.js"{queue}'
        f' data-title="{escape(title)}" data-color="{escape(color)}" async></script>'
    )


def launcher_outlook(outlooks: dict[int, Outlook], queue_id: int | None) -> Outlook | None:
    """The outlook a launcher shows: its queue's, or for every queue the best one
    (an agent free now, else the shortest wait, else the earliest reopening)."""
    if queue_id is not None:
        return outlooks.get(queue_id)
    if not outlooks:
        return None
    far = float("inf")
    return min(
        outlooks.values(),
        key=lambda o: (_RANK[o.status], o.wait_seconds, o.opens_at.timestamp() if o.opens_at else far),
    )


def launcher_text(headline: str, *, can_leave_message: bool) -> str:
    """The one line a launcher shows beside itself: the availability headline,
    and where nobody can chat now, that a message can be left."""
    return f"{headline} {LEAVE_A_MESSAGE}" if can_leave_message else headline
