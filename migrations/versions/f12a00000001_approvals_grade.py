"""approvals: grade, the quality each approving reviewer names for an hours_graded entry

Revision ID: f12a00000001
Revises: f13b00000002
Create Date: 2026-12-02 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f12a00000001'
down_revision = 'f13b00000002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grade', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.drop_column('grade')
