"""holder_years: the year's posted entries, deductions and deducted points (participation)

Revision ID: f13b00000002
Revises: f13b00000001
Create Date: 2026-12-02 14:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f13b00000002'
down_revision = 'f13b00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('holder_years', schema=None) as batch_op:
        for name, type_ in (('entries', sa.Integer()), ('deductions', sa.Integer()),
                            ('deducted', sa.BigInteger())):
            batch_op.add_column(sa.Column(name, type_, nullable=False, server_default='0'))
    # The figures of the entries posted before: points in tenths, a deduction's as a positive.
    if op.get_bind().dialect.name == 'sqlite':
        year = "CAST(strftime('%Y', e.occurred_on) AS INTEGER)"
    else:
        year = "CAST(EXTRACT(YEAR FROM e.occurred_on) AS INTEGER)"
    mine = ("FROM entries e WHERE e.scheme_id = holder_years.scheme_id "
            "AND e.holder_id = holder_years.holder_id AND e.status = 'posted' "
            f"AND {year} = holder_years.year")
    op.execute(f"UPDATE holder_years SET entries = (SELECT count(*) {mine}), "
               f"deductions = (SELECT count(*) {mine} AND e.points < 0), "
               f"deducted = (SELECT coalesce(sum(-e.points), 0) {mine} AND e.points < 0)")


def downgrade():
    with op.batch_alter_table('holder_years', schema=None) as batch_op:
        batch_op.drop_column('deducted')
        batch_op.drop_column('deductions')
        batch_op.drop_column('entries')
