"""Plain-text chat transcripts.

One rendering shared by the email a customer receives, the description of a
case or incident, and the copy saved on the interaction when it closes, so all
three read the same.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from agent_workspace.models import Attachment, Interaction, Message, SenderKind
from agent_workspace.services.attachments import format_size
from agent_workspace.services.errors import NotFound

# The printed columns of a chat's messages, in order, built once: every close
# saves a transcript, and loading whole rows cost more than printing them.
_TRANSCRIPT_LINES = (
    sa_select(
        col(Message.created_at),
        col(Message.sender_kind),
        col(Message.sender_name),
        col(Message.body),
        col(Attachment.filename),
        col(Attachment.size),
    )
    .outerjoin(Attachment, col(Attachment.id) == col(Message.attachment_id))
    .where(col(Message.interaction_id) == bindparam("interaction_id"))
    .order_by(col(Message.id))
)


def transcript_text(session: Session, *, interaction_id: int) -> str:
    """The chat as text: a heading, then one "[HH:MM] Name: text" line per message.

    Times are UTC (the heading says so, with the date the chat started). System
    messages read "— text —"; a message carrying a file lists it as
    "[attachment: name (size)]" so the reader knows a file exists even where
    the file itself is not included.
    """
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        raise NotFound("That chat does not exist.")
    rows = session.connection().execute(_TRANSCRIPT_LINES, {"interaction_id": interaction_id}).all()
    started = interaction.requested_at.strftime("%Y-%m-%d %H:%M")
    lines = [f"Chat {interaction.number or interaction.id}, started {started} UTC", ""]
    if not rows:
        lines.append("(no messages)")
    lines.extend(_message_line(*row) for row in rows)
    return "\n".join(lines)


def _message_line(
    created_at: datetime, sender_kind: str, sender_name: str, body: str, filename: str | None, size: int | None
) -> str:
    stamp = f"[{created_at:%H:%M}]"
    # Continuation lines are indented so every message still starts at a timestamp.
    text = body.strip().replace("\n", "\n        ")
    if filename is not None and size is not None:
        listed = f"[attachment: {filename} ({format_size(size)})]"
        text = f"{text} {listed}" if text else listed
    if sender_kind == SenderKind.SYSTEM:
        return f"{stamp} — {text} —"
    return f"{stamp} {sender_name}: {text}"
