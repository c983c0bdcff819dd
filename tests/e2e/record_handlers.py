"""The record states' handlers for the websocket security tests (test_websocket_security*.py)."""

from __future__ import annotations

from agent_workspace.security import Access
from agent_workspace.state.records import RecordListState, RecordPageState

RECORD_STATES = {RecordListState: Access.WORKSPACE, RecordPageState: Access.WORKSPACE}

# Arguments that would make each handler act if it were allowed to run.
RECORD_PAYLOADS = {
    "choose_scope": {"value": "all"},
    "apply_filters": {"form": {"state": "", "queue": "1", "agent": "", "from": "2000-01-01", "to": ""}},
    "run_search": {"form": {"q": "IMS0001001"}},
    "sort_by": {"column": "number"},
    "go_to_page": {"page": 1},
}


def record_attacks(victim) -> dict[tuple[type, str], list]:
    """Every record handler aimed at the victim's queue and words (``victim_chat.Victim``):
    what it finds (the victim's secrets) must never reach the intruder. Opening a
    record by its number (a route) is tests/e2e/test_records_security.py's."""
    return {
        (RecordListState, "load"): [{}],
        (RecordPageState, "load"): [{}],
        (RecordListState, "choose_scope"): [{"value": "all"}, {"value": "my_queues"}],
        (RecordListState, "apply_filters"): [
            {"form": {"state": "", "queue": str(victim.queue_id), "agent": "", "from": "", "to": ""}}
        ],
        (RecordListState, "run_search"): [
            {"form": {"q": "Secret"}}
        ],  # a word of the victim's question, echoed back harmlessly
        (RecordListState, "sort_by"): [{"column": "customer"}],
        (RecordListState, "go_to_page"): [{"page": 1}, {"page": 2}],
        (RecordListState, "clear_filters"): [{}],
        (RecordListState, "setvar"): [{"var_name": "scope", "value": "all"}],
        (RecordPageState, "setvar"): [{"var_name": "found", "value": True}],
    }
