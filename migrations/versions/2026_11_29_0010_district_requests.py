"""district requests: case transfers, service requests, disputes and co-working
arrangements between districts, and their timelines (DOMAIN T1-T4, issue 14)

Revision ID: 0010
Revises: 0005
Create Date: 2026-11-29 12:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'district_requests',
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('request_id', sa.String(length=160), nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('from_district', sa.String(length=64), nullable=False),
        sa.Column('to_district', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('stage', sa.String(length=32), nullable=True),
        sa.Column('child_in_care', sa.Boolean(), nullable=True),
        sa.Column('workflow_id', sa.String(length=200), nullable=False),
        sa.Column('next_deadline', sa.DateTime(timezone=True), nullable=True),
        sa.Column('next_deadline_kind', sa.String(length=32), nullable=True),
        sa.Column('escalated', sa.Boolean(), nullable=False),
        sa.Column('snapshot', sa.JSON(), nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('kind', 'request_id', name=op.f('pk_district_requests')),
    )
    with op.batch_alter_table('district_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_district_requests_case_id'), ['case_id'],
                              unique=False)
        batch_op.create_index('ix_district_requests_from',
                              ['from_district', 'kind', 'status'], unique=False)
        batch_op.create_index('ix_district_requests_to',
                              ['to_district', 'kind', 'status'], unique=False)
        batch_op.create_index('ix_district_requests_deadline', ['next_deadline'],
                              unique=False)
    op.create_table(
        'district_request_events',
        sa.Column('event_key', sa.String(length=240), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('request_id', sa.String(length=160), nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('event', sa.String(length=48), nullable=False),
        sa.Column('rule', sa.String(length=8), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('event_key', name=op.f('pk_district_request_events')),
    )
    with op.batch_alter_table('district_request_events', schema=None) as batch_op:
        batch_op.create_index('ix_district_request_events_request',
                              ['kind', 'request_id', 'occurred_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('district_request_events', schema=None) as batch_op:
        batch_op.drop_index('ix_district_request_events_request')
    op.drop_table('district_request_events')
    with op.batch_alter_table('district_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_district_requests_deadline')
        batch_op.drop_index('ix_district_requests_to')
        batch_op.drop_index('ix_district_requests_from')
        batch_op.drop_index(batch_op.f('ix_district_requests_case_id'))
    op.drop_table('district_requests')
