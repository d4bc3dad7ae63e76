"""Response bodies. Every instant is UTC ISO 8601; every date is the case's local day."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Page, UtcDateTime


class View(BaseModel):
    """Built from workflow answers (dataclasses) or table rows by attribute."""

    model_config = ConfigDict(from_attributes=True)


class ReportView(View):
    report_id: str
    received_at: UtcDateTime


class PeriodView(View):
    """One reporting period (R1-R5) with its three instants and why each falls when it
    does (`basis`: rule, counted from, business days skipped, local time ...)."""

    index: int
    due_date: date
    follow_up_at: UtcDateTime = Field(description="R1: reminder to the agency.")
    overdue_at: UtcDateTime = Field(description="R2: end of the due date, local time.")
    escalation_at: UtcDateTime = Field(description="R3: written request to the program manager.")
    ends_at: UtcDateTime | None = Field(default=None,
                                        description="R5: no report by then = missing.")
    basis: dict[str, Any] = Field(default_factory=dict)
    report_state: str = Field(description="awaited, received, resubmission_requested, assessed")
    report_id: str | None = None
    report_received_at: UtcDateTime | None = None
    reports: list[ReportView] = Field(default_factory=list)
    assessment: str | None = None
    outcome: str = Field(description="R5: pending, success, late, missing, inadequate")
    follow_up_sent_at: UtcDateTime | None = None
    overdue_marked_at: UtcDateTime | None = None
    escalated_at: UtcDateTime | None = None


class AuditView(View):
    """An exception audit (R6-R8); `findings_ids` are note ids."""

    audit_id: str
    rule: str
    trigger: str
    status: str
    opened_at: UtcDateTime
    findings_ids: list[str] = Field(default_factory=list)
    closed_at: UtcDateTime | None = None


class ReviewView(View):
    """A case plan review (V1-V3) or contract review (V4)."""

    review_id: str
    kind: str
    rule: str
    status: str
    concern: str | None = None
    requested_at: UtcDateTime | None = None
    due_at: UtcDateTime | None = None
    reminded_at: UtcDateTime | None = None
    escalated_at: UtcDateTime | None = None
    held_at: UtcDateTime | None = None
    changed: list[str] = Field(default_factory=list)


class PlanVersionView(View):
    """V6: one endorsed case plan version is current; others are drafts or superseded."""

    version: str
    status: str
    recorded_at: UtcDateTime | None = None


class ContactsView(View):
    """K1: contact with the child."""

    count: int = 0
    last_contact_on: date | None = None
    last_practitioner_meeting_on: date | None = None


class TaskView(View):
    task_id: str
    case_id: str
    agency_id: str
    kind: str
    rule: str
    title: str
    assignee_role: str
    status: str
    created_at: UtcDateTime
    due_at: UtcDateTime | None = None
    completed_at: UtcDateTime | None = None
    completed_by: str | None = None


class CaseView(View):
    """The full status of a case: live from its workflow while it runs (`source` =
    workflow), from the read model once it has closed (`source` = read_model)."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "case_id": "case-2026-0147", "agency_id": "agency-7", "jurisdiction": "AU-VIC",
        "time_zone": "Australia/Melbourne", "phase": "protection_order", "status": "active",
        "source": "workflow", "contract_start": "2026-12-01", "contract_end": "2027-12-01",
        "order_expiry": "2028-03-01", "next_deadline": "2027-02-14T22:00:00Z",
        "next_deadline_kind": "follow_up", "overdue": False, "consecutive_failures": 0,
        "audit_open": False, "periods": [{
            "index": 0, "due_date": "2027-03-01", "follow_up_at": "2027-02-14T22:00:00Z",
            "overdue_at": "2027-03-01T13:00:00Z", "escalation_at": "2027-03-28T22:00:00Z",
            "report_state": "awaited", "outcome": "pending"}],
    }]})

    case_id: str
    agency_id: str
    jurisdiction: str
    time_zone: str | None = None
    phase: str | None = None
    status: str = Field(description="awaiting_endorsement, active, closing, closed")
    source: Literal["workflow", "read_model"]
    contract_start: date
    contract_end: date
    order_expiry: date
    endorsed_at: UtcDateTime | None = None
    ended_at: UtcDateTime | None = None
    end_reason: str | None = None
    closed_at: UtcDateTime | None = None
    next_deadline: UtcDateTime | None = None
    next_deadline_kind: str | None = None
    overdue: bool = False
    consecutive_failures: int = 0
    audit_open: bool = False
    periods: list[PeriodView] = Field(default_factory=list)
    audits: list[AuditView] = Field(default_factory=list)
    reviews: list[ReviewView] = Field(default_factory=list)
    plan_versions: list[PlanVersionView] = Field(default_factory=list)
    contacts: ContactsView = Field(default_factory=ContactsView)
    open_tasks: list[TaskView] = Field(default_factory=list)


