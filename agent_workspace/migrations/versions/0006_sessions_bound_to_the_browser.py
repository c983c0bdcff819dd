"""sessions bound to the browser

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 19:25:10.000000

Sessions opened before this revision carry no binding and could never be
checked, so the upgrade ends them: their users sign in again.
"""

from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_agent_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('address_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))

    auth_session = sa.table(
        'auth_session',
        sa.column('token_hash', sa.String),
        sa.column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    op.execute(
        auth_session.update()
        .where(auth_session.c.token_hash.is_not(None), auth_session.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(timezone.utc))
    )


def downgrade() -> None:
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_column('address_hash')
        batch_op.drop_column('user_agent_hash')
