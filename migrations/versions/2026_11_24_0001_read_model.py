"""read model

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 09:39:56.692818
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    op.create_table('audits',
    sa.Column('audit_id', sa.String(length=160), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('agency_id', sa.String(length=64), nullable=False),
    sa.Column('rule', sa.String(length=8), nullable=False),
    sa.Column('trigger', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('audit_id', name=op.f('pk_audits'))
    )
    with op.batch_alter_table('audits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audits_case_id'), ['case_id'], unique=False)

    op.create_table('calendar_closures',
    sa.Column('jurisdiction', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('jurisdiction', 'day', name=op.f('pk_calendar_closures'))
    )
    op.create_table('cases',
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('agency_id', sa.String(length=64), nullable=False),
    sa.Column('jurisdiction', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('workflow_id', sa.String(length=128), nullable=False),
    sa.Column('contract_start', sa.Date(), nullable=False),
    sa.Column('contract_end', sa.Date(), nullable=False),
    sa.Column('order_expiry', sa.Date(), nullable=False),
    sa.Column('next_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_deadline_kind', sa.String(length=32), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('audit_open', sa.Boolean(), nullable=False),
    sa.Column('terms_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_cases'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_agency_deadline', ['agency_id', 'next_deadline', 'case_id'], unique=False)
        batch_op.create_index('ix_cases_audit_open', ['audit_open'], unique=False)
        batch_op.create_index('ix_cases_deadline', ['next_deadline', 'case_id'], unique=False)
        batch_op.create_index('ix_cases_failures', ['consecutive_failures'], unique=False)
        batch_op.create_index('ix_cases_overdue', ['overdue'], unique=False)
        batch_op.create_index('ix_cases_status_deadline', ['status', 'next_deadline', 'case_id'], unique=False)

    op.create_table('notifications',
    sa.Column('notification_key', sa.String(length=200), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('agency_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('rule', sa.String(length=8), nullable=False),
    sa.Column('recipient', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('notification_key', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_notifications_created', ['created_at'], unique=False)

    op.create_table('periods',
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('period_index', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('follow_up_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalation_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('report_id', sa.String(length=128), nullable=True),
    sa.Column('report_received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('assessment', sa.String(length=32), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('case_id', 'period_index', name=op.f('pk_periods'))
    )
    op.create_table('tasks',
    sa.Column('task_id', sa.String(length=160), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('agency_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('rule', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('assignee_role', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('task_id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_tasks_status_due', ['status', 'due_at'], unique=False)

    op.create_table('timeline_events',
    sa.Column('event_key', sa.String(length=240), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('agency_id', sa.String(length=64), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('rule', sa.String(length=8), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('event_key', name=op.f('pk_timeline_events'))
    )
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.create_index('ix_timeline_case_time', ['case_id', 'occurred_at'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.drop_index('ix_timeline_case_time')

    op.drop_table('timeline_events')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_status_due')
        batch_op.drop_index(batch_op.f('ix_tasks_case_id'))
        batch_op.drop_index(batch_op.f('ix_tasks_agency_id'))

    op.drop_table('tasks')
    op.drop_table('periods')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_created')
        batch_op.drop_index(batch_op.f('ix_notifications_case_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_agency_id'))

    op.drop_table('notifications')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_deadline')
        batch_op.drop_index('ix_cases_overdue')
        batch_op.drop_index('ix_cases_failures')
        batch_op.drop_index('ix_cases_deadline')
        batch_op.drop_index('ix_cases_audit_open')
        batch_op.drop_index('ix_cases_agency_deadline')

    op.drop_table('cases')
    op.drop_table('calendar_closures')
    with op.batch_alter_table('audits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audits_case_id'))

    op.drop_table('audits')
    
