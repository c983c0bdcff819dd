"""What the public chat page accepts from a tab, checked before any work.

Any websocket client can call the customer page's handlers with anything:
every field is sized before clean-up or database work, every action spends
from the tab's and the address's budgets (refused attempts too), and the tab
keeps at most a few messages that are not stored, so nothing a client sends
makes the tab's state grow.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from agent_workspace.services import budgets, conversations, left_messages
from agent_workspace.services.budgets import Budget
from agent_workspace.services.errors import ValidationError
from agent_workspace.services.events import TYPING_SIGNAL_SECONDS
from agent_workspace.services.text import check_sizes
from agent_workspace.state.message_status import MessageStatus

# Field name -> (label, most characters).
START_FIELDS = {
    "name": ("Your name", conversations.MAX_NAME_LENGTH),
    "email": ("Your email", 254),
    "queue_id": ("The topic", 12),
    "question": ("Your question", conversations.MAX_QUESTION_LENGTH),
}
SEND_FIELDS = {"body": ("The message", conversations.MAX_MESSAGE_LENGTH)}
LEAVE_FIELDS = {
    "name": ("The name", left_messages.MAX_NAME_LENGTH),
    "email": ("The email", 254),
    "message": ("The message", left_messages.MAX_MESSAGE_LENGTH),
}
RATE_FIELDS = {"rating": ("The rating", 2), "comment": ("The comment", conversations.MAX_COMMENT_LENGTH)}
# Messages shown Sending or Failed (Retry) at once; a send beyond them is refused, not kept.
MAX_UNSENT = 3
TOO_MANY_UNSENT = f"{MAX_UNSENT} messages are not sent yet: retry them before writing more."


def form_fields(form: object, fields: Mapping[str, tuple[str, int]]) -> dict[str, str]:
    """The named fields of a submitted form, each text within its limit, or
    ValidationError for the first that is not. A missing field is empty."""
    form = form if isinstance(form, dict) else {}
    values = {name: form.get(name, "") for name in fields}
    values = {
        name: str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        for name, value in values.items()
    }
    check_sizes({label: (values[name], limit) for name, (label, limit) in fields.items()})
    return values


async def spend(state, budget: Budget) -> None:
    """Spend from this tab's and this address's ``budget`` or raise ``OverBudget``."""
    session = state.router.session
    await budgets.spend(budget, token=session.client_token, address=session.client_ip)


def check_room(messages: list) -> None:
    """Refuse a new message while the tab already holds ``MAX_UNSENT`` unsent ones."""
    if sum(1 for m in messages if m.status != MessageStatus.SENT) >= MAX_UNSENT:
        raise ValidationError(TOO_MANY_UNSENT)


def typing_due(last_signal_at: float) -> float | None:
    """Now (wall clock: a tab's events may run on any worker), if a typing signal
    may be sent; None within ``TYPING_SIGNAL_SECONDS`` of the last."""
    now = time.time()
    return now if now - last_signal_at >= TYPING_SIGNAL_SECONDS else None
