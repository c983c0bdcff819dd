"""The plain-text transcript shared by email, records and the closed interaction."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from agent_workspace.models import SenderKind
from agent_workspace.services import attachments
from agent_workspace.services.errors import NotFound
from agent_workspace.services.transcripts import transcript_text
from tests.factories import add_message, make_customer, make_interaction, make_queue, make_user


def at(hour: int, minute: int) -> datetime:
    return datetime(2025, 3, 14, hour, minute, tzinfo=UTC)


def test_lines_are_time_name_and_text_in_message_order(session: Session, tmp_path: Path) -> None:
    agent = make_user(session, "grace", display_name="Grace Hopper")
    interaction = make_interaction(session, queue=make_queue(session), customer=make_customer(session), agent=agent)
    interaction.requested_at = at(9, 58)
    session.commit()
    add_message(session, interaction, "Hello, my invoice is wrong.", created_at=at(9, 58))
    add_message(
        session,
        interaction,
        "Grace Hopper joined the chat",
        sender_kind=SenderKind.SYSTEM,
        sender_name="System",
        created_at=at(10, 1),
    )
    add_message(
        session,
        interaction,
        "Let me look.\nOne moment please.",
        sender_kind=SenderKind.AGENT,
        sender_user=agent,
        created_at=at(10, 2),
    )
    invoice = attachments.store_attachment(
        session,
        interaction_id=interaction.id,
        filename="invoice.pdf",
        data=b"%PDF-1.7\n" + b"x" * 2039,
        uploaded_by_kind="customer",
        uploaded_by_user_id=None,
        storage_dir=tmp_path,
    )
    add_message(session, interaction, "", attachment=invoice, created_at=at(10, 3))
    add_message(session, interaction, "Here it is", attachment=invoice, created_at=at(10, 4))

    assert transcript_text(session, interaction_id=interaction.id).splitlines() == [
        f"Chat {interaction.number}, started 2025-03-14 09:58 UTC",
        "",
        "[09:58] Ada Lovelace: Hello, my invoice is wrong.",
        "[10:01] — Grace Hopper joined the chat —",
        "[10:02] Grace Hopper: Let me look.",
        "        One moment please.",
        "[10:03] Ada Lovelace: [attachment: invoice.pdf (2 KB)]",
        "[10:04] Ada Lovelace: Here it is [attachment: invoice.pdf (2 KB)]",
    ]


def test_a_chat_without_messages_says_so(session: Session) -> None:
    interaction = make_interaction(session, queue=make_queue(session), customer=make_customer(session))

    assert transcript_text(session, interaction_id=interaction.id).endswith("(no messages)")


def test_unknown_chat_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        transcript_text(session, interaction_id=999)


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1 KB"),
        (15_000, "15 KB"),
        (2_621_440, "2.5 MB"),
        (10 * 1024 * 1024, "10 MB"),
    ],
)
def test_sizes_read_the_way_people_write_them(size: int, shown: str) -> None:
    assert attachments.format_size(size) == shown
