"""access log rows written before a request acts: status_code is empty until it answers
(issue 18)

A request cut off by a crash left no row; now its row is written first (outcome
`started`) and completed with the status when it answers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.alter_column('status_code', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Rows of requests cut off by a crash keep their record, as status 0 (no answer).
    op.execute("UPDATE access_log SET status_code = 0 WHERE status_code IS NULL")
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.alter_column('status_code', existing_type=sa.Integer(), nullable=False)
