"""The case workflow's whole state, in one serialisable dataclass.

Continue-as-new passes `CaseState` on whole, so everything the workflow knows lives
here (STYLE: one state dataclass). The status query returns it as it is, with the
computed `next_deadline`, so the API and operations staff see exactly what the workflow
acts on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from models.messages import CalendarChanged
from models.terms import ContractTerms, Endorsement
from workflows.policy import StreakSpan

# Contract status values (search attribute `ContractStatus`).
AWAITING_ENDORSEMENT = "awaiting_endorsement"
ACTIVE = "active"
CLOSING = "closing"
CLOSED = "closed"


@dataclass
class ReportReceipt:
    report_id: str
    received_at: datetime
    submitted_by: str = ""


@dataclass
class AssessmentEntry:
    report_id: str
    assessment: str
    assessed_at: datetime
    assessed_by: str = ""


@dataclass
class PeriodState:
    """One reporting period (R1-R5). The three instants come from the schedule activity
    and carry their basis so a practitioner can see why each falls when it does."""

    index: int
    due_date: date
    follow_up_at: datetime
    overdue_at: datetime
    escalation_at: datetime
    # Instant the period ends for R5 "never arrived": the next due date, or the end of
    # the contract for the last period.
    ends_at: datetime
    basis: dict[str, dict[str, object]] = field(default_factory=dict)
    follow_up_sent_at: datetime | None = None
    overdue_marked_at: datetime | None = None
    escalated_at: datetime | None = None
    reports: list[ReportReceipt] = field(default_factory=list)
    assessments: list[AssessmentEntry] = field(default_factory=list)
    awaiting_resubmission: bool = False
    outcome: str = "pending"
    # Issue 15: a period due before the contract was imported, its outcome given by the
    # agency's records (workflows/prior_outcomes.py): settled, no deadline acts on it.
    imported: bool = False
    # R6 before the `r6-undecided-periods` patch: fed to the count (in order, stopping at
    # the first undecided period). Kept so carried states and old runs still load; the
    # first tally since the patch reads it once (policy.legacy_triggered_streaks).
    streak_counted: bool = False
    # R4/R6: when the team manager was told that this ended period's report still awaits
    # a final assessment (policy.final_assessment_escalation_at); once per period.
    assessment_escalated_at: datetime | None = None

    @property
    def first_report_at(self) -> datetime | None:
        return self.reports[0].received_at if self.reports else None

    @property
    def final_assessment(self) -> str | None:
        finals = [a.assessment for a in self.assessments if a.assessment in FINAL]
        return finals[-1] if finals else None

    @property
    def report_state(self) -> str:
        """One word for the list view: awaited, received, resubmission_requested, assessed."""
        if not self.reports:
            return "awaited"
        if self.final_assessment:
            return "assessed"
        if self.awaiting_resubmission:
            return "resubmission_requested"
        return "received"


FINAL = frozenset({"adequate", "inadequate_quality"})


@dataclass
class TaskState:
    task_id: str
    kind: str
    rule: str
    title: str
    assignee_role: str
    created_at: datetime
    due_at: datetime | None = None
    period_index: int | None = None
    status: str = "open"
    completed_at: datetime | None = None
    completed_by: str = ""


@dataclass
class AuditState:
    audit_id: str
    rule: str
    trigger: str
    opened_at: datetime
    status: str = "open"
    findings_ids: list[str] = field(default_factory=list)
    closed_at: datetime | None = None


@dataclass
class ReviewState:
    """A case plan review (V1-V3, scheduled or not) or a contract review (V4)."""

    review_id: str
    kind: str  # "case_plan" | "contract"
    rule: str  # V2 scheduled, V3 unscheduled, V4 concern
    requested_at: datetime
    due_at: datetime
    reminder_at: datetime | None = None
    concern: str | None = None
    requested_by_role: str = ""
    status: str = "open"  # open | held
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    held_at: datetime | None = None
    changed: list[str] = field(default_factory=list)


@dataclass
class PlanVersion:
    """V6: case plan versions; exactly one endorsed version is current."""

    version: str
    status: str  # draft | endorsed | superseded
    recorded_at: datetime


@dataclass
class ContactLog:
    """K1: the latest contacts and which gaps were already raised."""

    last_contact_on: date | None = None
    last_practitioner_meeting_on: date | None = None
    gap_raised_after: date | None = None
    meeting_task_after: date | None = None
    count: int = 0
    # Issue 13 (`lean-periods`): contacts are recorded in the read model, not sent as
    # messages (but during a raised gap); the case reads them when a check falls due.
    from_read_model: bool = False


CLOSED_OUTCOME_LETTERS = {"success": "s", "late": "l", "missing": "m", "inadequate": "i"}
"""R5 outcomes of closed periods, one letter each (`ClosedPeriods.outcomes`)."""
OUTCOMES_BY_LETTER = {letter: outcome for outcome, letter in CLOSED_OUTCOME_LETTERS.items()}


@dataclass
class ClosedPeriods:
    """Issue 13: the periods continue-as-new closed for good (workflows/compaction.py) --
    a prefix of the schedule, each ended, decided (R5), awaiting no resubmission and no
    assessment, with no open task. Their read-model rows keep everything (instants,
    basis, reports, assessments, outcome), and the case's views read them there; the
    state keeps only what the rules still ask of them, a few bytes a period."""

    count: int = 0  # periods 0 .. count - 1
    # V5: a review keeps their due dates; R4: a report naming one is refused by its date.
    due_dates: list[date] = field(default_factory=list)
    # R6 counts over their outcomes: one letter each (CLOSED_OUTCOME_LETTERS).
    outcomes: str = ""
    # R4: their reports, each to the final assessment of its period when it is the
    # period's last report, or "" when a later one superseded it -- so that assessing one
    # is refused as it was.
    reports: dict[str, str] = field(default_factory=dict)


@dataclass
class CaseState:
    terms: ContractTerms
    terms_fingerprint: str = ""
    status: str = AWAITING_ENDORSEMENT
    endorsement: Endorsement | None = None
    endorsed_at: datetime | None = None
    # The periods still open to the rules; the closed ones before them are in `closed`.
    periods: list[PeriodState] = field(default_factory=list)
    closed: ClosedPeriods = field(default_factory=ClosedPeriods)
    # R6, derived from the periods' outcomes and `r6_streaks` (policy.tally_streaks):
    # the current count (search attribute `ConsecutiveFailures`) and whether the
    # current streak has already triggered.
    consecutive_failures: int = 0
    streak_triggered: bool = False
    # R6: the streaks that triggered, by their first and last period (two ints each, so
    # the carried state stays compact). None in a state carried from code before the
    # `r6-undecided-periods` patch: the first tally rebuilds it from `streak_counted`.
    r6_streaks: list[StreakSpan] | None = None
    audits: list[AuditState] = field(default_factory=list)
    tasks: list[TaskState] = field(default_factory=list)
    # Issue 13: tasks closed before this run, id -> status (their rows keep the rest):
    # one is never opened again, and completing one is refused as it was.
    closed_tasks: dict[str, str] = field(default_factory=dict)
    # Idempotency memory: message id -> the answer first given (kind-prefixed keys): as a
    # dict of its fields in the run that answered, then as the list of their values
    # (issue 13: workflows/idempotency.py `compact_answers`).
    answered: dict[str, dict[str, object] | list[object]] = field(default_factory=dict)
    plan_review_due_at: datetime | None = None
    plan_review_reminder_at: datetime | None = None
    reviews: list[ReviewState] = field(default_factory=list)
    plan_versions: list[PlanVersion] = field(default_factory=list)
    contacts: ContactLog = field(default_factory=ContactLog)
    # V5 schedule changes waiting for the schedule activity (due dates to (re)plan).
    reschedule_due_dates: list[date] | None = None
    # Calendar changes accepted but not yet applied. In the state, not on the workflow
    # object: one that arrives just before continue-as-new must reach the next run (its
    # id is already answered, so a repeat would be ignored).
    calendar_changes: list[CalendarChanged] = field(default_factory=list)
    ended_at: datetime | None = None
    end_reason: str = ""
    closed_at: datetime | None = None
    runs: int = 1
    # How many periods had ended at the last look: one more ended is a period boundary,
    # the moment the workflow continues-as-new (DESIGN decision 3).
    periods_ended: int = 0

    def period(self, index: int) -> PeriodState | None:
        """The open period `index`; None for a closed one or none at all."""
        position = index - self.closed.count
        return self.periods[position] if 0 <= position < len(self.periods) else None

    def period_count(self) -> int:
        """Every period of the schedule, closed ones included."""
        return self.closed.count + len(self.periods)

    def due_dates(self) -> list[date]:
        """Every period's due date, closed ones included, in order."""
        return [*self.closed.due_dates, *(p.due_date for p in self.periods)]

    def open_audits(self) -> list[AuditState]:
        return [a for a in self.audits if a.status != "closed"]

    def open_tasks(self) -> list[TaskState]:
        return [t for t in self.tasks if t.status == "open"]

    def open_reviews(self) -> list[ReviewState]:
        return [r for r in self.reviews if r.status == "open"]


@dataclass
class CaseStatus:
    """The status query's answer: the state plus what is derived from it."""

    case_id: str
    agency_id: str
    status: str
    state: CaseState
    next_deadline: datetime | None
    next_deadline_kind: str | None
    overdue: bool
