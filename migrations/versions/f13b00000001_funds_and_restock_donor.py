"""funds (公益金) and their movements per unit; a donor on stock movements (donated goods);
an index for counting objections

Revision ID: f13b00000001
Revises: f12b00000001
Create Date: 2026-12-02 13:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f13b00000001'
down_revision = 'f12b00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('funds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('balance >= 0', name=op.f('ck_funds_fund_not_negative')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_funds_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funds')),
    sa.UniqueConstraint('unit_id', name=op.f('uq_funds_unit_id'))
    )
    op.create_table('fund_movements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fund_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_fund_movements_fund_amount_positive')),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'],
                            name=op.f('fk_fund_movements_fund_id_funds')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_fund_movements_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_movements'))
    )
    with op.batch_alter_table('fund_movements', schema=None) as batch_op:
        batch_op.create_index('ix_fund_movements_fund_id', ['fund_id', 'id'], unique=False)
    with op.batch_alter_table('stock_movements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('donor', sa.String(length=200), nullable=True))
    # the participation report counts objections among all of the entries' events
    with op.batch_alter_table('entry_events', schema=None) as batch_op:
        batch_op.create_index('ix_entry_events_action_entry', ['action', 'entry_id'], unique=False)


def downgrade():
    with op.batch_alter_table('entry_events', schema=None) as batch_op:
        batch_op.drop_index('ix_entry_events_action_entry')
    with op.batch_alter_table('stock_movements', schema=None) as batch_op:
        batch_op.drop_column('donor')
    with op.batch_alter_table('fund_movements', schema=None) as batch_op:
        batch_op.drop_index('ix_fund_movements_fund_id')
    op.drop_table('fund_movements')
    op.drop_table('funds')
