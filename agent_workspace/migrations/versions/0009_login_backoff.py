"""login backoff: failures counted per (username, address) and per address

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10 11:00:00.000000

The per-username limit let anyone lock an agent out with five wrong guesses.
Failures are now counted per (username, address), with a backoff, and per
address; these indexes serve those two counts. The old per-username index and
the address-only index are replaced by them.
"""

from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_username_at')
        batch_op.drop_index('ix_login_attempt_client_address')
        batch_op.create_index('ix_login_attempt_username_address_at', ['username', 'client_address', 'at'], unique=False)
        batch_op.create_index('ix_login_attempt_address_at', ['client_address', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_address_at')
        batch_op.drop_index('ix_login_attempt_username_address_at')
        batch_op.create_index('ix_login_attempt_client_address', ['client_address'], unique=False)
        batch_op.create_index('ix_login_attempt_username_at', ['username', 'at'], unique=False)
