"""record lists: their indexes, and full-text search of conversations

The Interactions / Cases / Incidents lists sort and filter in SQL (indexes
below, one of them on the duration expression) and search the words people
see: message bodies; a chat's question, summary (short description), work
notes and transfer note; a case's short description, description and
resolution notes. On SQLite through FTS5 tables kept in step by triggers
(backfilled here); an update fires them only when one of the searched columns
is named (interaction rows are updated all the time: state, typing). On
PostgreSQL through GIN indexes on ``to_tsvector('simple', …)`` of the same
columns joined by spaces, written exactly as ``services.record_search`` queries.

A later batch migration that rebuilds ``message``, ``interaction`` or
``support_record`` on SQLite drops their triggers: it must create them again
(``_sqlite_fts_triggers``).

Revision ID: 0011
Revises: 0010
"""

from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# (index name, table, columns): mirrored in models.py __table_args__.
PLAIN_INDEXES = (
    ('ix_interaction_agent_requested', 'interaction', ['agent_id', 'requested_at']),
    ('ix_interaction_queue_requested', 'interaction', ['queue_id', 'requested_at']),
    ('ix_interaction_rating', 'interaction', ['rating']),
    ('ix_customer_name', 'customer', ['name']),
    ('ix_support_record_kind_created', 'support_record', ['kind', 'created_at']),
    ('ix_support_record_created_by', 'support_record', ['created_by_id']),
    # The chats an agent wrote in: they keep sight of one they transferred away (record_access).
    ('ix_message_sender_user_interaction', 'message', ['sender_user_id', 'interaction_id']),
)
# Sorting by duration walks an index on the expression ``record_lists`` orders by.
DURATION_INDEX = 'ix_interaction_duration'
DURATION = {
    'sqlite': 'julianday(closed_at) - julianday(requested_at)',
    'postgresql': 'closed_at - requested_at',
}
# SQLite: the FTS5 tables give message ids; this narrow map turns them into chats
# without reading the message rows (halves a common word's search).
MESSAGE_CHAT_INDEX = ('ix_message_id_interaction', 'message', ['id', 'interaction_id'])
# (FTS table or GIN index stem, content table, its text columns): all NOT NULL.
SEARCHED_TEXTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ('message_fts', 'message', ('body',)),
    ('interaction_fts', 'interaction', ('question', 'short_description', 'work_notes', 'transfer_note')),
    ('support_record_fts', 'support_record', ('short_description', 'description', 'resolution_notes')),
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, table, index_columns in PLAIN_INDEXES:
        op.create_index(name, table, index_columns)
    op.execute(f'CREATE INDEX {DURATION_INDEX} ON interaction (({DURATION[dialect]}))')
    if dialect == 'sqlite':
        op.create_index(*MESSAGE_CHAT_INDEX)
        for fts, table, columns in SEARCHED_TEXTS:
            op.execute(
                f"CREATE VIRTUAL TABLE {fts} USING fts5({', '.join(columns)}, content='{table}', content_rowid='id',"
                " tokenize='unicode61 remove_diacritics 2')"
            )
            for statement in _sqlite_fts_triggers(fts, table, columns):
                op.execute(statement)
            op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    else:
        for fts, table, columns in SEARCHED_TEXTS:
            document = " || ' ' || ".join(columns)
            op.execute(f"CREATE INDEX ix_{fts} ON {table} USING gin (to_tsvector('simple', {document}))")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for fts, _table, _columns in SEARCHED_TEXTS:
            for trigger in ('insert', 'delete', 'update'):
                op.execute(f'DROP TRIGGER IF EXISTS {fts}_after_{trigger}')
            op.execute(f'DROP TABLE IF EXISTS {fts}')
        op.drop_index(MESSAGE_CHAT_INDEX[0], table_name=MESSAGE_CHAT_INDEX[1])
    else:
        for fts, _table, _columns in SEARCHED_TEXTS:
            op.execute(f'DROP INDEX IF EXISTS ix_{fts}')
    op.execute(f'DROP INDEX IF EXISTS {DURATION_INDEX}')
    for name, table, _index_columns in reversed(PLAIN_INDEXES):
        op.drop_index(name, table_name=table)


def _sqlite_fts_triggers(fts: str, table: str, columns: tuple[str, ...]) -> list[str]:
    """Keep the external-content FTS table in step with its table; an update only
    when it names one of ``columns`` (``UPDATE OF``), not on every state change."""
    names = ', '.join(columns)
    remove_old = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {', '.join('old.' + c for c in columns)});"
    add_new = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {', '.join('new.' + c for c in columns)});"
    return [
        f"CREATE TRIGGER {fts}_after_insert AFTER INSERT ON {table} BEGIN {add_new} END",
        f"CREATE TRIGGER {fts}_after_delete AFTER DELETE ON {table} BEGIN {remove_old} END",
        f"CREATE TRIGGER {fts}_after_update AFTER UPDATE OF {names} ON {table} BEGIN {remove_old} {add_new} END",
    ]
