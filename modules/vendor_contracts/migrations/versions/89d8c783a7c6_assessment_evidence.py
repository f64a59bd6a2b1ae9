"""assessment evidence: template items take an evidence key; findings keep their source, refs and adjustment

Revision ID: 89d8c783a7c6
Revises: 348f2c58da68
Create Date: 2026-12-01 13:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '89d8c783a7c6'
down_revision = '348f2c58da68'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('vendor_contracts_template_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence', sa.String(length=60), nullable=True))
    with op.batch_alter_table('vendor_contracts_finding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('refs', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('prefilled_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('adjust_reason', sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table('vendor_contracts_finding', schema=None) as batch_op:
        batch_op.drop_column('adjust_reason')
        batch_op.drop_column('prefilled_count')
        batch_op.drop_column('refs')
        batch_op.drop_column('evidence')
    with op.batch_alter_table('vendor_contracts_template_item', schema=None) as batch_op:
        batch_op.drop_column('evidence')
