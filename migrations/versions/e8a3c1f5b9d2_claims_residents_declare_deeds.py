"""claims: residents declare deeds (申领), with photos kept as evidence

Revision ID: e8a3c1f5b9d2
Revises: d5e2b8c4a6f0
Create Date: 2026-12-02 10:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e8a3c1f5b9d2'
down_revision = 'd5e2b8c4a6f0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=64), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=12, scale=1), nullable=True),
    sa.Column('grade', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_claims_decided_by_id_users')),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_claims_entry_id_entries')),
    sa.ForeignKeyConstraint(['holder_id'], ['holders.id'], name=op.f('fk_claims_holder_id_holders')),
    sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_claims_scheme_id_schemes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims'))
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_holder_status', ['holder_id', 'status'], unique=False)
        batch_op.create_index('ix_claims_status', ['status', 'id'], unique=False)
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_evidence_claim_id'), ['claim_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_evidence_claim_id_claims'), 'claims', ['claim_id'], ['id'])


def downgrade():
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_evidence_claim_id_claims'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_evidence_claim_id'))
        batch_op.drop_column('claim_id')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('ix_claims_status')
        batch_op.drop_index('ix_claims_holder_status')
    op.drop_table('claims')
