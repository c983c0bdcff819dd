"""Plain-text chat transcripts.

One rendering shared by the email a customer receives, the description of a
case or incident, and the copy saved on the interaction when it closes, so all
three read the same.
"""

from __future__ import annotations

from sqlmodel import Session, select

from agent_workspace.models import Attachment, Interaction, Message, SenderKind
from agent_workspace.services.attachments import format_size
from agent_workspace.services.errors import NotFound


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

    rows = session.exec(
        select(Message, Attachment)
        .join(Attachment, Message.attachment_id == Attachment.id, isouter=True)
        .where(Message.interaction_id == interaction_id)
        .order_by(Message.id)
    ).all()

    started = interaction.requested_at.strftime("%Y-%m-%d %H:%M")
    lines = [f"Chat {interaction.number or interaction.id}, started {started} UTC", ""]
    if not rows:
        lines.append("(no messages)")
    for message, attachment in rows:
        lines.append(_message_line(message, attachment))
    return "\n".join(lines)


def _message_line(message: Message, attachment: Attachment | None) -> str:
    stamp = f"[{message.created_at:%H:%M}]"
    # Continuation lines are indented so every message still starts at a timestamp.
    text = message.body.strip().replace("\n", "\n        ")
    if attachment is not None:
        listed = f"[attachment: {attachment.filename} ({format_size(attachment.size)})]"
        text = f"{text} {listed}" if text else listed
    if message.sender_kind == SenderKind.SYSTEM:
        return f"{stamp} — {text} —"
    return f"{stamp} {message.sender_name}: {text}"
