"""Input and output of the schedule activity (DESIGN decision 1: deadlines are computed
in an activity, so the result is recorded in history and a new calendar never makes an
old case replay differently)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass
class CaseListing:
    """What a new case's read-model row needs before its workflow first records it. The
    first run's schedule request carries it so that the activity lists the case *before*
    reading the declared closure days (activities/case_listing.py says why)."""

    agency_id: str
    contract_start: date
    contract_end: date
    order_expiry: date
    terms_fingerprint: str


@dataclass
class ScheduleRequest:
    case_id: str
    jurisdiction: str
    time_zone: str
    due_dates: list[date]
    # The day the contract ends (E1: the earlier of contract end and order expiry).
    ends_on: date
    extra_closures: list[date] = field(default_factory=list)
    removed_holidays: list[date] = field(default_factory=list)
    order_expiry: date | None = None
    listing: CaseListing | None = None
    """Set on a case's first schedule only: list the case before reading closures."""


@dataclass
class ScheduledPeriod:
    due_date: date
    follow_up_at: datetime
    overdue_at: datetime
    escalation_at: datetime
    ends_at: datetime
    # kind ("follow_up", "overdue", "escalation") -> DeadlineBasis as plain data.
    basis: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class ScheduleResult:
    periods: list[ScheduledPeriod]
    # V2: the scheduled case plan review is due by the end of the day six weeks before
    # the protection order expires; the practitioner is reminded `lead` days ahead.
    plan_review_due_at: datetime
    plan_review_reminder_at: datetime
    plan_review_basis: dict[str, Any] = field(default_factory=dict)
