"""The list a page or an export link asks for, read from its parameters.

The list pages (``state/records.py``) and the CSV export (``exports.py``) carry
a list's filters as the same strings; they are read here once and checked by
``record_lists.checked`` (``ValidationError`` with a message for the page).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import TypeVar

from agent_workspace.services import record_lists
from agent_workspace.services.errors import ValidationError
from agent_workspace.services.record_lists import ListKind, ListQuery, Scope, SortColumn

_Option = TypeVar("_Option", bound=StrEnum)


def query_from_params(kind: ListKind, params: Mapping[str, str], *, page: int = 1, page_size: int = 25) -> ListQuery:
    """The list a page (or an export link) asks for with these parameters, checked
    (``ValidationError`` saying which is wrong).

    ``scope``, ``state``, ``queue``, ``agent``, ``from``, ``to``, ``q``, ``sort``,
    ``desc`` ("1"/"0"); any of them left out or empty takes the list's default.
    """
    if params.get("desc", "1") not in ("0", "1"):
        raise ValidationError("desc: 0 or 1.")
    query = ListQuery(
        kind=kind,
        scope=_option(Scope, params.get("scope") or Scope.MY_QUEUES),
        state=params.get("state", ""),
        queue_id=_row_id(params, "queue"),
        agent_id=_row_id(params, "agent"),
        date_from=_day(params, "from", "Opened from"),
        date_to=_day(params, "to", "Opened to"),
        text=params.get("q", "").strip(),
        sort=_option(SortColumn, params.get("sort") or SortColumn.OPENED),
        descending=params.get("desc", "1") == "1",
        page=page,
        page_size=page_size,
    )
    return record_lists.checked(query)


def _option(kind: type[_Option], text: str) -> _Option:
    try:
        return kind(text)
    except ValueError as error:
        raise ValidationError(f"Unknown list option: {error}.") from None


def _day(params: Mapping[str, str], name: str, label: str) -> date | None:
    text = params.get(name, "")
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{label}: a date as YYYY-MM-DD.") from None


def _row_id(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name, "")
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise ValidationError(f"{name}: a number.")
    return int(text)
