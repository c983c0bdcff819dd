"""availability: business hours, after-hours opt-in, messages left, lapses are not rejections

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 02:40:00.000000

Lapsed offers used to be stored as rejections ("Offer timed out"), so a lone
agent who let an offer lapse was never offered that chat again and the
customer waited forever. The upgrade deletes those rows: the chats they
stranded are offered again by the next sweep.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no table rebuild on SQLite, which would trip over the
    # foreign keys pointing at these tables).
    text = sqlmodel.sql.sqltypes.AutoString
    op.add_column('queue', sa.Column('weekly_hours', text(length=500), nullable=False, server_default=''))
    op.add_column('queue', sa.Column('time_zone', text(length=64), nullable=False, server_default='UTC'))
    op.add_column('queue', sa.Column('closures', text(length=2000), nullable=False, server_default=''))
    op.add_column('queue', sa.Column('closed_message', text(length=500), nullable=False, server_default=''))
    op.add_column('user', sa.Column('after_hours', sa.Boolean(), nullable=False, server_default=sa.false()))
    _add_reference('support_record', 'queue_id', 'queue')
    op.add_column('support_record', sa.Column('source', text(length=16), nullable=False, server_default='chat'))
    op.create_index('ix_support_record_queue_id', 'support_record', ['queue_id'])
    _add_reference('outgoing_email', 'record_id', 'support_record')
    op.create_index('ix_outgoing_email_record_id', 'outgoing_email', ['record_id'])
    op.create_index('ix_interaction_queue_state_closed', 'interaction', ['queue_id', 'state', 'closed_at'])

    offer_rejection = sa.table('offer_rejection', sa.column('reason', sa.String))
    op.execute(offer_rejection.delete().where(offer_rejection.c.reason == 'Offer timed out'))


def _add_reference(table: str, column: str, target: str) -> None:
    """A nullable foreign key column. SQLite adds one in place with an inline
    REFERENCES, which Alembic only offers through a table rebuild."""
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES {target} (id)')
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), sa.ForeignKey(f'{target}.id'), nullable=True))


def downgrade() -> None:
    op.drop_index('ix_interaction_queue_state_closed', 'interaction')
    op.drop_index('ix_outgoing_email_record_id', 'outgoing_email')
    op.drop_index('ix_support_record_queue_id', 'support_record')
    for table, column in (
        ('outgoing_email', 'record_id'),
        ('support_record', 'source'),
        ('support_record', 'queue_id'),
        ('user', 'after_hours'),
        ('queue', 'closed_message'),
        ('queue', 'closures'),
        ('queue', 'time_zone'),
        ('queue', 'weekly_hours'),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
