"""The read model: SQL tables that activities keep in step with the workflows.

The workflow owns the truth; these tables exist so that lists, filters and closed cases
can be answered without asking Temporal (DESIGN "Shape"). One exception since issue 13:
contacts with the child (K1) are recorded here by the API, and the workflow reads them
(`ContactRow`). Every table has a natural key
so that activities write by upsert and a retried or replayed activity never duplicates a
row. The schema is created by Alembic migrations (`migrations/`), never `create_all` in
production.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class CaseRow(Base):
    """One contracted case: the columns the list endpoint filters and sorts on, plus the
    last full status snapshot (answers `GET /cases/{id}` once the workflow has closed)."""

    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(64))
    jurisdiction: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    workflow_id: Mapped[str] = mapped_column(String(128))
    contract_start: Mapped[date] = mapped_column(Date)
    contract_end: Mapped[date] = mapped_column(Date)
    order_expiry: Mapped[date] = mapped_column(Date)
    next_deadline: Mapped[datetime | None] = mapped_column(nullable=True)
    next_deadline_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    audit_open: Mapped[bool] = mapped_column(Boolean, default=False)
    terms_fingerprint: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # K1 (issue 13): the case's recorded contacts (`contacts`) in three columns, kept by
    # whoever records one (activities/contacts.py), never by the case's other writes.
    contact_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_contact_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_practitioner_meeting_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Whether the case's workflow reads a contact recorded here in time: then the API
    # records one here instead of sending it (workflows/engine_contacts.py).
    reads_recorded_contacts: Mapped[bool] = mapped_column(Boolean, default=False,
                                                          server_default="0")

    __table_args__ = (
        Index("ix_cases_agency_deadline", "agency_id", "next_deadline", "case_id"),
        Index("ix_cases_status_deadline", "status", "next_deadline", "case_id"),
        Index("ix_cases_deadline", "next_deadline", "case_id"),
        Index("ix_cases_failures", "consecutive_failures"),
        Index("ix_cases_audit_open", "audit_open"),
        Index("ix_cases_overdue", "overdue"),
    )


class ContactRow(Base):
    """K1: a contact with the child (issue 13). Recorded by `POST /cases/{id}/contacts`
    without a message to the case's workflow, which reads the latest when its contact
    checks fall due; a contact sent to the workflow as a message lands here too."""

    __tablename__ = "contacts"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    occurred_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    by_role: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str | None] = mapped_column(String(256), nullable=True)


class PeriodRow(Base):
    """One reporting period of a case (R1-R5): its instants, report and outcome."""

    __tablename__ = "periods"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_date: Mapped[date] = mapped_column(Date)
    follow_up_at: Mapped[datetime]
    overdue_at: Mapped[datetime]
    escalation_at: Mapped[datetime]
    report_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    report_received_at: Mapped[datetime | None] = mapped_column(nullable=True)
    assessment: Mapped[str | None] = mapped_column(String(32), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime]


class TaskRow(Base):
    """A practitioner's (or team manager's) task, opened by the workflow."""

    __tablename__ = "tasks"

    task_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    agency_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    rule: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300))
    assignee_role: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)

    __table_args__ = (Index("ix_tasks_status_due", "status", "due_at"),)


class NotificationRow(Base):
    """The outbox: what goes to whom. `notification_key` (case, period, kind) makes a
    retried activity a no-op; the claim (`claim_token`, `claimed_until`) makes the
    senders take turns (activities/notifications.py), so a notice is sent once."""

    __tablename__ = "notifications"

    notification_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    agency_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    rule: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Who is sending it and until when nobody else may (issue 18): a notice is claimed
    # before it is sent, so the recording activity and redelivery never both send it.
    claim_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (Index("ix_notifications_created", "created_at"),)


class AuditRow(Base):
    """An exception audit (R6, R7, R8) and its findings."""

    __tablename__ = "audits"

    audit_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    agency_id: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(8))
    trigger: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime]
    findings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class TimelineEventRow(Base):
    """What happened on a case and when; `event_key` is unique per case and fact."""

    __tablename__ = "timeline_events"

    event_key: Mapped[str] = mapped_column(String(240), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64))
    agency_id: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(48))
    rule: Mapped[str | None] = mapped_column(String(8), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_timeline_case_time", "case_id", "occurred_at"),)


class CalendarClosureRow(Base):
    """A one-off closure day declared for a jurisdiction (e.g. a one-off public holiday).
    The schedule activity adds these to the `holidays` calendar; declaring one after cases
    started makes running cases recompute the deadlines that have not yet passed."""

    __tablename__ = "calendar_closures"

    jurisdiction: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]


class NoteRow(Base):
    """Free text written by people (audit findings and recommendations, review reasons,
    closure summaries, carry-over reasons). It stays in the database and never enters a
    workflow's history (DESIGN decision 6): the workflow keeps only `note_id`.

    `note_id` is "<case_id>:<kind>:<client id>", so a retried request writes the same
    row and a different text under the same id is detected as a conflict."""

    __tablename__ = "notes"

    note_id: Mapped[str] = mapped_column(String(240), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    # What the note is about: an audit, a review, an open item ... (None: the case).
    subject_id: Mapped[str | None] = mapped_column(String(160), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_notes_case_created", "case_id", "created_at"),)


class AccessLogRow(Base):
    """One write attempted through the API: who (subject, roles, agency), what (method,
    path, permission), on which case, when, and how it ended -- refusals included, so
    repeated 403/404 probing of other agencies' cases (C7) is visible afterwards.

    Not part of the read model: written by the API in its own short transaction
    (api/access_log.py) before the request acts and completed when it answers (outcome
    `started` until then) -- and, for a message the case workflow refused at its Temporal
    door, by the recording activity (issue 10; method `SIGNAL`, path `temporal:...`) --
    never deleted by the service."""

    __tablename__ = "access_log"

    # BIGINT on PostgreSQL (a busy service outgrows 2**31 rows); SQLite only
    # autoincrements an INTEGER primary key.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    subject: Mapped[str | None] = mapped_column(String(256), nullable=True)
    roles: Mapped[str | None] = mapped_column(String(200), nullable=True)
    agency_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    action: Mapped[str | None] = mapped_column(String(48), nullable=True)
    case_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # None while the request is acting: a row left so was cut off by a crash (issue 18).
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        Index("ix_access_log_at", "at"),
        Index("ix_access_log_case_at", "case_id", "at"),
        Index("ix_access_log_subject_at", "subject", "at"),
    )


class DistrictRequestRow(Base):
    """One request between districts (DOMAIN T1-T4): a case transfer, a service
    request, a dispute or a co-working arrangement, as its workflow last recorded it.
    `from_district` and `to_district` are what a district's staff are scoped by (a
    district sees its own requests); `snapshot` holds the deadlines with their basis."""

    __tablename__ = "district_requests"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    from_district: Mapped[str] = mapped_column(String(64))
    to_district: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str | None] = mapped_column(String(32), nullable=True)
    child_in_care: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    workflow_id: Mapped[str] = mapped_column(String(200))
    next_deadline: Mapped[datetime | None] = mapped_column(nullable=True)
    next_deadline_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (
        Index("ix_district_requests_from", "from_district", "kind", "status"),
        Index("ix_district_requests_to", "to_district", "kind", "status"),
        Index("ix_district_requests_deadline", "next_deadline"),
    )


class DistrictRequestEventRow(Base):
    """What happened to a request between districts, and when (its timeline);
    `event_key` is unique per request and fact, so a replayed recording adds nothing."""

    __tablename__ = "district_request_events"

    event_key: Mapped[str] = mapped_column(String(240), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str] = mapped_column(String(160))
    case_id: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    event: Mapped[str] = mapped_column(String(48))
    rule: Mapped[str | None] = mapped_column(String(8), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("ix_district_request_events_request", "kind", "request_id", "occurred_at"),
    )
