"""a chat remembers the browser it came from (hashed)

Earlier interactions found by the customer's typed email are shown in full
only when they came from the same browser; the browser is a random id kept in
a cookie of the public chat page, stored here as its SHA-256. And tabs are
found by kind: every worker looks for signed-out tabs every second.

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('interaction', schema=None) as batch_op:
        batch_op.add_column(sa.Column('browser_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.create_index('ix_client_connection_kind', 'client_connection', ['kind'])


def downgrade() -> None:
    op.drop_index('ix_client_connection_kind', table_name='client_connection')
    with op.batch_alter_table('interaction', schema=None) as batch_op:
        batch_op.drop_column('browser_hash')
