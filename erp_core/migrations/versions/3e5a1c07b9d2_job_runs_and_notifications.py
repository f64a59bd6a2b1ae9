"""job runs and notifications (issue 21.5)

Revision ID: 3e5a1c07b9d2
Revises: 9c2cb302ead4
Create Date: 2026-12-01 13:10:00
"""
from alembic import op
import sqlalchemy as sa
import erp_core.types


revision = '3e5a1c07b9d2'
down_revision = '9c2cb302ead4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('core_job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('args', sa.JSON(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('enqueued_by', sa.String(length=64), nullable=False),
    sa.Column('enqueued_at', erp_core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', erp_core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', erp_core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('run_key', sa.String(length=160), nullable=True),
    sa.Column('lock_key', sa.String(length=120), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('lock_key'),
    sa.UniqueConstraint('run_key')
    )
    op.create_index(op.f('ix_core_job_run_name'), 'core_job_run', ['name'], unique=False)
    op.create_index(op.f('ix_core_job_run_state'), 'core_job_run', ['state'], unique=False)
    op.create_table('core_notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=True),
    sa.Column('key', sa.String(length=160), nullable=True),
    sa.Column('created', erp_core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', erp_core.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'key', name='uq_core_notification_user_key')
    )
    op.create_index(op.f('ix_core_notification_user_id'), 'core_notification', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_core_notification_user_id'), table_name='core_notification')
    op.drop_table('core_notification')
    op.drop_index(op.f('ix_core_job_run_state'), table_name='core_job_run')
    op.drop_index(op.f('ix_core_job_run_name'), table_name='core_job_run')
    op.drop_table('core_job_run')
