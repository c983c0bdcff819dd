"""The Interactions / Cases / Incidents lists: columns, scopes, filters, sorting, paging, export."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from agent_workspace.models import CloseReason, Interaction, InteractionState, Queue, SupportRecord, User
from agent_workspace.services import record_lists
from agent_workspace.services.errors import ValidationError
from agent_workspace.services.record_lists import (
    ListKind,
    ListQuery,
    ListRow,
    Scope,
    SortColumn,
    export_chunks,
    list_records,
)
from tests.factories import make_customer, make_user
from tests.services.helpers import make_agent
from tests.services.record_list_helpers import agent_of, chat, supervisor_of, support_record


def day(d: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, 1, d, hour, minute, second, tzinfo=UTC)


@dataclass
class World:
    general: Queue
    billing: Queue
    ann: User  # General
    bob: User  # Billing
    cat: User  # General
    sue: User  # supervisor, in no queue
    chats: dict[str, Interaction]
    records: dict[str, SupportRecord]

    def numbers(self, *names: str) -> list[str]:
        return [(self.chats.get(name) or self.records[name]).number for name in names]


@pytest.fixture
def world(session: Session, queue, other_queue) -> World:
    """Seven chats, three cases and three incidents with every list column set, some equal, some empty."""
    ann = make_agent(session, "ann", queues=[queue])
    bob = make_agent(session, "bob", queues=[other_queue])
    cat = make_agent(session, "cat", queues=[queue])
    sue = make_user(session, "sue", roles="supervisor")
    ada = make_customer(session, "Ada Lovelace", "ada@example.com")

    def person(name: str):
        return make_customer(session, name, f"{name.split()[0].lower()}@example.org")

    done, left = InteractionState.CLOSED_COMPLETE, InteractionState.CLOSED_ABANDONED
    chats = {
        "A": chat(
            session,
            queue=queue,
            agent=ann,
            customer=ada,
            state=done,
            requested_at=day(1, 9),
            closed_at=day(1, 9, 10),
            rating=5,
        ),
        "B": chat(
            session,
            queue=queue,
            agent=cat,
            customer=person("Boole George"),
            state=left,
            requested_at=day(2, 9),
            closed_at=day(2, 9, 1),
        ),
        "C": chat(
            session,
            queue=other_queue,
            agent=bob,
            customer=person("Curie Marie"),
            state=done,
            requested_at=day(3),
            closed_at=day(3, 0, 20),
            rating=3,
        ),
        "D": chat(
            session,
            queue=queue,
            customer=person("Darwin Charles"),
            state=InteractionState.QUEUED,
            requested_at=day(3, 23, 59, 59),
        ),
        "E": chat(
            session,
            queue=other_queue,
            agent=ann,
            customer=person("Euler Leonhard"),
            state=InteractionState.WORK_IN_PROGRESS,
            requested_at=day(4),
        ),
        "F": chat(
            session,
            queue=queue,
            agent=ann,
            customer=ada,
            state=done,
            requested_at=day(5, 9),
            closed_at=day(5, 9, 10),
            rating=5,
        ),
        "G": chat(
            session,
            queue=other_queue,
            customer=person("Gauss Carl"),
            state=InteractionState.OFFERED,
            requested_at=day(5, 9, 0, 10),
        ),
    }
    records = {
        "case_a": support_record(
            session,
            interaction=chats["A"],
            created_by=ann,
            state="resolved",
            created_at=day(1, 10),
            updated_at=day(2, 10),
        ),
        "case_left": support_record(
            session, queue=other_queue, short_description="Call me back", created_at=day(2, 11), updated_at=day(2, 11)
        ),
        "inc_c": support_record(
            session,
            kind="incident",
            interaction=chats["C"],
            created_by=bob,
            state="in_progress",
            created_at=day(3, 1),
            updated_at=day(3, 2),
        ),
        "inc_e": support_record(
            session,
            kind="incident",
            interaction=chats["E"],
            created_by=bob,
            state="closed",
            created_at=day(4, 1),
            updated_at=day(4, 3),
        ),
        "case_c": support_record(
            session, interaction=chats["C"], created_by=bob, state="closed", created_at=day(3, 2), updated_at=day(3, 5)
        ),
        "inc_a": support_record(
            session,
            kind="incident",
            interaction=chats["A"],
            created_by=ann,
            state="resolved",
            created_at=day(1, 11),
            updated_at=day(1, 12),
        ),
    }
    return World(queue, other_queue, ann, bob, cat, sue, chats, records)


def numbers_of(session: Session, viewer, **query) -> list[str]:
    """Every matching number, oldest first."""
    page = list_records(session, viewer, ListQuery(sort=SortColumn.NUMBER, descending=False, page_size=100, **query))
    assert page.total == len(page.rows)
    return [row.number for row in page.rows]


# ---------------------------------------------------------------- columns


def test_an_interaction_row_has_every_column(session: Session, world: World) -> None:
    row = list_records(
        session, supervisor_of(world.sue), ListQuery(scope=Scope.ALL, text=world.chats["A"].number)
    ).rows[0]
    assert row == ListRow(
        number=world.chats["A"].number,
        customer="Ada Lovelace",
        customer_email="ada@example.com",
        queue="General",
        agent="Ann",
        state="closed_complete",
        state_label="Closed complete",
        opened=day(1, 9),
        closed=day(1, 9, 10),
        duration_seconds=600,
        rating=5,
        summary="My invoice shows the wrong amount.",
    )


def test_an_open_chat_has_no_close_duration_or_agent_yet(session: Session, world: World) -> None:
    row = list_records(
        session, supervisor_of(world.sue), ListQuery(scope=Scope.ALL, text=world.chats["D"].number)
    ).rows[0]
    assert (row.state_label, row.closed, row.duration_seconds, row.rating, row.agent) == (
        "Queued",
        None,
        None,
        None,
        "",
    )


def test_state_labels_say_the_state_in_words(session: Session, world: World) -> None:
    page = list_records(session, supervisor_of(world.sue), ListQuery(scope=Scope.ALL, page_size=100))
    assert {row.state_label for row in page.rows} == {
        "Closed complete",
        "Closed abandoned",
        "Work in progress",
        "Queued",
        "Offered",
    }


def test_a_case_row_takes_its_queue_customer_and_rating_from_its_chat(session: Session, world: World) -> None:
    rows = list_records(
        session,
        supervisor_of(world.sue),
        ListQuery(kind=ListKind.CASE, scope=Scope.ALL, sort=SortColumn.NUMBER, descending=False),
    ).rows
    from_chat, left_message, _case_c = rows
    assert from_chat == ListRow(
        number=world.records["case_a"].number,
        customer="Ada Lovelace",
        customer_email="ada@example.com",
        queue="General",
        agent="Ann",
        state="resolved",
        state_label="Resolved",
        opened=day(1, 10),
        closed=day(2, 10),
        duration_seconds=86400,
        rating=5,
        summary="Refund the double charge",
    )
    assert (
        left_message.queue,
        left_message.customer,
        left_message.agent,
        left_message.closed,
        left_message.state_label,
    ) == ("Billing", "", "", None, "New")


def test_incidents_and_cases_are_separate_lists(session: Session, world: World) -> None:
    sue = supervisor_of(world.sue)
    assert numbers_of(session, sue, kind=ListKind.INCIDENT, scope=Scope.ALL) == world.numbers("inc_c", "inc_e", "inc_a")
    assert numbers_of(session, sue, kind=ListKind.CASE, scope=Scope.ALL) == world.numbers(
        "case_a", "case_left", "case_c"
    )
    closed = list_records(session, sue, ListQuery(kind=ListKind.INCIDENT, scope=Scope.ALL, state="closed")).rows
    assert [(row.state_label, row.duration_seconds) for row in closed] == [("Closed", 7200)]


# ---------------------------------------------------------------- scopes


def test_mine_is_the_chats_i_handled(session: Session, world: World) -> None:
    assert numbers_of(session, agent_of(world.ann), scope=Scope.MINE) == world.numbers("A", "E", "F")


def test_my_queues_adds_the_chats_of_my_queues(session: Session, world: World) -> None:
    assert numbers_of(session, agent_of(world.ann), scope=Scope.MY_QUEUES) == world.numbers("A", "B", "D", "E", "F")
    assert numbers_of(session, agent_of(world.bob), scope=Scope.MY_QUEUES) == world.numbers("C", "E", "G")


def test_all_is_for_supervisors_an_agent_asking_gets_their_queues(session: Session, world: World) -> None:
    assert numbers_of(session, supervisor_of(world.sue), scope=Scope.ALL) == world.numbers(*"ABCDEFG")
    assert numbers_of(session, agent_of(world.ann), scope=Scope.ALL) == world.numbers("A", "B", "D", "E", "F")


def test_records_mine_are_the_ones_i_created_or_from_my_chats(session: Session, world: World) -> None:
    ann, bob = agent_of(world.ann), agent_of(world.bob)
    assert numbers_of(session, ann, kind=ListKind.CASE, scope=Scope.MINE) == world.numbers("case_a")
    assert numbers_of(session, ann, kind=ListKind.INCIDENT, scope=Scope.MINE) == world.numbers(
        "inc_e", "inc_a"
    )  # bob created inc_e from her chat
    assert numbers_of(session, bob, kind=ListKind.CASE, scope=Scope.MINE) == world.numbers("case_c")
    assert numbers_of(session, bob, kind=ListKind.INCIDENT, scope=Scope.MINE) == world.numbers("inc_c", "inc_e")


def test_records_of_my_queues_go_by_the_records_queue_else_its_chats(session: Session, world: World) -> None:
    ann, bob, cat = agent_of(world.ann), agent_of(world.bob), agent_of(world.cat)
    assert numbers_of(session, cat, kind=ListKind.CASE) == world.numbers("case_a")  # General, through chat A
    assert numbers_of(session, bob, kind=ListKind.CASE) == world.numbers(
        "case_left", "case_c"
    )  # Billing: no chat / chat C
    assert numbers_of(session, cat, kind=ListKind.INCIDENT) == world.numbers("inc_a")
    assert numbers_of(session, ann, kind=ListKind.INCIDENT) == world.numbers("inc_e", "inc_a")


def test_an_agent_of_another_queue_guessing_numbers_gets_nothing(session: Session, world: World) -> None:
    bob = agent_of(world.bob)
    for scope in Scope:
        assert numbers_of(session, bob, scope=scope, text=world.chats["A"].number) == []
        assert numbers_of(session, bob, scope=scope, queue_id=world.general.id) == []
        assert numbers_of(session, bob, scope=scope, kind=ListKind.CASE, text=world.records["case_a"].number) == []
    assert numbers_of(session, bob, text=world.chats["C"].number) == world.numbers("C")


# ---------------------------------------------------------------- filters


def test_filter_by_state(session: Session, world: World) -> None:
    sue = supervisor_of(world.sue)
    assert numbers_of(session, sue, scope=Scope.ALL, state=InteractionState.CLOSED_COMPLETE) == world.numbers(
        "A", "C", "F"
    )
    assert numbers_of(session, sue, scope=Scope.ALL, kind=ListKind.CASE, state="resolved") == world.numbers("case_a")


def test_filter_by_queue_and_agent(session: Session, world: World) -> None:
    sue = supervisor_of(world.sue)
    assert numbers_of(session, sue, scope=Scope.ALL, queue_id=world.billing.id) == world.numbers("C", "E", "G")
    assert numbers_of(session, sue, scope=Scope.ALL, agent_id=world.ann.id) == world.numbers("A", "E", "F")
    assert numbers_of(session, sue, scope=Scope.ALL, queue_id=world.billing.id, agent_id=world.ann.id) == world.numbers(
        "E"
    )
    assert numbers_of(session, sue, scope=Scope.ALL, kind=ListKind.CASE, queue_id=world.general.id) == world.numbers(
        "case_a"
    )
    assert numbers_of(session, sue, scope=Scope.ALL, kind=ListKind.INCIDENT, agent_id=world.bob.id) == world.numbers(
        "inc_c", "inc_e"
    )


def test_the_date_range_includes_both_days_whole(session: Session, world: World) -> None:
    sue = supervisor_of(world.sue)
    third = date(2025, 1, 3)
    assert numbers_of(session, sue, scope=Scope.ALL, date_from=third, date_to=third) == world.numbers("C", "D")
    assert numbers_of(session, sue, scope=Scope.ALL, date_from=date(2025, 1, 4)) == world.numbers("E", "F", "G")
    assert numbers_of(session, sue, scope=Scope.ALL, date_to=date(2025, 1, 2)) == world.numbers("A", "B")
    assert numbers_of(
        session, sue, scope=Scope.ALL, kind=ListKind.INCIDENT, date_from=third, date_to=third
    ) == world.numbers("inc_c")


# ---------------------------------------------------------------- sorting


def _key(row: ListRow, column: SortColumn):
    """The value a column sorts by, None when empty (it goes last either way)."""
    value = {
        SortColumn.NUMBER: row.number,
        SortColumn.CUSTOMER: row.customer,
        SortColumn.QUEUE: row.queue,
        SortColumn.AGENT: row.agent,
        SortColumn.STATE: row.state,
        SortColumn.OPENED: row.opened,
        SortColumn.CLOSED: row.closed,
        SortColumn.DURATION: row.duration_seconds,
        SortColumn.RATING: row.rating,
    }[column]
    return None if value == "" else value


@pytest.mark.parametrize("kind", [ListKind.INTERACTION, ListKind.INCIDENT, ListKind.CASE])
@pytest.mark.parametrize("column", list(SortColumn))
def test_sort_by_any_column_both_ways_empty_last_ties_by_number(
    session: Session, world: World, column: SortColumn, kind: ListKind
) -> None:
    sue = supervisor_of(world.sue)
    orders = {}
    for descending in (False, True):
        rows = list_records(
            session, sue, ListQuery(kind=kind, scope=Scope.ALL, sort=column, descending=descending)
        ).rows
        keyed = [(_key(row, column), row.number) for row in rows]
        filled = [pair for pair in keyed if pair[0] is not None]
        empty = [pair for pair in keyed if pair[0] is None]
        assert keyed == filled + empty
        assert filled == sorted(filled, reverse=descending)
        assert empty == sorted(empty, reverse=descending)
        orders[descending] = [row.number for row in rows]
    assert orders[False] != orders[True]


def test_equal_values_keep_one_order_across_pages(session: Session, world: World) -> None:
    sue = supervisor_of(world.sue)
    a, f = world.numbers("A", "F")  # same customer, rating and duration
    for column in (SortColumn.CUSTOMER, SortColumn.RATING, SortColumn.DURATION):
        up = [
            row.number
            for row in list_records(session, sue, ListQuery(scope=Scope.ALL, sort=column, descending=False)).rows
        ]
        down = [
            row.number
            for row in list_records(session, sue, ListQuery(scope=Scope.ALL, sort=column, descending=True)).rows
        ]
        assert up.index(a) < up.index(f) and down.index(f) < down.index(a)


# ---------------------------------------------------------------- paging


def test_pages_split_the_rows_and_count_them_all(session: Session, world: World) -> None:
    sue = supervisor_of(world.sue)
    pages = [
        list_records(session, sue, ListQuery(scope=Scope.ALL, sort=SortColumn.OPENED, page=n, page_size=3))
        for n in (1, 2, 3, 4)
    ]
    assert [len(page.rows) for page in pages] == [3, 3, 1, 0]
    assert {page.total for page in pages} == {7}
    assert [row.number for page in pages for row in page.rows] == world.numbers(*"GFEDCBA")
    assert (pages[1].page, pages[1].page_size) == (2, 3)


def test_the_total_counts_the_filtered_rows(session: Session, world: World) -> None:
    page = list_records(session, agent_of(world.ann), ListQuery(page_size=2, state=InteractionState.CLOSED_COMPLETE))
    assert (page.total, len(page.rows)) == (2, 2)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"page_size": 101}, "between 1 and 100"),
        ({"page_size": 0}, "between 1 and 100"),
        ({"page": 0}, "numbered from 1"),
        ({"page": 2**62 // 25}, "numbered from 1 to 1,000,000"),  # an OFFSET past SQL's 64 bits
        ({"date_from": date(2025, 1, 2), "date_to": date(2025, 1, 1)}, "must not be after"),
        ({"state": "deleted"}, "Unknown state"),
        ({"kind": ListKind.CASE, "state": InteractionState.QUEUED}, "Unknown state"),
        ({"sort": "password_hash"}, "Unknown list option"),
        ({"text": "x" * 201}, "at most 200"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(session: Session, world: World, changes: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        list_records(session, supervisor_of(world.sue), ListQuery(**changes))
    if "page" not in changes:  # an export has no pages
        with pytest.raises(ValidationError, match=message):
            next(export_chunks(lambda: nullcontext(session), supervisor_of(world.sue), ListQuery(**changes)))


# ---------------------------------------------------------------- export


def exported(session: Session, viewer, query: ListQuery) -> list[ListRow]:
    return [row for chunk in export_chunks(lambda: nullcontext(session), viewer, query) for row in chunk]


@pytest.mark.parametrize("kind", [ListKind.INTERACTION, ListKind.CASE])
@pytest.mark.parametrize("column", list(SortColumn))
def test_export_over_many_chunks_has_the_rows_of_the_pages_in_their_order(
    session: Session, world: World, monkeypatch, column, kind
) -> None:
    """Chunks of two continue after the last row's sort key and id: ties (A and F) and
    empty values (ratings, closes, agents) neither skipped nor repeated."""
    monkeypatch.setattr(record_lists, "EXPORT_CHUNK", 2)
    sue = supervisor_of(world.sue)
    for descending in (False, True):
        query = ListQuery(kind=kind, scope=Scope.ALL, sort=column, descending=descending, page_size=2)
        paged = [row for n in range(1, 5) for row in list_records(session, sue, replace(query, page=n)).rows]
        assert exported(session, sue, replace(query, page=3)) == paged  # the page is ignored
        assert len(paged) == (7 if kind == ListKind.INTERACTION else 3)


def test_each_chunk_is_read_in_a_session_of_its_own(session: Session, world: World, monkeypatch) -> None:
    monkeypatch.setattr(record_lists, "EXPORT_CHUNK", 3)
    opened = []

    def open_session():
        opened.append(1)
        return nullcontext(session)

    chunks = [len(chunk) for chunk in export_chunks(open_session, supervisor_of(world.sue), ListQuery(scope=Scope.ALL))]
    assert (chunks, len(opened)) == ([3, 3, 1], 3)


def test_export_applies_the_filters_and_the_viewers_scope(session: Session, world: World) -> None:
    billing = ListQuery(scope=Scope.ALL, queue_id=world.billing.id, sort=SortColumn.NUMBER, descending=False)
    assert [row.number for row in exported(session, supervisor_of(world.sue), billing)] == world.numbers("C", "E", "G")
    assert [row.number for row in exported(session, agent_of(world.ann), billing)] == world.numbers("E")
    cases = ListQuery(kind=ListKind.CASE, scope=Scope.ALL)
    assert [row.number for row in exported(session, agent_of(world.bob), cases)] == world.numbers("case_c", "case_left")


def test_a_chat_closed_by_closing_its_tab_reads_closed_not_saved(session: Session, world: World) -> None:
    item = world.chats["B"]
    item.close_reason = CloseReason.TAB_CLOSED
    session.add(item)
    session.commit()
    sue = supervisor_of(world.sue)
    labels = {row.number: row.state_label for row in list_records(session, sue, ListQuery(scope=Scope.ALL)).rows}
    assert (labels[item.number], labels[world.chats["A"].number]) == ("Closed, not saved", "Closed complete")
    assert {row.number: row.state_label for row in exported(session, sue, ListQuery(scope=Scope.ALL))} == labels
