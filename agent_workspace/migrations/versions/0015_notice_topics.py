"""notice topics: a notice about the agent's presence goes when they are Available again

"You missed an offer; you are Away" stayed after the agent set Available, and
each missed offer added another copy. Such a notice now names its topic
(``agent_notice.topic``): setting Available retires it, and an unseen notice of
the same topic and text is not added twice. Notices written before have none.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('agent_notice', sa.Column('topic', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('agent_notice') as batch:
        batch.drop_column('topic')
