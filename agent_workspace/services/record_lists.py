"""Lists of interactions, cases and incidents: filtered, sorted and paged in SQL, and searched.

The workspace's "Interactions", "Cases" and "Incidents" pages and the
supervisor's CSV export read through here; what a viewer may see is
``record_access``'s rule, applied in the query.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import overload

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    SQLColumnExpression,
    and_,
    case,
    false,
    null,
    or_,
    tuple_,
    type_coerce,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import join as sa_join
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlalchemy.types import NullType
from sqlmodel import Session, SQLModel, col, func, select

from agent_workspace.models import (
    CloseReason,
    Customer,
    Interaction,
    InteractionState,
    Queue,
    SupportRecord,
    User,
    non_null,
)
from agent_workspace.services import record_search, records
from agent_workspace.services.errors import ValidationError
from agent_workspace.services.record_access import Viewer, chats_written_in_by, queue_ids_of
from agent_workspace.services.records import FINISHED_STATES


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
EXPORT_CHUNK = 1000  # rows read (in one short session) and written at a time by an export

_NUMBER = re.compile(r"(IMS|CS|INC)\s*(\d{1,15})", re.IGNORECASE)
_DIGITS = re.compile(r"\d{1,15}")
_KIND_OF_PREFIX = {"IMS": ListKind.INTERACTION, "CS": ListKind.CASE, "INC": ListKind.INCIDENT}
_PREFIX_OF_KIND = {kind: prefix for prefix, kind in _KIND_OF_PREFIX.items()}

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
    rows = [_row(query.kind, by_id[row_id]) for row_id in ids]
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


# ---------------------------------------------------------------- validation


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


@dataclass(frozen=True)
class _Join:
    table: type[SQLModel]
    on: ColumnElement[bool]
    outer: bool


@dataclass(frozen=True)
class _Source:
    """One kind of list in SQL: the FROM its conditions need, the tables its names
    come from, and the columns of the rows, the filters, the scope and the sort."""

    base: FromClause  # what the conditions need
    customer_join: _Join
    queue_join: _Join
    agent_join: _Join
    id: SQLColumnExpression[int]
    number: SQLColumnExpression[str | None]
    customer_id: SQLColumnExpression[int | None]
    customer_name: SQLColumnExpression[str | None]  # None: outer-joined, nobody there
    customer_email: SQLColumnExpression[str | None]
    queue_id: SQLColumnExpression[int | None]
    queue_name: SQLColumnExpression[str | None]
    agent_id: SQLColumnExpression[int | None]  # the chat's agent; for a case or incident who created it
    agent_name: SQLColumnExpression[str | None]
    # "mine" when one of them is me: the chat's agent (and a record's creator)
    owners: tuple[SQLColumnExpression[int | None], ...]
    chat_id: SQLColumnExpression[int | None]  # the chat (a record's own chat): "mine" too when I wrote in it
    state: SQLColumnExpression[str]
    close_reason: SQLColumnExpression[str | None]
    opened: SQLColumnExpression[datetime]
    closed: SQLColumnExpression[datetime | None]
    rating: SQLColumnExpression[int | None]
    summary: SQLColumnExpression[str]
    never_empty: frozenset[SortColumn]  # sort columns with no NULLs (no NULLS LAST needed)

    @property
    def columns(self) -> tuple[SQLColumnExpression, ...]:
        """The id, then ``_row``'s columns in its order."""
        return (
            self.id,
            self.number,
            self.customer_name,
            self.customer_email,
            self.queue_name,
            self.agent_name,
            self.state,
            self.close_reason,
            self.opened,
            self.closed,
            self.rating,
            self.summary,
        )

    def joined(self, *joins: _Join) -> FromClause:
        from_ = self.base
        for join in joins:
            from_ = from_.join(join.table, join.on, isouter=join.outer)
        return from_

    def sort_from(self, column: SortColumn) -> FromClause:
        """The FROM of the page's ids: the base and the one table the sort names."""
        needed = {SortColumn.CUSTOMER: self.customer_join, SortColumn.AGENT: self.agent_join}
        return self.joined(needed[column]) if column in needed else self.base


