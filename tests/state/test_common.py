"""Building var values from what the vars hold, and how a message is serialized."""

from __future__ import annotations

import dataclasses

from reflex.istate.proxy import MutableProxy
from reflex_base.utils.serializers import serialize

from agent_workspace.state.common import unproxied
from agent_workspace.state.views import MessageView, merge_messages


class _Owner:
    """Stands in for the state a proxy reports changes to."""

    def __init__(self) -> None:
        self.dirty: list[str] = []

    def _mark_dirty(self, *args, **kwargs) -> None:
        self.dirty.append("marked")


def test_a_value_rebuilt_from_a_var_stores_no_change_tracking_proxies() -> None:
    held = {"1": [MessageView(id=1, client_id="a")], "2": [MessageView(id=5, client_id="e")]}
    read = MutableProxy(held, _Owner(), "conversations")  # what reading the var returns

    assert isinstance({**read}["2"], MutableProxy)  # what building from the read itself would store
    conversations = unproxied(read)
    rebuilt = {**conversations, "1": merge_messages(conversations["1"], [MessageView(id=2, client_id="b")])}

    assert all(type(messages) is list for messages in rebuilt.values())
    assert all(type(message) is MessageView for messages in rebuilt.values() for message in messages)
    assert [m.id for m in rebuilt["1"]] == [1, 2]
    assert unproxied(held) is held  # a plain value is returned as it is


def test_a_message_serializes_to_all_its_fields() -> None:
    message = MessageView(id=7, client_id="c", sender_kind="agent", body="Hello", status="failed", error="Why")
    assert serialize(message) == dataclasses.asdict(message)
