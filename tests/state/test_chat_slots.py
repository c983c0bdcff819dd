"""Which slot state holds each open chat's messages (state/chat_slots.py)."""

from __future__ import annotations

from agent_workspace.services.auth import MAX_CAPACITY
from agent_workspace.state import chat_slots


def test_open_chats_keep_their_slots_and_new_ones_take_the_lowest_free() -> None:
    slots = chat_slots.assign({}, [11, 12, 13])
    assert slots == {11: 0, 12: 1, 13: 2}
    slots = chat_slots.assign(slots, [11, 13, 14])  # 12 closed; 14 takes its slot, 13 keeps its own
    assert slots == {11: 0, 13: 2, 14: 1}


def test_every_chat_an_agent_may_hold_has_a_slot_of_its_own() -> None:
    open_ids = list(range(100, 100 + MAX_CAPACITY))
    slots = chat_slots.assign({}, open_ids)
    assert sorted(slots.values()) == list(range(MAX_CAPACITY))
    assert chat_slots.assign(slots, [*open_ids, 999])[999] == chat_slots.NO_SLOT


def test_slot_states_are_distinct_classes_named_in_their_module() -> None:
    names = {cls.__name__ for cls in chat_slots.SLOT_STATES}
    assert len(names) == MAX_CAPACITY
    assert all(getattr(chat_slots, name).__module__ == chat_slots.__name__ for name in names)  # picklable by name
