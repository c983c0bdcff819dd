"""queue public: whether a queue is listed on the public chat page and the widget

Issue 20: the public page listed every queue. ``queue.public`` says whether
customers may choose it there; existing queues stay listed (server default true).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('queue') as batch:
        batch.add_column(sa.Column('public', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('queue') as batch:
        batch.drop_column('public')
