"""Tab colours: how long a customer has waited for a reply, read from the messages' stored times."""

from __future__ import annotations

from types import SimpleNamespace

from agent_workspace.state.live import Urgency, fold_messages, update_urgency, waiting_since
from agent_workspace.state.views import ChatTab, MessageView

NOW = 1_800_000_000.0


def said(kind: str, at: float) -> MessageView:
    return MessageView(client_id=f"{kind}{at}", sender_kind=kind, sender_name=kind, body="…", sent_at=at)


def test_the_wait_starts_at_the_first_unanswered_customer_message() -> None:
    chat = [
        said("customer", NOW - 300),
        said("agent", NOW - 200),
        said("customer", NOW - 90),
        said("customer", NOW - 5),
    ]
    assert waiting_since(chat, NOW) == NOW - 90
    assert waiting_since([*chat, said("agent", NOW - 1)], NOW) is None
    assert waiting_since([said("system", NOW - 400)], NOW) is None
    assert waiting_since([said("customer", 0.0)], NOW) == NOW  # not stored yet: from now


def test_tabs_turn_amber_after_30_s_and_red_after_60_s() -> None:
    chats = {
        "1": [said("customer", NOW - 10)],
        "2": [said("customer", NOW - 31)],
        "3": [said("customer", NOW - 61)],
        "4": [said("customer", NOW - 61), said("agent", NOW - 1)],
    }
    since = {key: at for key, messages in chats.items() if (at := waiting_since(messages, NOW)) is not None}
    live = SimpleNamespace(_waiting_since={**since, "5": NOW - 100}, urgency={})
    tabs = [ChatTab(interaction_id=i) for i in (1, 2, 3, 4)] + [ChatTab(interaction_id=5, customer_ended=True)]
    update_urgency(live, tabs, now=NOW)  # the two vars it uses, without a Reflex state
    assert live.urgency == {
        "1": Urgency.CALM,
        "2": Urgency.WARNING,
        "3": Urgency.CRITICAL,
        "4": Urgency.CALM,
        "5": Urgency.CALM,
    }


def _live() -> SimpleNamespace:
    return SimpleNamespace(typing_now={}, unread={}, _waiting_since={}, alert_seq=0, alert_text="")


def _from_customer(message_id: int) -> MessageView:
    return MessageView(id=message_id, client_id=f"c{message_id}", sender_kind="customer", sender_name="Ann", body="hi")


def test_a_reload_reads_every_message_again_and_counts_none_unread() -> None:
    """Found on a shift: after a reload every tab showed all its customer's messages as unread."""
    live, slot = _live(), SimpleNamespace(messages=[])
    fold_messages(live, slot, "7", [_from_customer(1), _from_customer(2)], False, shown=False, alerting=False)
    assert live.unread == {} and live.alert_seq == 0  # the tab loading: nothing arrived
    fold_messages(live, slot, "7", [_from_customer(3)], False, shown=False, alerting=True)
    assert live.unread == {"7": 1} and live.alert_seq == 1  # a message that arrived
    fold_messages(live, slot, "7", [_from_customer(2), _from_customer(3)], False, shown=False, alerting=True)
    assert live.unread == {"7": 1} and live.alert_seq == 1  # read again after an old cursor: held already
    assert [m.id for m in slot.messages] == [1, 2, 3]
