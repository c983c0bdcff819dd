"""typing is not stored: it travels as a signal and expires by itself

A typing signal was a committed write on the chat row that storing a message
locks; it is now a notice that is never stored (``services.events.Typing``).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): no batch rebuild, so the
    # full-text triggers of 0011 on this table stay.
    op.drop_column('interaction', 'customer_typing_at')
    op.drop_column('interaction', 'agent_typing_at')


def downgrade() -> None:
    op.add_column('interaction', sa.Column('agent_typing_at', sa.DateTime(), nullable=True))
    op.add_column('interaction', sa.Column('customer_typing_at', sa.DateTime(), nullable=True))
