"""What a list of interactions, cases or incidents is asked for and gives back.

The query a list page (or the CSV export) sends, its options and their checks,
the rows and page it gets, the states it filters by and their labels, and record
numbers as a person types them. ``record_lists`` runs the query in SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from agent_workspace.models import CloseReason, InteractionState
from agent_workspace.services import records
from agent_workspace.services.errors import ValidationError


class ListKind(StrEnum):
    INTERACTION = "interaction"
    CASE = "case"
    INCIDENT = "incident"


class Scope(StrEnum):
    MINE = "mine"  # interactions I handled; cases and incidents I created or from my chats
    MY_QUEUES = "my_queues"  # everything of the queues I work
    ALL = "all"  # supervisors: every record


class SortColumn(StrEnum):
    NUMBER = "number"
    CUSTOMER = "customer"
    QUEUE = "queue"
    AGENT = "agent"
    STATE = "state"
    OPENED = "opened"
    CLOSED = "closed"
    DURATION = "duration"
    RATING = "rating"


@dataclass(frozen=True)
class ListQuery:
    """What the list page asks for. Empty / None filters are not applied.

    ``text`` searches numbers, customer names and emails, and the words of the
    conversation (``search``). ``date_from``/``date_to`` bound the opened date,
    both days included, in UTC.
    """

    kind: ListKind = ListKind.INTERACTION
    scope: Scope = Scope.MY_QUEUES
    state: str = ""
    queue_id: int | None = None
    agent_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""
    sort: SortColumn = SortColumn.OPENED
    descending: bool = True
    page: int = 1  # 1-based
    page_size: int = 25


@dataclass(frozen=True)
class ListRow:
    """One line of a list. For cases and incidents "agent" is who created it and
    "rating" is the rating of its chat."""

    number: str
    customer: str
    customer_email: str
    queue: str
    agent: str
    state: str  # the value (e.g. "closed_complete"); ``state_label`` says it in words
    state_label: str
    opened: datetime
    closed: datetime | None
    duration_seconds: int | None
    rating: int | None
    summary: str  # short description, or the start of the question


@dataclass(frozen=True)
class ListPage:
    rows: list[ListRow]
    total: int  # rows matching, over all pages
    page: int
    page_size: int


MAX_PAGE_SIZE = 100
MAX_PAGE = 1_000_000  # keeps the OFFSET (at most 10^8) far from SQL's 64-bit limit
MAX_SEARCH_LENGTH = 200

_NUMBER = re.compile(r"(IMS|CS|INC)\s*(\d{1,15})", re.IGNORECASE)
_KIND_OF_PREFIX = {"IMS": ListKind.INTERACTION, "CS": ListKind.CASE, "INC": ListKind.INCIDENT}
# The prefix of each kind's numbers ("1001" in the Cases list is CS0001001).
PREFIX_OF_KIND = {kind: prefix for prefix, kind in _KIND_OF_PREFIX.items()}

INTERACTION_STATE_LABELS = {
    InteractionState.QUEUED: "Queued",
    InteractionState.OFFERED: "Offered",
    InteractionState.WORK_IN_PROGRESS: "Work in progress",
    InteractionState.CLOSED_COMPLETE: "Closed complete",
    InteractionState.CLOSED_ABANDONED: "Closed abandoned",
}
RECORD_STATE_LABELS = records.STATE_LABELS
# The states a list of each kind can be filtered by: value -> label.
STATES_OF = {
    ListKind.INTERACTION: {str(value): label for value, label in INTERACTION_STATE_LABELS.items()},
    ListKind.CASE: RECORD_STATE_LABELS,
    ListKind.INCIDENT: RECORD_STATE_LABELS,
}
NOT_SAVED_LABEL = "Closed, not saved"  # a chat closed by closing its tab: its history was not saved


def state_label(kind: ListKind, state: str, close_reason: str | None = None) -> str:
    """The state in words ("Closed complete", "On hold", "Closed, not saved"); an unknown value as it is."""
    if close_reason == CloseReason.TAB_CLOSED:
        return NOT_SAVED_LABEL
    return STATES_OF[kind].get(state, state)


def number_of(text: str) -> tuple[ListKind, str] | None:
    """``ims1028``, `` IMS0001028 ``, ``cs0001001``, ``INC0001002`` → (kind, canonical
    number) when the text is a record number, else None (the page jumps to it)."""
    match = _NUMBER.fullmatch(text.strip())
    if match is None:
        return None
    prefix = match.group(1).upper()
    return _KIND_OF_PREFIX[prefix], f"{prefix}{int(match.group(2)):07d}"


def checked(query: ListQuery) -> ListQuery:
    """``query`` with its enums checked, or ``ValidationError`` saying what is wrong.

    ``list_records`` and ``export_chunks`` check their query with it, and
    ``record_params`` the query it reads from a page's parameters."""
    try:
        kind, scope, sort = ListKind(query.kind), Scope(query.scope), SortColumn(query.sort)
    except ValueError as error:
        raise ValidationError(f"Unknown list option: {error}.") from None
    if not 1 <= query.page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"Show between 1 and {MAX_PAGE_SIZE} rows a page.")
    if not 1 <= query.page <= MAX_PAGE:
        raise ValidationError(f"Pages are numbered from 1 to {MAX_PAGE:,}.")
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise ValidationError("The “from” date must not be after the “to” date.")
    if len(query.text) > MAX_SEARCH_LENGTH:
        raise ValidationError(f"Search for at most {MAX_SEARCH_LENGTH} characters.")
    if query.state and query.state not in STATES_OF[kind]:
        raise ValidationError(f"Unknown state “{query.state}”: one of " + ", ".join(STATES_OF[kind]) + ".")
    return replace(query, kind=kind, scope=scope, sort=sort)
