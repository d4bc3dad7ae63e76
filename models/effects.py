"""What the case workflow asks the outside world to record: the input of the
`record_case_effects` activity.

The workflow decides; this batch carries the decisions to the read model, the outbox,
tasks and audits in one idempotent activity call. Every entry has a natural key, so a
retried activity or a replayed workflow writes nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass
class TimelineEntry:
    event_key: str
    occurred_at: datetime
    kind: str
    rule: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class AccessEntry:
    """An access-log row written by the recording activity (issue 10): a message refused
    at the workflow's door, which no API request logged. `path` names the door
    (`temporal:<workflow id>/<message>#<entry>`), `method` is `SIGNAL`."""

    at: datetime
    subject: str
    roles: str | None
    agency_id: str | None
    method: str
    path: str
    action: str | None
    case_id: str
    status_code: int
    outcome: str


@dataclass
class NotificationEntry:
    """An outbox row: `notification_key` is unique per case, subject and kind."""

    notification_key: str
    kind: str
    rule: str
    recipient: str
    subject: str
    created_at: datetime


@dataclass
class TaskEntry:
    task_id: str
    kind: str
    rule: str
    title: str
    assignee_role: str
    status: str
    created_at: datetime
    due_at: datetime | None = None
    completed_at: datetime | None = None
    completed_by: str = ""


@dataclass
class AuditEntry:
    audit_id: str
    rule: str
    trigger: str
    status: str
    opened_at: datetime
    findings_ids: list[str] = field(default_factory=list)
    closed_at: datetime | None = None


@dataclass
class PeriodEntry:
    index: int
    due_date: date
    follow_up_at: datetime
    overdue_at: datetime
    escalation_at: datetime
    report_id: str | None
    report_received_at: datetime | None
    assessment: str | None
    outcome: str
    state: dict[str, Any] = field(default_factory=dict)


@dataclass
class CaseEntry:
    case_id: str
    agency_id: str
    jurisdiction: str
    status: str
    workflow_id: str
    terms_fingerprint: str
    contract_start: date
    contract_end: date
    order_expiry: date
    next_deadline: datetime | None
    next_deadline_kind: str | None
    overdue: bool
    consecutive_failures: int
    audit_open: bool
    updated_at: datetime
    closed_at: datetime | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    # Issue 13: the API may record a contact in the read model rather than send it
    # (workflows/engine_contacts.py `reads_recorded_contacts`).
    reads_recorded_contacts: bool = False


@dataclass
class ContactEntry:
    """K1: one contact with the child, as the `contacts` table keeps it (issue 13: the
    API records one there; one that reaches the workflow as a message is written there
    too, by its recording)."""

    contact_id: str
    occurred_on: date
    kind: str
    by_role: str
    recorded_at: datetime
    recorded_by: str = ""


@dataclass
class ReadContacts:
    """K1 (issue 13): the `read_contacts` local activity's input: the case, and what it
    knows -- the day its contact gap counts from, how long a gap may be -- as of `at`."""

    case_id: str
    last_contact_on: date
    contact_frequency_days: int
    at: datetime


@dataclass
class ContactSummary:
    """K1: what the read model knows of a case's contacts -- every one recorded, by the
    API or by the workflow (`read_contacts`'s answer; the `cases` row's columns)."""

    count: int = 0
    last_contact_on: date | None = None  # the latest in person (K1 counts only those)
    last_practitioner_meeting_on: date | None = None


@dataclass
class CaseEffects:
    case: CaseEntry
    periods: list[PeriodEntry] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    notifications: list[NotificationEntry] = field(default_factory=list)
    tasks: list[TaskEntry] = field(default_factory=list)
    audits: list[AuditEntry] = field(default_factory=list)
    # Periods dropped when case management returned to CP before they fell due (E1).
    removed_periods: list[int] = field(default_factory=list)
    # Issue 10: messages refused at the workflow's door, for the access log.
    access: list[AccessEntry] = field(default_factory=list)
    # Issue 13: contacts that reached the workflow as messages (K1), for `contacts`.
    contacts: list[ContactEntry] = field(default_factory=list)