def _interaction_source() -> _Source:
    return _Source(
        base=sa_inspect(Interaction).local_table,
        customer_join=_Join(Customer, col(Customer.id) == col(Interaction.customer_id), outer=False),
        queue_join=_Join(Queue, col(Queue.id) == col(Interaction.queue_id), outer=False),
        agent_join=_Join(User, col(User.id) == col(Interaction.agent_id), outer=True),
        id=non_null(Interaction.id),
        number=col(Interaction.number),
        customer_id=col(Interaction.customer_id),
        customer_name=col(Customer.name),
        customer_email=col(Customer.email),
        queue_id=col(Interaction.queue_id),
        queue_name=col(Queue.name),
        agent_id=col(Interaction.agent_id),
        agent_name=col(User.display_name),
        owners=(col(Interaction.agent_id),),
        chat_id=non_null(Interaction.id),
        state=col(Interaction.state),
        close_reason=col(Interaction.close_reason),
        opened=col(Interaction.requested_at),
        closed=col(Interaction.closed_at),
        rating=col(Interaction.rating),
        summary=case(
            (col(Interaction.short_description) != "", col(Interaction.short_description)),
            else_=func.substr(col(Interaction.question), 1, 160),
        ),
        never_empty=frozenset({SortColumn.CUSTOMER, SortColumn.QUEUE, SortColumn.STATE, SortColumn.OPENED}),
    )


def _record_source() -> _Source:
    chat = aliased(Interaction, name="chat")
    queue_id = func.coalesce(col(SupportRecord.queue_id), col(chat.queue_id))
    return _Source(
        base=sa_join(SupportRecord, chat, col(chat.id) == col(SupportRecord.interaction_id), isouter=True),
        customer_join=_Join(Customer, col(Customer.id) == col(SupportRecord.customer_id), outer=True),
        queue_join=_Join(Queue, col(Queue.id) == queue_id, outer=True),
        agent_join=_Join(User, col(User.id) == col(SupportRecord.created_by_id), outer=True),
        id=non_null(SupportRecord.id),
        number=col(SupportRecord.number),
        customer_id=col(SupportRecord.customer_id),
        customer_name=col(Customer.name),
        customer_email=col(Customer.email),
        queue_id=queue_id,
        queue_name=col(Queue.name),
        agent_id=col(SupportRecord.created_by_id),
        agent_name=col(User.display_name),
        owners=(col(SupportRecord.created_by_id), col(chat.agent_id)),
        chat_id=col(chat.id),
        state=col(SupportRecord.state),
        close_reason=null(),
        opened=col(SupportRecord.created_at),
        closed=case((col(SupportRecord.state).in_(FINISHED_STATES), col(SupportRecord.updated_at))),
        rating=col(chat.rating),
        summary=col(SupportRecord.short_description),
        never_empty=frozenset({SortColumn.STATE, SortColumn.OPENED}),
    )


def _plan(session: Session, viewer: Viewer, query: ListQuery) -> _Plan:
    dialect = session.get_bind().dialect.name
    source = _interaction_source() if query.kind == ListKind.INTERACTION else _record_source()
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


def _scope(session: Session, viewer: Viewer, scope: Scope, source: _Source) -> list[ColumnElement[bool]]:
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


def _filters(query: ListQuery, source: _Source) -> list[ColumnElement[bool]]:
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


def _text_condition(dialect: str, query: ListQuery, source: _Source) -> ColumnElement[bool]:
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
        matches.append(source.number == f"{_PREFIX_OF_KIND[query.kind]}{int(query.text):07d}")
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


def _queue_rank(session: Session, source: _Source) -> ColumnElement[int] | None:
    """The queue's place in the queues sorted by name: ordering by it needs no join,
    so an agent's list sorted by queue reads only their chats (0.5 s → 20 ms at 100k)."""
    ranks: dict[int, int] = {
        queue_id: rank
        for rank, queue_id in enumerate(
            session.exec(select(non_null(Queue.id)).order_by(col(Queue.name), col(Queue.id)))
        )
    }
    return case(ranks, value=source.queue_id) if ranks else None


def _sort_key(
    dialect: str, query: ListQuery, source: _Source, queue_rank: ColumnElement[int] | None
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


def _order(dialect: str, query: ListQuery, source: _Source, key: SQLColumnExpression | None) -> list[ColumnElement]:
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
    rows = [_row(plan.kind, by_id[row_id]) for row_id, _key in found]
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


@overload
def _utc(at: datetime) -> datetime: ...
@overload
def _utc(at: None) -> None: ...
def _utc(at: datetime | None) -> datetime | None:
    """SQLite and PostgreSQL's plain timestamps come back naive: they are UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _row(kind: ListKind, values) -> ListRow:
    number, customer, email, queue, agent, state, close_reason, opened, closed, rating, summary = values
    opened, closed = _utc(opened), _utc(closed)
    return ListRow(
        number=number or "",
        customer=customer or "",
        customer_email=email or "",
        queue=queue or "",
        agent=agent or "",
        state=state,
        state_label=state_label(kind, state, close_reason),
        opened=opened,
        closed=closed,
        duration_seconds=int((closed - opened).total_seconds()) if closed is not None else None,
        rating=rating,
        summary=summary or "",
    )
