"""notices retire with their question: a transfer request's notice names its chat

A notice asking an agent to answer a transfer stayed after the transfer was
answered, withdrawn or the chat closed, even after a reload; it now names the
chat (``agent_notice.interaction_id``) and ``notices.retire_pending`` marks it
seen when that question is gone. Notices written before stay as they were.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agent_notice') as batch:
        batch.add_column(sa.Column('interaction_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_agent_notice_interaction', 'interaction', ['interaction_id'], ['id'])
        batch.create_index('ix_agent_notice_interaction_id', ['interaction_id'])


def downgrade() -> None:
    with op.batch_alter_table('agent_notice') as batch:
        batch.drop_index('ix_agent_notice_interaction_id')
        batch.drop_constraint('fk_agent_notice_interaction', type_='foreignkey')
        batch.drop_column('interaction_id')
