"""Inputs and results of the case workflow's signals, updates and queries.

Each message is its own dataclass so fields can be added later without breaking
running workflows (STYLE: samples-python safe_message_handlers). Only ids, codes and
dates travel here: names and free text stay in the database (DESIGN decision 6).
Every message that changes state carries an id the workflow remembers, so a repeat
(a client retry, a signal sent twice) changes nothing and returns the first answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from models.terms import Endorsement


@dataclass
class EndorseContract:
    """C4: the team manager's endorsement with the signatures."""

    endorsement: Endorsement


@dataclass
class EndorsementRecorded:
    status: str
    endorsed_on: date
    duplicate: bool = False


@dataclass
class SubmitReport:
    """A progress report arrived (R4). `report_id` is the idempotency key.

    `received_at` is when the service received the report (the REST API stamps it as it
    accepts the request), so a worker outage or backlog around a deadline never makes an
    on-time report late (R5, issue 9.3). The workflow bounds it (workflows/arrival.py):
    never later than its processing time, never earlier than its previous activation,
    so a sender cannot back-date a report past what Temporal proves. Absent (older
    callers and histories): the workflow's processing time, as before."""

    report_id: str
    period_index: int | None = None
    submitted_by: str = ""
    received_at: datetime | None = None


@dataclass
class ReportAccepted:
    report_id: str
    period_index: int
    due_date: date
    received_at: datetime
    on_time: bool
    duplicate: bool = False


@dataclass
class AssessReport:
    """R4: the practitioner's assessment of a received report. Without `assessment_id`
    the same assessment of the same report counts once (a retry); a second round of the
    same follow-up (say, seek further information again) needs its own
    `assessment_id`."""

    report_id: str
    assessment: str
    assessed_by: str = ""
    assessment_id: str | None = None


@dataclass
class AssessmentRecorded:
    report_id: str
    period_index: int
    assessment: str
    outcome: str
    duplicate: bool = False


@dataclass
class RaiseEvent:
    """R7 exception-audit triggers (`kind` one of policy.R7_TRIGGERS)."""

    event_id: str
    kind: str
    raised_by: str = ""
    occurred_on: date | None = None


@dataclass
class EventRecorded:
    event_id: str
    kind: str
    audit_id: str | None
    duplicate: bool = False


@dataclass
class RecordAuditFindings:
    """R8: findings and recommendations were recorded (their text lives in the
    database under `findings_id`; the workflow keeps the fact and the reference)."""

    audit_id: str
    findings_id: str
    recorded_by: str = ""


@dataclass
class CloseAudit:
    audit_id: str
    closed_by: str = ""


@dataclass
class AuditChanged:
    audit_id: str
    status: str
    duplicate: bool = False


@dataclass
class CalendarChanged:
    """A closure day was declared (or a case's calendar adjusted) after the case
    started: deadlines not yet passed are recomputed; nothing sent is sent again."""

    event_id: str
    extra_closures: list[date] = field(default_factory=list)
    removed_holidays: list[date] = field(default_factory=list)


@dataclass
class CalendarRecomputed:
    event_id: str
    changed_periods: list[int]
    duplicate: bool = False


@dataclass
class CompleteTask:
    task_id: str
    completed_by: str = ""


@dataclass
class TaskCompleted:
    task_id: str
    status: str
    duplicate: bool = False


@dataclass
class CarryOver:
    """E2: an open item handed on at closure, with the reason."""

    item_id: str
    reason: str


@dataclass
class CloseCase:
    """E2: closure with a summary (its text lives in the database under `summary_id`)."""

    summary_id: str
    closed_by: str = ""
    carried_over: list[CarryOver] = field(default_factory=list)


@dataclass
class CaseClosed:
    status: str
    closed_at: datetime
    carried_over: list[str] = field(default_factory=list)
    duplicate: bool = False


@dataclass
class RequestReview:
    """V3 (unscheduled case plan review) or V4 (contract review after a concern).
    `kind` is "case_plan" or "contract"; `concern` one of policy.V4_CONCERNS for a
    contract review. The reason's text lives in the database under `reason_id`."""

    review_id: str
    kind: str
    requested_by_role: str
    concern: str | None = None
    reason_id: str | None = None
    requested_by: str = ""
    # V4: the day the concern was raised, when earlier than its recording: the two weeks
    # run from then.
    raised_on: date | None = None


@dataclass
class ReviewRequested:
    review_id: str
    kind: str
    rule: str
    due_at: datetime
    duplicate: bool = False


@dataclass
class ReviewOutcome:
    """V5/V6: what a held review decided. Every field but `review_id` is optional: a
    review that changes nothing leaves roles and schedule as they are."""

    review_id: str
    decided_by: str = ""
    new_due_dates: list[date] | None = None
    new_contract_end: date | None = None
    total_case_management: bool | None = None
    new_functions: list[str] | None = None
    draft_plan_version: str | None = None
    endorse_plan_version: str | None = None
    return_to_cp: bool = False
    outcome_id: str | None = None


@dataclass
class ReviewOutcomeRecorded:
    review_id: str
    status: str
    contract_status: str
    changed: list[str] = field(default_factory=list)
    duplicate: bool = False


@dataclass
class RecordContact:
    """K1: a contact with the child."""

    contact_id: str
    occurred_on: date
    kind: str
    by_role: str
    by: str = ""


@dataclass
class ContactRecorded:
    contact_id: str
    occurred_on: date
    duplicate: bool = False
