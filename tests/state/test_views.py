"""The page-side rule for pushed messages: apply what continues the cursor, read otherwise."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from agent_workspace.services.events import InteractionChanged, MessageData, MessagePosted, QueueChanged
from agent_workspace.state.views import message_view
from agent_workspace.sync import carried_messages

CHAT = 7


def posted(message_id: int, follows_id: int, chat: int = CHAT) -> MessagePosted:
    data = MessageData(
        id=message_id,
        sender_kind="customer",
        sender_name="Ada",
        body=f"m{message_id}",
        client_id=f"c{message_id}",
        created_at=datetime(2026, 11, 26, tzinfo=UTC),
    )
    return MessagePosted(chat, message=data, follows_id=follows_id)


def ids(messages) -> list[int] | None:
    return None if messages is None else [m.id for m in messages]


def test_messages_that_continue_the_cursor_are_applied_in_order() -> None:
    changes = [posted(12, follows_id=11), posted(11, follows_id=10)]  # coalesced out of order
    assert ids(carried_messages(changes, interaction_id=CHAT, cursor=10)) == [11, 12]


def test_a_gap_means_the_page_must_read() -> None:
    assert carried_messages([posted(12, follows_id=11)], interaction_id=CHAT, cursor=10) is None


def test_messages_the_page_already_has_are_skipped() -> None:
    changes = [posted(11, follows_id=10), posted(12, follows_id=11)]
    assert ids(carried_messages(changes, interaction_id=CHAT, cursor=11)) == [12]


def test_any_other_change_to_the_chat_means_the_page_must_read() -> None:
    changes = [posted(11, follows_id=10), InteractionChanged(CHAT)]
    assert carried_messages(changes, interaction_id=CHAT, cursor=10) is None


def test_changes_of_other_chats_and_queues_are_ignored() -> None:
    changes = [posted(11, follows_id=10), posted(40, follows_id=3, chat=8), InteractionChanged(8), QueueChanged(1)]
    assert ids(carried_messages(changes, interaction_id=CHAT, cursor=10)) == [11]
    assert ids(carried_messages([QueueChanged(1)], interaction_id=CHAT, cursor=10)) == []


def test_the_viewers_own_message_reads_you_and_keeps_its_stored_time() -> None:
    stored = posted(3, follows_id=2).message
    own = message_view(stored, attachment_base="/a", mine=True)
    other = message_view(stored, attachment_base="/a")
    assert (own.sender_name, own.mine) == ("You", True)
    assert (other.sender_name, other.mine) == ("Ada", False)
    assert own.sent_at == datetime(2026, 11, 26, tzinfo=UTC).timestamp()
    naive = message_view(replace(stored, created_at=datetime(2026, 11, 26)), attachment_base="/a")  # SQLite reads
    assert naive.sent_at == own.sent_at
