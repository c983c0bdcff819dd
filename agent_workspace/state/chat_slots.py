"""Each open chat's messages in a state class of its own (a *slot*).

Reflex sends a var whole whenever it changes, and with Redis loads and stores
a state class whole. Held in one dict, every message to an agent would re-send
(and re-store) the messages of all their open chats; in a slot of its own, a
message re-sends only its chat's list. A tab gives each chat it opens the
lowest free slot (``ChatTab.slot``) and empties the slot when the chat leaves.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

import reflex as rx

from agent_workspace.security import Access, access
from agent_workspace.services.auth import MAX_CAPACITY
from agent_workspace.state.views import MessageView

# As many as an agent can have chats open: capacity bounds accepts and transfers alike.
CHAT_SLOTS = MAX_CAPACITY
NO_SLOT = -1  # a chat beyond every slot (never, while capacity bounds open chats): shown without messages


class MessageSlot(Protocol):
    """What a slot state holds (its class is made by ``_slot_class``)."""

    messages: list[MessageView]


def _slot_class(index: int) -> type[rx.State]:
    """``ChatSlot<index>``: one chat's messages. Named in this module, so that Redis
    can store and load it like a class written out by hand."""
    name = f"ChatSlot{index}"
    namespace = {
        "__module__": __name__,
        "__qualname__": name,
        "__annotations__": {"messages": list[MessageView]},
        "__doc__": f"The messages of the chat in slot {index} of an agent's tab.",
        "messages": [],
    }
    cls = access(Access.WORKSPACE)(type(name, (rx.State,), namespace))
    globals()[name] = cls
    return cls


SLOT_STATES: tuple[type[rx.State], ...] = tuple(_slot_class(k) for k in range(CHAT_SLOTS))


def lowest_free(taken: Collection[int]) -> int:
    """The slot a newly opened chat takes."""
    return next((k for k in range(CHAT_SLOTS) if k not in taken), NO_SLOT)


def assign(slots: dict[int, int], open_ids: list[int]) -> dict[int, int]:
    """Chat id -> slot for ``open_ids``: chats keep their slot, new ones take the lowest free."""
    kept = {i: slots[i] for i in open_ids if i in slots}
    for interaction_id in open_ids:
        if interaction_id not in kept:
            kept[interaction_id] = lowest_free(set(kept.values()))
    return kept
