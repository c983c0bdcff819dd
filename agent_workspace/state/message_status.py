"""Where a message the tab sends stands, as its bubble shows it."""

from __future__ import annotations

from enum import StrEnum


class MessageStatus(StrEnum):
    SENDING = "sending"  # shown at once, before the server has stored it
    SENT = "sent"
    FAILED = "failed"  # not stored: the bubble says why and offers Retry
