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
    # A plain ADD COLUMN: a batch rebuild on SQLite would trip over the
    # foreign keys pointing at the queue table.
    op.add_column('queue', sa.Column('public', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    op.drop_column('queue', 'public')  # plain DROP COLUMN (SQLite 3.35+), no rebuild either
