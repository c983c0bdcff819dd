"""email outbox: delivery on a background worker, with retries

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 10:00:00.000000

Emails used to be sent inside the agent's request. Now every email is a
queued row that a delivery worker claims, sends and records; these columns
carry its attempts, when it is due again and who holds it. Emails still
queued from before are due at once.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no table rebuild on SQLite, which would trip over the
    # foreign keys pointing at this table).
    text = sqlmodel.sql.sqltypes.AutoString
    op.add_column('outgoing_email', sa.Column('message_id', text(length=250), nullable=False, server_default=''))
    op.add_column('outgoing_email', sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('outgoing_email', sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('outgoing_email', sa.Column('claimed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('outgoing_email', sa.Column('resolves_record', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index('ix_outgoing_email_due', 'outgoing_email', ['status', 'next_attempt_at'])

    outgoing = sa.table(
        'outgoing_email',
        sa.column('status', sa.String),
        sa.column('created_at', sa.DateTime),
        sa.column('next_attempt_at', sa.DateTime),
    )
    op.execute(outgoing.update().where(outgoing.c.status == 'queued').values(next_attempt_at=outgoing.c.created_at))


def downgrade() -> None:
    op.drop_index('ix_outgoing_email_due', 'outgoing_email')
    for column in ('resolves_record', 'claimed_at', 'next_attempt_at', 'attempts', 'message_id'):
        with op.batch_alter_table('outgoing_email') as batch_op:
            batch_op.drop_column(column)
