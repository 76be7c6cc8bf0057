"""users: links to the holders a user stands back from (回避, conflict of interest)

Revision ID: c3f1a9d2e7b4
Revises: 10ee81b9cd82
Create Date: 2026-12-02 09:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c3f1a9d2e7b4'
down_revision = '10ee81b9cd82'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_user_links_created_by_id_users')),
    sa.ForeignKeyConstraint(['holder_id'], ['holders.id'], name=op.f('fk_user_links_holder_id_holders')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_links_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_links')),
    sa.UniqueConstraint('user_id', 'holder_id', name='uq_user_links_user_holder')
    )
    with op.batch_alter_table('user_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_links_holder_id'), ['holder_id'], unique=False)


def downgrade():
    with op.batch_alter_table('user_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_links_holder_id'))
    op.drop_table('user_links')