class RegisteredCaseView(CaseView):
    """`POST /cases`'s answer, and whether this repeated an earlier registration (200,
    `duplicate: true`) or made it (201). A new case (201) is shown as registered, from
    its terms and listing (`source: read_model`, `status: awaiting_endorsement`, no
    `periods` yet: its workflow computes them, and `GET /cases/{case_id}` shows them);
    a repeat shows the case as `GET /cases/{case_id}` does."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "case_id": "case-2026-0147", "agency_id": "agency-7", "jurisdiction": "AU-VIC",
        "time_zone": "Australia/Melbourne", "phase": "protection_order",
        "status": "awaiting_endorsement", "source": "read_model",
        "contract_start": "2026-12-01", "contract_end": "2027-12-01",
        "order_expiry": "2028-03-01", "next_deadline": None, "next_deadline_kind": None,
        "overdue": False, "consecutive_failures": 0, "audit_open": False, "periods": [],
        "duplicate": False,
    }]})

    duplicate: bool = Field(default=False, description="True when this repeats an earlier "
                            "registration with the same terms: nothing new was started.")


class CaseSummary(View):
    """A row of `GET /cases`, from the read model."""

    case_id: str
    agency_id: str
    jurisdiction: str
    status: str
    contract_start: date
    contract_end: date
    order_expiry: date
    next_deadline: UtcDateTime | None = None
    next_deadline_kind: str | None = None
    overdue: bool
    consecutive_failures: int
    audit_open: bool
    updated_at: UtcDateTime
    closed_at: UtcDateTime | None = None


class NotificationView(View):
    """An outbox entry: what went to whom, when, and whether it was delivered."""

    notification_key: str
    case_id: str
    agency_id: str
    kind: str
    rule: str
    recipient: str
    subject: str
    created_at: UtcDateTime
    delivered_at: UtcDateTime | None = None
    attempts: int = 0
    last_error: str | None = None


class TimelineEntryView(View):
    event_key: str
    case_id: str
    occurred_at: UtcDateTime
    kind: str
    rule: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class NoteView(View):
    note_id: str
    case_id: str
    kind: str
    subject_id: str | None = None
    text: str
    author: str
    created_at: UtcDateTime


# ---------------------------------------------------------------- answers to POSTs
class Answer(View):
    duplicate: bool = Field(default=False, description="True when this repeats an earlier "
                            "request: nothing changed, the first answer is returned.")


class EndorsementView(Answer):
    status: str
    endorsed_on: date


class ReportAcceptedView(Answer):
    report_id: str
    period_index: int
    due_date: date
    received_at: UtcDateTime
    on_time: bool


class AcceptedView(View):
    """202 Accepted (issue 18.3): the request took effect durably, but its result is
    not known yet -- never "failed" for a success. `Location` names the resource."""

    status: str = Field(default="accepted", description="Always `accepted`.")
    detail: str


class ReportPendingView(AcceptedView):
    """202 for a report no worker answered in time (issue 9.3): stored durably and
    applied as soon as the case's worker runs, with this `received_at` as its arrival
    (R5). The case (`Location`) shows it in its period's `reports` then; a refusal is
    recorded on the case's timeline (`signal_refused`). Sending it again is safe."""

    report_id: str
    received_at: UtcDateTime


class WritePendingView(AcceptedView):
    """202 for a write to a case whose answer did not come in time (issue 18.3): it
    took effect and will be applied. `stage` `accepted`: the case's worker accepted it
    and is still applying it; `stored`: no worker took it in time, so Temporal keeps it
    until one runs the case, and a refusal then is recorded on the case's timeline
    (`signal_refused`). The case (`Location`) shows the result once applied; sending
    the same request again is safe and then answers as the first would have."""

    case_id: str
    message: str = Field(description="The workflow message sent, e.g. `assess_report`.")
    message_id: str | None = Field(
        default=None, description="The id the message is repeat-safe on, when it has one.")
    stage: Literal["accepted", "stored"]


class RegistrationPendingView(AcceptedView):
    """202 for a registration whose workflow started but whose listing could not be
    written (the database failed after the start): the case exists and runs, and its
    own first record lists it. Sending the same registration again is safe."""

    case_id: str


class AssessmentView(Answer):
    report_id: str
    period_index: int
    assessment: str
    outcome: str


class EventView(Answer):
    event_id: str
    kind: str
    audit_id: str | None = Field(default=None, description="R7: the audit it opened or joined.")
    review_id: str | None = Field(default=None, description="V4: the contract review opened.")
    review_due_at: UtcDateTime | None = None


class AuditChangedView(Answer):
    audit_id: str
    status: str
    note_ids: list[str] = Field(default_factory=list)


class TaskCompletedView(Answer):
    task_id: str
    status: str


class ReviewRequestedView(Answer):
    review_id: str
    kind: str
    rule: str
    due_at: UtcDateTime
    reason_id: str | None = None


class ReviewOutcomeView(Answer):
    review_id: str
    status: str
    contract_status: str
    changed: list[str] = Field(default_factory=list)
    outcome_id: str | None = None


class ContactView(Answer):
    contact_id: str
    occurred_on: date


class ClosureView(Answer):
    status: str
    closed_at: UtcDateTime
    carried_over: list[str] = Field(default_factory=list)
    summary_id: str


class ClosureDayView(View):
    jurisdiction: str
    day: date
    name: str
    created_at: UtcDateTime
    signalled_cases: int = Field(description="Running cases of the jurisdiction told to "
                                 "recompute their deadlines.")
    duplicate: bool = False


class Health(BaseModel):
    """`GET /healthz`: the process answers."""

    status: Literal["ok"]


class Readiness(BaseModel):
    """`GET /readyz` 200: every dependency answered (`checks` says each is `ok`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"status": "ready", "checks": {"database": "ok", "temporal": "ok"}}]})

    status: Literal["ready"]
    checks: dict[str, str]


# ------------------------------------------------------------------ list pages
# Named subclasses, not `Page[CaseSummary]` in routes: OpenAPI would call that schema
# `Page_CaseSummary_`, and generated clients their class likewise (issue 12).
class CasePage(Page[CaseSummary]):
    """A page of `GET /cases`."""


class TimelinePage(Page[TimelineEntryView]):
    """A page of `GET /cases/{case_id}/timeline`."""


class NotePage(Page[NoteView]):
    """A page of `GET /cases/{case_id}/notes`."""


class TaskPage(Page[TaskView]):
    """A page of `GET /tasks`."""


class NotificationPage(Page[NotificationView]):
    """A page of `GET /notifications`."""
