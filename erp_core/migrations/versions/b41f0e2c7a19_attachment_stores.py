"""attachment bytes in a store: sha256 key, data only for the database store

Revision ID: b41f0e2c7a19
Revises: 3e5a1c07b9d2
Create Date: 2026-12-01 21:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'b41f0e2c7a19'
down_revision = '3e5a1c07b9d2'
branch_labels = None
depends_on = None


def upgrade():
    # rows written before keep their bytes in ``data`` and are read from there
    with op.batch_alter_table('core_attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sha256', sa.String(length=64), nullable=True))
        batch_op.alter_column('data', existing_type=sa.LargeBinary(), nullable=True)
        batch_op.create_index(batch_op.f('ix_core_attachment_sha256'), ['sha256'], unique=False)


def downgrade():
    with op.batch_alter_table('core_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_attachment_sha256'))
        batch_op.alter_column('data', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column('sha256')
