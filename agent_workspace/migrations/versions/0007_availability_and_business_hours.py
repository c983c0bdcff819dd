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
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('queue', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weekly_hours', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('time_zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default='UTC'))
        batch_op.add_column(sa.Column('closures', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('closed_message', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False, server_default=''))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('after_hours', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('support_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default='chat'))
        batch_op.create_index(batch_op.f('ix_support_record_queue_id'), ['queue_id'], unique=False)
        batch_op.create_foreign_key('fk_support_record_queue_id', 'queue', ['queue_id'], ['id'])
    with op.batch_alter_table('outgoing_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outgoing_email_record_id'), ['record_id'], unique=False)
        batch_op.create_foreign_key('fk_outgoing_email_record_id', 'support_record', ['record_id'], ['id'])

    offer_rejection = sa.table('offer_rejection', sa.column('reason', sa.String))
    op.execute(offer_rejection.delete().where(offer_rejection.c.reason == 'Offer timed out'))


def downgrade() -> None:
    with op.batch_alter_table('outgoing_email', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outgoing_email_record_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outgoing_email_record_id'))
        batch_op.drop_column('record_id')
    with op.batch_alter_table('support_record', schema=None) as batch_op:
        batch_op.drop_constraint('fk_support_record_queue_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_support_record_queue_id'))
        batch_op.drop_column('source')
        batch_op.drop_column('queue_id')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('after_hours')
    with op.batch_alter_table('queue', schema=None) as batch_op:
        batch_op.drop_column('closed_message')
        batch_op.drop_column('closures')
        batch_op.drop_column('time_zone')
        batch_op.drop_column('weekly_hours')
