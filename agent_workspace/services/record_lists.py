"""Lists of interactions, cases and incidents: filtered, sorted and paged in SQL, and searched.

The workspace's "Interactions", "Cases" and "Incidents" pages and the
supervisor's CSV export read through here; what a viewer may see is
``record_access``'s rule, applied in the query.

Here: the queries (conditions, sort, keyset) and the reading of a page or an
export's chunks. What a list is asked for and gives back (``ListQuery``,
``ListRow``, the states and their labels) is ``record_list_query``'s, and
importable from here too; each kind's tables and columns are
``record_list_sources``'.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, case, false, null, or_, tuple_, type_coerce
from sqlalchemy import select as sa_select
from sqlalchemy.types import NullType
from sqlmodel import Session, col, func, select

from agent_workspace.models import Interaction, Queue, SupportRecord, non_null
from agent_workspace.services import record_search
from agent_workspace.services.record_access import Viewer, chats_written_in_by, queue_ids_of
from agent_workspace.services.record_list_query import (
    MAX_SEARCH_LENGTH,
    PREFIX_OF_KIND,
    STATES_OF,
    ListKind,
    ListPage,
    ListQuery,
    ListRow,
    Scope,
    SortColumn,
    checked,
    number_of,
    state_label,
)
from agent_workspace.services.record_list_sources import Source, interaction_source, list_row, record_source

__all__ = [
    "EXPORT_CHUNK",
    "MAX_SEARCH_LENGTH",
    "STATES_OF",
    "ListKind",
    "ListPage",
    "ListQuery",
    "ListRow",
    "Scope",
    "SortColumn",
    "checked",
    "export_chunks",
    "list_records",
    "number_of",
    "state_label",
]

EXPORT_CHUNK = 1000  # rows read (in one short session) and written at a time by an export
_DIGITS = re.compile(r"\d{1,15}")


def list_records(session: Session, viewer: Viewer, query: ListQuery) -> ListPage:
    """One page of the records ``viewer`` may see that match ``query``.

    A viewer without ``sees_all`` asking for ``Scope.ALL`` gets ``MY_QUEUES``.
    Raises ``ValidationError`` for a page size over 100 or a bad date range.

    The page is found first as ids, over only the tables the conditions and the
    sort need (an index can then walk the order and stop at the page), and
    only those rows are read whole.
    """
    query = checked(query)
    plan = _plan(session, viewer, query)
    page = plan.ids.order_by(*plan.order).limit(query.page_size).offset((query.page - 1) * query.page_size)
    if query.text.strip():
        # A search's sets of matching chats are built once: the total comes with the page.
        found = session.execute(page.add_columns(func.count().over())).all()
        ids = [row_id for row_id, _total in found]
        total = found[0][1] if found else session.execute(plan.count).scalar_one()
    else:
        total = session.execute(plan.count).scalar_one()
        ids = list(session.execute(page).scalars())
    by_id = {values[0]: values[1:] for values in session.execute(plan.rows.where(plan.id.in_(ids)))} if ids else {}
    rows = [list_row(query.kind, by_id[row_id]) for row_id in ids]
    return ListPage(rows=rows, total=total, page=query.page, page_size=query.page_size)


def export_chunks(
    open_session: Callable[[], AbstractContextManager[Session]], viewer: Viewer, query: ListQuery
) -> Iterator[list[ListRow]]:
    """Every row matching ``query`` (all pages, ``query.page`` ignored), in its order,
    ``EXPORT_CHUNK`` rows at a time, each chunk read in its own short session from
    ``open_session()`` (a download that stalls holds no connection) after the sort
    key and id of the row before (keyset: no row skipped or repeated). The first
    ``next`` checks the query (``ValidationError``)."""
    query = checked(replace(query, page=1))
    with open_session() as session:
        plan = _plan(session, viewer, query)  # its statements hold values, no session: reused for every chunk
        rows, last = _export_chunk(session, plan, None)
    yield rows
    while last is not None:
        with open_session() as session:
            rows, last = _export_chunk(session, plan, last)
        yield rows


# ---------------------------------------------------------------- the SQL


@dataclass(frozen=True)
class _Plan:
    kind: ListKind
    id: SQLColumnExpression[int]
    rows: Select  # the id and the row columns, filtered; not ordered or paged yet
    ids: Select  # the ids alone, over the tables the conditions and the sort need
    count: Select  # COUNT(*) of the same rows
    order: list[ColumnElement]
    key: SQLColumnExpression | None  # what the order sorts by before the id (None: the id alone)
    key_may_be_empty: bool  # NULLs come last: only then does a keyset need "or empty"
    descending: bool


def _plan(session: Session, viewer: Viewer, query: ListQuery) -> _Plan:
    dialect = session.get_bind().dialect.name
    source = interaction_source() if query.kind == ListKind.INTERACTION else record_source()
    conditions = _scope(session, viewer, query.scope, source) + _filters(query, source)
    if query.kind != ListKind.INTERACTION:
        conditions.append(col(SupportRecord.kind) == query.kind.value)
    if query.text.strip():
        conditions.append(_text_condition(dialect, query, source))
    everything = source.joined(source.customer_join, source.queue_join, source.agent_join)
    key = _sort_key(dialect, query, source, _queue_rank(session, source) if query.sort == SortColumn.QUEUE else None)
    return _Plan(
        kind=query.kind,
        id=source.id,
        rows=sa_select(*source.columns).select_from(everything).where(*conditions),
        ids=sa_select(source.id).select_from(source.sort_from(query.sort)).where(*conditions),
        count=sa_select(func.count()).select_from(source.base).where(*conditions),
        order=_order(dialect, query, source, key),
        key=key,
        key_may_be_empty=query.sort not in source.never_empty,
        descending=query.descending,
    )


def _scope(session: Session, viewer: Viewer, scope: Scope, source: Source) -> list[ColumnElement[bool]]:
    """``record_access``'s rule as SQL: a supervisor's ALL has no condition."""
    if scope == Scope.ALL and viewer.sees_all:
        return []
    mine = [owner == viewer.user_id for owner in source.owners] + [
        source.chat_id.in_(chats_written_in_by(viewer.user_id))
    ]
    if scope == Scope.MINE:
        return [or_(*mine)]
    # The queues they work (a supervisor's too), as ids rather than a subquery:
    # SQLite then plans the OR as two index searches.
    member_of = queue_ids_of(session, replace(viewer, sees_all=False)) or frozenset()
    return [or_(*mine, source.queue_id.in_(sorted(member_of)))]


def _filters(query: ListQuery, source: Source) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.state:
        conditions.append(source.state == query.state)
    if query.queue_id is not None:
        conditions.append(source.queue_id == query.queue_id)
    if query.agent_id is not None:
        conditions.append(source.agent_id == query.agent_id)
    if query.date_from is not None:
        conditions.append(source.opened >= _midnight(query.date_from))
    if query.date_to is not None:
        conditions.append(source.opened < _midnight(query.date_to + timedelta(days=1)))
    return conditions


def _text_condition(dialect: str, query: ListQuery, source: Source) -> ColumnElement[bool]:
    """A record number finds that record only; other text finds customers by name or
    email, and chats (and cases by their own texts or their chat's) that have all its
    words. Digits alone also find the list's record of that number ("1001": IMS0001001)."""
    number = number_of(query.text)
    if number is not None:
        kind, canonical = number
        return source.number == canonical if kind == query.kind else false()
    matches: list[ColumnElement[bool]] = [
        source.customer_id.in_(record_search.customer_ids_matching(dialect, query.text))
    ]
    if _DIGITS.fullmatch(query.text.strip()):
        matches.append(source.number == f"{PREFIX_OF_KIND[query.kind]}{int(query.text):07d}")
    words = record_search.words_of(query.text)
    if words:
        chats = record_search.chat_ids_with_words(dialect, words)
        if query.kind == ListKind.INTERACTION:
            matches.append(and_(*(col(Interaction.id).in_(ids) for ids in chats)))
        else:
            own = record_search.record_ids_with_words(dialect, words)
            matches.append(
                and_(
                    *(
                        or_(col(SupportRecord.id).in_(record_ids), col(SupportRecord.interaction_id).in_(chat_ids))
                        for record_ids, chat_ids in zip(own, chats)
                    )
                )
            )
    return or_(*matches)


def _queue_rank(session: Session, source: Source) -> ColumnElement[int] | None:
    """The queue's place in the queues sorted by name: ordering by it needs no join,
    so an agent's list sorted by queue reads only their chats, not every chat joined to its queue."""
    ranks: dict[int, int] = {
        queue_id: rank
        for rank, queue_id in enumerate(
            session.exec(select(non_null(Queue.id)).order_by(col(Queue.name), col(Queue.id)))
        )
    }
    return case(ranks, value=source.queue_id) if ranks else None


def _sort_key(
    dialect: str, query: ListQuery, source: Source, queue_rank: ColumnElement[int] | None
) -> SQLColumnExpression | None:
    """What the list sorts by before the id; None for the number (made from the id)."""
    if query.sort == SortColumn.NUMBER:
        return None
    return {
        SortColumn.CUSTOMER: source.customer_name,
        SortColumn.QUEUE: queue_rank if queue_rank is not None else source.queue_name,
        SortColumn.AGENT: source.agent_name,
        SortColumn.STATE: source.state,
        SortColumn.OPENED: source.opened,
        SortColumn.CLOSED: source.closed,
        SortColumn.DURATION: _duration(dialect, source.opened, source.closed),
        SortColumn.RATING: source.rating,
    }[query.sort]


def _order(dialect: str, query: ListQuery, source: Source, key: SQLColumnExpression | None) -> list[ColumnElement]:
    """The sort key, empty values last either way, then the id so equal values
    keep one order across pages."""
    tie_breaker = source.id.desc() if query.descending else source.id.asc()
    if key is None:
        return [tie_breaker]
    ordered = key.desc() if query.descending else key.asc()
    # SQLite puts NULLs first going up, PostgreSQL first going down; asked only then
    # and only of a column that has them, so the other cases can still walk an index.
    if query.sort not in source.never_empty and (dialect == "sqlite") != query.descending:
        ordered = ordered.nulls_last()
    return [ordered, tie_breaker]


def _export_chunk(session: Session, plan: _Plan, last: tuple | None) -> tuple[list[ListRow], tuple | None]:
    """The next ``EXPORT_CHUNK`` rows after ``last`` (the id and sort key of the row
    before), and this chunk's last (None when no rows follow). Found as ids first,
    as a page is: an order no index walks then sorts narrow rows, not joined ones."""
    raw_key = type_coerce(plan.key, NullType()) if plan.key is not None else None  # compared as the database stores it
    statement = plan.ids.add_columns((raw_key if raw_key is not None else null()).label("sort_key"))
    if last is not None:
        statement = statement.where(_after(plan, raw_key, *last))
    found = session.execute(statement.order_by(*plan.order).limit(EXPORT_CHUNK)).all()
    by_id = (
        {
            values[0]: values[1:]
            for values in session.execute(plan.rows.where(plan.id.in_([row_id for row_id, _key in found])))
        }
        if found
        else {}
    )
    rows = [list_row(plan.kind, by_id[row_id]) for row_id, _key in found]
    return rows, (tuple(found[-1]) if len(found) == EXPORT_CHUNK else None)


def _after(plan: _Plan, key: SQLColumnExpression | None, last_id: int, last_key) -> ColumnElement[bool]:
    """The rows that come after (``last_key``, ``last_id``) in the plan's order, empty keys last."""
    beyond = operator.lt if plan.descending else operator.gt
    if key is None:
        return beyond(plan.id, last_id)
    if last_key is None:
        return and_(key.is_(None), beyond(plan.id, last_id))
    after = beyond(tuple_(key, plan.id), tuple_(last_key, last_id))
    return or_(after, key.is_(None)) if plan.key_may_be_empty else after


def _duration(
    dialect: str, start: SQLColumnExpression[datetime], end: SQLColumnExpression[datetime | None]
) -> ColumnElement:
    """Orders as the duration does; written as the expression index of migration 0011."""
    if dialect == "sqlite":
        return func.julianday(end) - func.julianday(start)
    return end - start


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
