"""The server's side of a page's outbox: a text is taken once per client id."""

from __future__ import annotations

from agent_workspace.state import outbox
from agent_workspace.state.message_status import MessageStatus
from agent_workspace.state.views import MessageView


def test_the_pages_client_id_is_used_and_a_missing_or_bad_one_replaced() -> None:
    assert outbox.client_id({"body": "hi", "client_id": "o" + "a" * 32}) == "o" + "a" * 32
    for form in ({"body": "hi"}, {"client_id": "x"}, {"client_id": "no spaces allowed"}, {"client_id": 7}, "junk"):
        made = outbox.client_id(form)
        assert len(made) == 32 and made != outbox.client_id(form)  # fresh each time: such a send is not repeatable


def test_a_message_already_in_the_conversation_is_held_whatever_its_status() -> None:
    messages = [
        MessageView(client_id="stored-01", status=MessageStatus.SENT),
        MessageView(client_id="storing-1", status=MessageStatus.SENDING),
        MessageView(client_id="refused-1", status=MessageStatus.FAILED),
    ]
    assert all(outbox.held(messages, i) for i in ("stored-01", "storing-1", "refused-1"))
    assert not outbox.held(messages, "new-00001")


def test_taken_ids_keep_the_last_ones_once_each() -> None:
    ids: list[str] = []
    for n in range(outbox.TAKEN_KEPT + 5):
        ids = outbox.taken(ids, f"id-{n:05}")
    ids = outbox.taken(ids, f"id-{outbox.TAKEN_KEPT + 4:05}")  # taken again: still once, still last
    assert len(ids) == outbox.TAKEN_KEPT
    assert ids[0] == "id-00005" and ids[-1] == f"id-{outbox.TAKEN_KEPT + 4:05}"
    assert len(set(ids)) == len(ids)
