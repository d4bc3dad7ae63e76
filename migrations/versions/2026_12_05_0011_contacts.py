"""contacts with the child, recorded in the read model (K1, issue 13)

`POST /cases/{id}/contacts` records a contact here instead of sending it to the case's
workflow, which reads the latest when its K1 checks fall due; `cases` gains the three
figures the views and that read need, and whether its workflow reads them in time
(until its worker says so, contacts go to it as messages, as before). Contacts recorded before are copied from their
`contact_recorded` timeline entries.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:00:00
"""
import json
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_PERSON_KINDS = {"direct", "home_visit", "practitioner_visit"}
"""K1's direct contact, as workflows/engine_contacts.py had it when this was written."""


def upgrade() -> None:
    op.create_table(
        'contacts',
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('contact_id', sa.String(length=64), nullable=False),
        sa.Column('occurred_on', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('by_role', sa.String(length=32), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_by', sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint('case_id', 'contact_id', name=op.f('pk_contacts')),
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_count', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('last_contact_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('last_practitioner_meeting_on', sa.Date(),
                                      nullable=True))
        batch_op.add_column(sa.Column('reads_recorded_contacts', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    _copy_recorded_contacts()


def _copy_recorded_contacts() -> None:
    bind = op.get_bind()
    timeline = sa.table('timeline_events', sa.column('case_id', sa.String()),
                        sa.column('kind', sa.String()), sa.column('occurred_at', sa.DateTime()),
                        sa.column('detail', sa.JSON()))
    contacts = sa.table('contacts', *(sa.column(name) for name in (
        'case_id', 'contact_id', 'occurred_on', 'kind', 'by_role', 'recorded_at')))
    cases = sa.table('cases', sa.column('case_id', sa.String()),
                     sa.column('contact_count', sa.Integer()),
                     sa.column('last_contact_on', sa.Date()),
                     sa.column('last_practitioner_meeting_on', sa.Date()))
    found: dict[tuple[str, str], dict[str, object]] = {}
    for case_id, occurred_at, detail in bind.execute(sa.select(
            timeline.c.case_id, timeline.c.occurred_at, timeline.c.detail).where(
            timeline.c.kind == 'contact_recorded')):
        detail = json.loads(detail) if isinstance(detail, str) else (detail or {})
        if not detail.get('contact_id') or not detail.get('occurred_on'):
            continue
        found.setdefault((case_id, detail['contact_id']), {
            'case_id': case_id, 'contact_id': detail['contact_id'],
            'occurred_on': date.fromisoformat(detail['occurred_on']),
            'kind': detail.get('contact_kind') or '', 'by_role': detail.get('by_role') or '',
            'recorded_at': occurred_at})
    if not found:
        return
    op.bulk_insert(contacts, list(found.values()))
    summaries: dict[str, dict[str, object]] = {}
    for row in found.values():
        summary = summaries.setdefault(str(row['case_id']), {
            'contact_count': 0, 'last_contact_on': None, 'last_practitioner_meeting_on': None})
        summary['contact_count'] = int(summary['contact_count']) + 1  # type: ignore[call-overload]
        if row['kind'] in IN_PERSON_KINDS:
            day = row['occurred_on']
            keys = ['last_contact_on'] + (['last_practitioner_meeting_on']
                                          if row['by_role'] == 'practitioner' else [])
            for key in keys:
                if summary[key] is None or day > summary[key]:  # type: ignore[operator]
                    summary[key] = day
    for case_id, summary in summaries.items():
        bind.execute(cases.update().where(cases.c.case_id == case_id).values(**summary))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('reads_recorded_contacts')
        batch_op.drop_column('last_practitioner_meeting_on')
        batch_op.drop_column('last_contact_on')
        batch_op.drop_column('contact_count')
    op.drop_table('contacts')
