"""Each kind of list in SQL: the tables it reads, the columns of its rows,
filters, scope and sort, and how a row of those columns becomes a ``ListRow``.

Interactions are read from the interaction table; cases and incidents from the
support record table with their chat outer-joined. ``record_lists`` builds the
queries over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import overload

from sqlalchemy import ColumnElement, FromClause, SQLColumnExpression, case, null
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import join as sa_join
from sqlalchemy.orm import aliased
from sqlmodel import SQLModel, col, func

from agent_workspace.models import Customer, Interaction, Queue, SupportRecord, User, non_null
from agent_workspace.services.record_list_query import ListKind, ListRow, SortColumn, state_label
from agent_workspace.services.records import FINISHED_STATES


@dataclass(frozen=True)
class _Join:
    table: type[SQLModel]
    on: ColumnElement[bool]
    outer: bool


@dataclass(frozen=True)
class Source:
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
        """The id, then ``list_row``'s columns in its order."""
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


def interaction_source() -> Source:
    return Source(
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


def record_source() -> Source:
    chat = aliased(Interaction, name="chat")
    queue_id = func.coalesce(col(SupportRecord.queue_id), col(chat.queue_id))
    return Source(
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


@overload
def _utc(at: datetime) -> datetime: ...
@overload
def _utc(at: None) -> None: ...
def _utc(at: datetime | None) -> datetime | None:
    """SQLite and PostgreSQL's plain timestamps come back naive: they are UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def list_row(kind: ListKind, values) -> ListRow:
    """The ``ListRow`` of one row of ``Source.columns`` without the id."""
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
