"""Shapes of the district request workflows (DOMAIN T1-T4): transfer requests, service
requests, disputes and co-working arrangements between districts (Western Australia,
procedure 2.2.9, `seeds/003_...txt`).

Plain dataclasses so they pass through Temporal's pydantic data converter; every message
has its own input and output type (fields can be added later without breaking running
workflows). Workflows carry ids, dates and codes only: a rejection's reason, a review's
notes and a final decision's rationale are notes in the database, named here by id
(DESIGN decision 6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from models.effects import AccessEntry, NotificationEntry, TimelineEntry

WA_JURISDICTION = "AU-WA"
WA_TIME_ZONE = "Australia/Perth"

TRANSFER = "transfer"
SERVICE = "service"
DISPUTE = "dispute"
COWORKING = "coworking"


# ----------------------------------------------------------------- deadlines (activity)
@dataclass
class DeadlineSpec:
    """One deadline to compute: `key` names it ("resolve", "complete", "accept",
    "disagreement", "assistant_directors", ...), `rule` the DOMAIN rule (T1-T4). Exactly
    one of the amounts is set: working days on the AU-WA calendar, calendar days ("under
    four weeks", T1 for a child in care) or calendar months (T4)."""

    key: str
    rule: str
    working_days: int = 0
    calendar_days: int = 0
    months: int = 0
    reminder_working_days: int = 0  # T4: remind this many working days before the day


@dataclass
class DeadlinesRequest:
    """What the `district_deadlines` activity computes: each spec counted from
    `counted_from` (an instant; its local date in `time_zone` is the day received)."""

    counted_from: datetime
    specs: list[DeadlineSpec]
    jurisdiction: str = WA_JURISDICTION
    time_zone: str = WA_TIME_ZONE


@dataclass
class RequestDeadline:
    """A computed deadline: `due_at` (UTC) is when it passes, `remind_at` (UTC) when the
    people who owe it are reminded; `basis` explains both in words (like R1-R3's)."""

    key: str
    rule: str
    due_at: datetime
    remind_at: datetime
    basis: dict[str, Any] = field(default_factory=dict)
    reminded: bool = False
    escalated: bool = False
    met_at: datetime | None = None


# ----------------------------------------------------------------- recording (activity)
@dataclass
class RequestEntry:
    """The read-model row of one request, dispute or arrangement (`district_requests`)."""

    kind: str
    request_id: str
    case_id: str
    from_district: str
    to_district: str
    status: str
    workflow_id: str
    opened_at: datetime
    updated_at: datetime
    stage: str | None = None
    child_in_care: bool | None = None
    next_deadline: datetime | None = None
    next_deadline_kind: str | None = None
    escalated: bool = False
    closed_at: datetime | None = None
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class RequestEffects:
    """The input of `record_request_effects`: the row, its timeline entries and its
    notices (written to the shared outbox, delivered like a case's)."""

    request: RequestEntry | None
    """None: only access-log rows (a start refused at the door has no request, issue 10)."""
    timeline: list[TimelineEntry] = field(default_factory=list)
    notifications: list[NotificationEntry] = field(default_factory=list)
    access: list[AccessEntry] = field(default_factory=list)
    """Issue 10: starts and updates refused at the workflow's door, which no API request
    logged (workflows/district_doors.py)."""


# ----------------------------------------------------------------- workflow inputs
@dataclass
class TransferInput:
    """T1: opened by the transferring district (`from_district`) for `case_id`."""

    request_id: str
    case_id: str
    from_district: str
    to_district: str
    child_in_care: bool
    opened_by: str = ""
    jurisdiction: str = WA_JURISDICTION
    time_zone: str = WA_TIME_ZONE


@dataclass
class ServiceRequestInput:
    """T2: a request for services from `from_district` to `to_district`."""

    request_id: str
    case_id: str
    from_district: str
    to_district: str
    opened_by: str = ""
    jurisdiction: str = WA_JURISDICTION
    time_zone: str = WA_TIME_ZONE


@dataclass
class DisputeInput:
    """T3: started by the rejection of a request. `from_district` referred the request,
    `to_district` (the receiving one) disagreed; `request_opened_at` starts the ten
    working days of the whole process."""

    dispute_id: str
    request_kind: str
    request_id: str
    case_id: str
    from_district: str
    to_district: str
    request_opened_at: datetime
    reason_id: str
    raised_by: str = ""
    jurisdiction: str = WA_JURISDICTION
    time_zone: str = WA_TIME_ZONE


@dataclass
class CoworkingInput:
    """T4: an ongoing co-working arrangement; `from_district` manages the case,
    `to_district` co-works. `state` is carried across continue-as-new."""

    arrangement_id: str
    case_id: str
    from_district: str
    to_district: str
    started_on: date
    opened_by: str = ""
    jurisdiction: str = WA_JURISDICTION
    time_zone: str = WA_TIME_ZONE
    state: CoworkingState | None = None


@dataclass
class CoworkingState:
    """What a co-working arrangement carries from one review cycle to the next."""

    opened_at: datetime
    reviews: list[str] = field(default_factory=list)  # review ids, oldest first
    last_reviewed_on: date | None = None
    answered: dict[str, dict[str, Any]] = field(default_factory=dict)


# ----------------------------------------------------------------- messages
@dataclass
class Decide:
    """Accept (resolve in principle), complete, or reject a request. A rejection carries
    the id of its reason's note; it starts the T3 dispute."""

    decision: str  # "accept" | "complete" | "reject"
    decided_by: str = ""
    reason_id: str | None = None


@dataclass
class Decided:
    request_id: str
    decision: str
    status: str
    at: datetime
    dispute_id: str | None = None
    duplicate: bool = False


@dataclass
class ReferDispute:
    """T3: negotiation failed at the current level; refer it to the next one now."""

    from_stage: str
    referred_by: str = ""


@dataclass
class ResolveDispute:
    """T3: the dispute's resolution (agreed at a level, or the director's final
    decision). `outcome` is "proceed" (the request goes ahead) or "withdraw"; the
    rationale is a note, named by id."""

    outcome: str
    rationale_id: str
    decided_by: str = ""


@dataclass
class DisputeChanged:
    dispute_id: str
    stage: str
    status: str
    at: datetime
    outcome: str | None = None
    duplicate: bool = False


@dataclass
class DisputeResult:
    """What a finished dispute returns to the request that started it."""

    dispute_id: str
    outcome: str
    stage: str
    decided_at: datetime
    rationale_id: str


@dataclass
class RecordCoworkingReview:
    """T4: a review of the arrangement held on `reviewed_on` (local date); its notes are
    a note in the database, named by id."""

    review_id: str
    reviewed_on: date
    notes_id: str
    reviewed_by: str = ""


@dataclass
class EndCoworking:
    ended_by: str = ""


@dataclass
class CoworkingChanged:
    arrangement_id: str
    status: str
    at: datetime
    duplicate: bool = False


@dataclass
class RequestStatus:
    """The `status` query of every district workflow."""

    kind: str
    request_id: str
    case_id: str
    from_district: str
    to_district: str
    status: str
    opened_at: datetime
    stage: str | None = None
    child_in_care: bool | None = None
    deadlines: list[RequestDeadline] = field(default_factory=list)
    outcome: str | None = None
    dispute_id: str | None = None
    reason_id: str | None = None
    rationale_id: str | None = None
    next_review_on: date | None = None
    reviews: list[str] = field(default_factory=list)
    started_on: date | None = None  # T4: the arrangement's start (compared on a repeat)
