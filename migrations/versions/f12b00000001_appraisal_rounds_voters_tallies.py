"""appraisals: democratic appraisal rounds (民主测评), who has voted, and the tallies of ballots

Revision ID: f12b00000001
Revises: f11a00000001
Create Date: 2026-12-02 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f12b00000001'
down_revision = 'f11a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('appraisal_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.Column('scheme_version_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_appraisal_rounds_closed_by_id_users')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_appraisal_rounds_opened_by_id_users')),
    sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_appraisal_rounds_scheme_id_schemes')),
    sa.ForeignKeyConstraint(['scheme_version_id'], ['scheme_versions.id'],
                            name=op.f('fk_appraisal_rounds_scheme_version_id_scheme_versions')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_appraisal_rounds_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal_rounds')),
    sa.UniqueConstraint('scheme_id', 'period', 'unit_id', name='uq_appraisal_rounds_scheme_period_unit')
    )
    op.create_table('appraisal_voters',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['holder_id'], ['holders.id'], name=op.f('fk_appraisal_voters_holder_id_holders')),
    sa.ForeignKeyConstraint(['round_id'], ['appraisal_rounds.id'],
                            name=op.f('fk_appraisal_voters_round_id_appraisal_rounds')),
    sa.ForeignKeyConstraint(['subject_id'], ['holders.id'], name=op.f('fk_appraisal_voters_subject_id_holders')),
    sa.PrimaryKeyConstraint('round_id', 'subject_id', 'holder_id', name=op.f('pk_appraisal_voters'))
    )
    op.create_table('appraisal_tallies',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.String(length=64), nullable=False),
    sa.Column('ballots', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['appraisal_rounds.id'],
                            name=op.f('fk_appraisal_tallies_round_id_appraisal_rounds')),
    sa.ForeignKeyConstraint(['subject_id'], ['holders.id'], name=op.f('fk_appraisal_tallies_subject_id_holders')),
    sa.PrimaryKeyConstraint('round_id', 'subject_id', 'rating', name=op.f('pk_appraisal_tallies'))
    )


def downgrade():
    op.drop_table('appraisal_tallies')
    op.drop_table('appraisal_voters')
    op.drop_table('appraisal_rounds')
