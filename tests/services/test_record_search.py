"""The lists' search box: numbers, customers, and the words of conversations (FTS5 / PostgreSQL)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session

from agent_workspace.db import make_engine
from agent_workspace.migrations import alembic_config
from agent_workspace.models import Customer, Interaction, Queue, User
from agent_workspace.services import record_search
from agent_workspace.services.record_lists import ListKind, ListQuery, Scope, SortColumn, list_records, number_of
from tests.factories import add_message, make_customer, make_queue, make_user
from tests.scaleout import harness
from tests.services.record_list_helpers import chat, supervisor_of, support_record

HOSTILE = [
    '"',
    '""',
    "AND",
    "OR",
    "NOT",
    "*",
    "a*",
    "NEAR(a b)",
    "body:x",
    "'",
    "\\",
    "(",
    ")",
    "-x",
    "^",
    "%",
    "_",
    "&",
    "|",
    "!",
    ":*",
    "'a':*",
    "a & b",
]


@pytest.fixture
def sue(session: Session) -> User:
    return make_user(session, "sue", roles="supervisor")


def found(session: Session, viewer_user: User, search: str, kind: ListKind = ListKind.INTERACTION) -> list[str]:
    page = list_records(
        session,
        supervisor_of(viewer_user),
        ListQuery(kind=kind, scope=Scope.ALL, text=search, sort=SortColumn.NUMBER, descending=False, page_size=100),
    )
    assert page.total == len(page.rows)
    return [row.number for row in page.rows]


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("IMS0001028", (ListKind.INTERACTION, "IMS0001028")),
        ("ims1028", (ListKind.INTERACTION, "IMS0001028")),
        ("  Ims 0001028 ", (ListKind.INTERACTION, "IMS0001028")),
        ("cs0001001", (ListKind.CASE, "CS0001001")),
        ("CS1001", (ListKind.CASE, "CS0001001")),
        ("INC0001002", (ListKind.INCIDENT, "INC0001002")),
        ("inc000000001002", (ListKind.INCIDENT, "INC0001002")),
        ("IMS12345678", (ListKind.INTERACTION, "IMS12345678")),
    ],
)
def test_a_number_in_any_form_reads_as_its_canonical_number(typed: str, expected) -> None:
    assert number_of(typed) == expected


@pytest.mark.parametrize(
    "typed", ["", "IMS", "1028", "IMS-1028x", "CSV1001", "my IMS1028", "IMS1028 please", "XY0001028"]
)
def test_other_text_is_not_a_number(typed: str) -> None:
    assert number_of(typed) is None


def test_a_number_finds_its_record_typed_any_way(session: Session, queue: Queue, sue: User) -> None:
    item, other = chat(session, queue=queue), chat(session, queue=queue)
    digits = item.number.removeprefix("IMS").lstrip("0")
    for typed in (item.number, item.number.lower(), f"ims{digits}", f" IMS {digits} "):
        assert found(session, sue, typed) == [item.number]
    assert other.number not in found(session, sue, item.number)


def test_a_case_or_incident_number_finds_it_in_its_own_list_only(session: Session, queue: Queue, sue: User) -> None:
    item = chat(session, queue=queue)
    case = support_record(session, interaction=item)
    incident = support_record(session, kind="incident", interaction=item)
    assert found(session, sue, case.number.lower(), ListKind.CASE) == [case.number]
    assert found(session, sue, incident.number, ListKind.INCIDENT) == [incident.number]
    assert found(session, sue, case.number, ListKind.INCIDENT) == []
    assert found(session, sue, case.number) == []


# ---------------------------------------------------------------- customers


def test_a_customer_is_found_by_part_of_their_name_or_email_any_case(session: Session, queue: Queue, sue: User) -> None:
    grace = chat(session, queue=queue, customer=make_customer(session, "Grace Hopper", "g.hopper@navy.example"))
    chat(session, queue=queue, customer=make_customer(session, "Alan Turing", "alan@bletchley.example"))
    for typed in ("grace", "HOPPER", "ce Hop", "g.hopper@navy", "NAVY.EXAMPLE"):
        assert found(session, sue, typed) == [grace.number], typed


def test_like_wildcards_in_a_search_are_plain_characters(session: Session, queue: Queue, sue: User) -> None:
    percent = chat(session, queue=queue, customer=make_customer(session, "100% Real", "real@example.com"))
    chat(session, queue=queue, customer=make_customer(session, "Plain Name", "plain@example.com"))
    assert found(session, sue, "%") == [percent.number]
    assert found(session, sue, "_") == []


def test_a_case_is_found_by_its_customer(session: Session, queue: Queue, sue: User) -> None:
    item = chat(session, queue=queue, customer=make_customer(session, "Grace Hopper", "grace@example.com"))
    case = support_record(session, interaction=item)
    support_record(session, queue=queue)
    assert found(session, sue, "hopper", ListKind.CASE) == [case.number]


# ---------------------------------------------------------------- conversation words


def test_words_are_found_anywhere_in_the_conversation_all_of_them(session: Session, queue: Queue, sue: User) -> None:
    both = chat(session, queue=queue, messages=("The parcel never arrived.", "Agent here: I will refund the shipping."))
    parcel_only = chat(session, queue=queue, messages=("My parcel is late.",))
    assert found(session, sue, "parcel") == [both.number, parcel_only.number]
    assert found(session, sue, "parcel refund") == [both.number]  # in two different messages
    assert found(session, sue, "REFUND Parcel") == [both.number]
    assert found(session, sue, "parcel umbrella") == []


def test_the_customers_question_is_part_of_the_conversation(session: Session, queue: Queue, sue: User) -> None:
    item = chat(session, queue=queue, question="Can I change my delivery address?", messages=("Sure, which one?",))
    assert found(session, sue, "delivery address") == [item.number]


def test_the_last_word_also_matches_as_a_prefix(session: Session, queue: Queue, sue: User) -> None:
    item = chat(session, queue=queue, messages=("Two invoices were sent.",))
    assert found(session, sue, "invoic") == [item.number]
    assert found(session, sue, "sent invoic") == [item.number]
    assert found(session, sue, "invoic sent") == []  # only the last word is a prefix
    assert found(session, sue, "in") == []  # a last word of fewer than three letters is a whole word


def test_diacritics_do_not_matter_either_way(session: Session, queue: Queue, sue: User) -> None:
    accented = chat(session, queue=queue, messages=("Le café était froid à Zürich.",))
    plain = chat(session, queue=queue, messages=("The cafe in Zurich was closed.",))
    assert found(session, sue, "cafe") == [accented.number, plain.number]
    assert found(session, sue, "Café ZÜRICH") == [accented.number, plain.number]
    assert found(session, sue, "etait") == [accented.number]
    decomposed = "cafe\u0301"  # "café" typed as e + combining acute
    assert found(session, sue, decomposed) == [accented.number, plain.number]


@pytest.mark.parametrize("typed", HOSTILE)
def test_fts_syntax_in_a_search_is_text_never_an_error(session: Session, queue: Queue, sue: User, typed: str) -> None:
    customer = make_customer(session, "Quentin Quill", "qq@example.com")
    chat(session, queue=queue, customer=customer, question="zebra crossing", messages=("quiet zebra",))
    assert found(session, sue, typed) == []
    assert found(session, sue, typed, ListKind.CASE) == []


def test_quotes_and_operators_around_words_still_find_them(session: Session, queue: Queue, sue: User) -> None:
    item = chat(session, queue=queue, messages=("Router AND modem both blink red.",))
    assert found(session, sue, '"router" AND modem*') == [item.number]
    assert found(session, sue, "AND modem") == [item.number]  # "and" is a word of the message here
    assert found(session, sue, "router NOT") == []  # not an operator: no word of it starts with "not"


def test_a_message_sent_later_is_found_and_an_edited_one_by_its_new_words(
    session: Session, queue: Queue, sue: User
) -> None:
    item = chat(session, queue=queue)
    assert found(session, sue, "zeppelin") == []
    message = add_message(session, item, "A zeppelin flew by.")
    assert found(session, sue, "zeppelin") == [item.number]
    message.body = "A balloon flew by."
    session.add(message)
    session.commit()
    assert (found(session, sue, "zeppelin"), found(session, sue, "balloon")) == ([], [item.number])


def test_a_case_is_found_by_its_descriptions_or_its_chats_words(session: Session, queue: Queue, sue: User) -> None:
    talked = chat(session, queue=queue, messages=("The printer jams on page two.",))
    from_chat = support_record(session, interaction=talked, short_description="Hardware fault")
    described = support_record(
        session, queue=queue, short_description="Printer toner", description="Customer wants a new cartridge."
    )
    assert found(session, sue, "printer", ListKind.CASE) == [from_chat.number, described.number]
    assert found(session, sue, "printer jams", ListKind.CASE) == [from_chat.number]
    assert found(session, sue, "hardware jams", ListKind.CASE) == [from_chat.number]  # one word each place
    assert found(session, sue, "cartridge", ListKind.CASE) == [described.number]


def _with(session: Session, item: Interaction, **fields) -> Interaction:
    for name, value in fields.items():
        setattr(item, name, value)
    session.add(item)
    session.commit()
    return item


def test_the_words_people_see_summary_work_notes_and_transfer_note_are_searched(
    session: Session, queue: Queue, sue: User
) -> None:
    summary = _with(session, chat(session, queue=queue), short_description="Wobbly tripod")
    noted = _with(session, chat(session, queue=queue), work_notes="Offered a voucher")
    transferred = _with(session, chat(session, queue=queue), transfer_note="Needs a locksmith")
    assert (found(session, sue, "tripod"), found(session, sue, "voucher"), found(session, sue, "locksmith")) == (
        [summary.number],
        [noted.number],
        [transferred.number],
    )
    _with(session, noted, work_notes="Nothing offered")
    assert found(session, sue, "voucher") == []  # the update replaced the old words


def _changes(session: Session) -> int:
    return session.execute(text("SELECT total_changes()")).scalar_one()


def test_only_changes_of_the_searched_columns_touch_the_full_text_index(session: Session, queue: Queue) -> None:
    """Chats are updated all the time (state, typing): the trigger must not run then."""
    trigger = session.execute(
        text("SELECT sql FROM sqlite_master WHERE name = 'interaction_fts_after_update'")
    ).scalar_one()
    assert "AFTER UPDATE OF question, short_description, work_notes, transfer_note ON interaction" in trigger
    item = chat(session, queue=queue)
    before = _changes(session)
    _with(session, item, updated_at=datetime.now(UTC), state="work_in_progress")
    assert _changes(session) - before == 1  # the row alone, no FTS rows
    before = _changes(session)
    _with(session, item, work_notes="Called back")
    assert _changes(session) - before > 1


def test_a_case_is_found_by_its_resolution_notes_and_words_mean_the_same_as_for_chats(
    session: Session, queue: Queue, sue: User
) -> None:
    case = support_record(
        session, queue=queue, short_description="Login trouble", description="Customer cannot sign in."
    )
    case.resolution_notes = "Reset the authenticator app."
    session.add(case)
    session.commit()
    chat(session, queue=queue, messages=("I have a question about my account and the app.",))
    assert found(session, sue, "authenticator", ListKind.CASE) == [case.number]
    assert found(session, sue, "authent", ListKind.CASE) == [case.number]  # the last word as a prefix, as for chats
    assert found(session, sue, "ust", ListKind.CASE) == []  # words, not substrings ("Customer", "trouble")
    assert found(session, sue, "i o u a e") == [] and found(session, sue, "i o u a e", ListKind.CASE) == []


def test_digits_alone_find_the_record_of_that_number_too(session: Session, queue: Queue, sue: User) -> None:
    item = chat(session, queue=queue)
    chat(session, queue=queue)
    case = support_record(session, interaction=item)
    digits = item.number.removeprefix("IMS").lstrip("0")
    for typed in (digits, digits.zfill(7), f" {digits} "):
        assert found(session, sue, typed) == [item.number], typed
    assert found(session, sue, case.number.removeprefix("CS"), ListKind.CASE) == [case.number]


def test_part_of_an_email_in_capitals_or_a_name_with_other_letters_finds_the_customer(
    session: Session, queue: Queue, sue: User
) -> None:
    grace = chat(session, queue=queue, customer=make_customer(session, "Grace", "grace@example.com"))
    jurgen = chat(session, queue=queue, customer=make_customer(session, "Jürgen Groß", "jurgen@example.de"))
    assert found(session, sue, "GRACE@EXAMPLE") == [grace.number]
    assert found(session, sue, "JÜRGEN") == [jurgen.number]
    assert found(session, sue, "gROß") == [jurgen.number]


def test_search_keeps_the_viewers_scope(session: Session, queue: Queue, other_queue: Queue) -> None:
    from tests.services.helpers import make_agent
    from tests.services.record_list_helpers import agent_of

    bob = make_agent(session, "bob", queues=[other_queue])
    theirs = chat(
        session,
        queue=queue,
        customer=make_customer(session, "Grace Hopper", "grace@example.com"),
        messages=("secret plans",),
    )
    for typed in ("secret", "grace", theirs.number):
        assert list_records(session, agent_of(bob), ListQuery(scope=Scope.ALL, text=typed)).total == 0


# ---------------------------------------------------------------- the migration


def _chat_at_0010(url: str) -> None:
    """A chat and a message written before revision 0011 existed (raw SQL: the models are newer)."""
    engine = make_engine(url)
    with engine.begin() as connection:
        queue_id = connection.execute(
            text(
                "INSERT INTO queue (name, description, active, weekly_hours, time_zone, closures, closed_message) VALUES ('Old', '', true, '', 'UTC', '', '') RETURNING id"
            )
        ).scalar_one()
        customer_id = connection.execute(
            text(
                "INSERT INTO customer (name, email, client_address, created_at) VALUES ('Old Timer', 'old@example.com', '', '2024-01-01') RETURNING id"
            )
        ).scalar_one()
        interaction_id = connection.execute(
            text(
                "INSERT INTO interaction (number, public_id, state, queue_id, customer_id, question, short_description, category, priority, work_notes,"
                " requested_at, transfer_note, rating_comment, updated_at) VALUES ('IMS0000001', 'p', 'closed_complete', :q, :c, 'An old question about gizmos',"
                " '', 'inquiry', 4, '', '2024-01-01', '', '', '2024-01-01') RETURNING id"
            ),
            {"q": queue_id, "c": customer_id},
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO message (interaction_id, sender_kind, sender_name, body, client_id, created_at) VALUES (:i, 'customer', 'Old Timer', 'My gadget broke', 'c1', '2024-01-01')"
            ),
            {"i": interaction_id},
        )
    engine.dispose()


def _search_after_upgrade_downgrade_upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "0010")
    _chat_at_0010(url)
    command.upgrade(alembic_config(url), "head")
    command.downgrade(alembic_config(url), "0010")
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            sue = make_user(session, "sue", roles="supervisor")
            assert found(session, sue, "gadget") == ["IMS0000001"]  # backfilled by the migration
            assert found(session, sue, "gizmo") == ["IMS0000001"]  # the question, last word as a prefix
            new = chat(
                session,
                queue=session.get(Queue, 1),
                customer=session.get(Customer, 1),
                messages=("Another gadget widget",),
            )
            assert found(session, sue, "gadget widget") == [new.number]
            assert found(session, sue, "old timer gadget") == []
            _with(session, new, work_notes="Sent a spare sprocket")
            assert found(session, sue, "sprocket") == [new.number]
            case = support_record(
                session, interaction=new, short_description="Sprocket", description="The widget lost a cog."
            )
            assert found(session, sue, "cog", ListKind.CASE) == [case.number]
            assert found(session, sue, "i o u a e", ListKind.CASE) == []
            for typed in HOSTILE:
                found(session, sue, typed)  # text, never an FTS syntax error
    finally:
        engine.dispose()


def test_the_migration_backfills_and_survives_downgrade_and_upgrade_on_sqlite(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    _search_after_upgrade_downgrade_upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        names = set(connection.execute(text("SELECT name FROM sqlite_master")).scalars())
    engine.dispose()
    assert {
        "message_fts",
        "interaction_fts",
        "support_record_fts",
        "message_fts_after_insert",
        "support_record_fts_after_update",
        "ix_interaction_agent_requested",
    } <= names
    command.downgrade(alembic_config(url), "0010")
    engine = make_engine(url)
    with engine.connect() as connection:
        left = set(
            connection.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE name LIKE '%fts%' OR name LIKE 'ix_interaction_agent_requested'"
                )
            ).scalars()
        )
    engine.dispose()
    assert left == set()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A private PostgreSQL database, dropped afterwards; skipped when PostgreSQL is unreachable."""
    problem = harness.pg_problem()
    if problem:
        pytest.skip(problem)
    import psycopg

    name = f"aw_test_records_{secrets.token_hex(4)}"
    with psycopg.connect(harness.PG_ADMIN_DSN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield harness.PG_URL_TEMPLATE.format(db=name)
    finally:
        with psycopg.connect(harness.PG_ADMIN_DSN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_migration_and_the_search_work_on_postgresql(postgres_url: str) -> None:
    _search_after_upgrade_downgrade_upgrade(postgres_url)
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            indexes = set(
                connection.execute(
                    text("SELECT indexname FROM pg_indexes WHERE tablename IN ('message', 'interaction')")
                ).scalars()
            )
            assert {"ix_message_fts", "ix_interaction_fts", "ix_interaction_agent_requested"} <= indexes
            assert "ix_support_record_fts" in set(
                connection.execute(
                    text("SELECT indexname FROM pg_indexes WHERE tablename = 'support_record'")
                ).scalars()
            )
            connection.execute(text("SET enable_seqscan = off"))  # two rows: a scan would win otherwise
            plan = "\n".join(
                connection.execute(
                    text(
                        "EXPLAIN SELECT interaction_id FROM message WHERE to_tsvector('simple', body) @@ plainto_tsquery('simple', 'gadget')"
                    )
                ).scalars()
            )
            assert "ix_message_fts" in plan
            # The queries as record_search writes them use the GIN indexes of the joined texts.
            for statement, index in (
                (record_search.chat_ids_with_words("postgresql", ["gizmo"])[0], "ix_interaction_fts"),
                (record_search.record_ids_with_words("postgresql", ["cog"])[0], "ix_support_record_fts"),
            ):
                compiled = statement.compile(engine, compile_kwargs={"literal_binds": True})
                assert index in "\n".join(connection.execute(text(f"EXPLAIN {compiled}")).scalars())
    finally:
        engine.dispose()


def test_postgresql_lists_sort_and_page_like_sqlite(postgres_url: str) -> None:
    command.upgrade(alembic_config(postgres_url), "head")
    engine = make_engine(postgres_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            sue = make_user(session, "sue", roles="supervisor")
            queue = make_queue(session)
            items = [chat(session, queue=queue, rating=rating) for rating in (3, None, 5)]
            for column in SortColumn:
                for descending in (False, True):
                    page = list_records(
                        session,
                        supervisor_of(sue),
                        ListQuery(scope=Scope.ALL, sort=column, descending=descending, page_size=2),
                    )
                    assert (page.total, len(page.rows)) == (3, 2)
            by_rating = list_records(
                session, supervisor_of(sue), ListQuery(scope=Scope.ALL, sort=SortColumn.RATING, descending=True)
            ).rows
            assert [row.number for row in by_rating] == [
                items[2].number,
                items[0].number,
                items[1].number,
            ]  # empty last
            assert found(session, sue, items[1].number.lower()) == [items[1].number]
    finally:
        engine.dispose()
