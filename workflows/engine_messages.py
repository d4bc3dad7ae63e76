"""Messages from outside the case: endorsement (C4, C6), reports and assessments (R4),
task completion. R7 events and audits are in engine_audits.py, reviews in
engine_reviews.py, contacts in engine_contacts.py, closure in engine_closure.py.

Each message has a `validate_*` (raises `CaseError`; used by update validators so a
bad request never enters history, and by signal handlers to drop a bad signal) and an
`apply_*` that changes state and returns the answer. Answers are remembered under the
message's id (idempotency.py), so a repeat returns the first answer and changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from models.errors import PolicyViolation
from models.messages import (
    AssessmentRecorded,
    AssessReport,
    CompleteTask,
    EndorseContract,
    EndorsementRecorded,
    ReportAccepted,
    SubmitReport,
    TaskCompleted,
)
from models.terms import SignatoryRole
from workflows import policy
from workflows.engine import CaseEngine
from workflows.errors import CaseError, conflict, invalid, not_found
from workflows.idempotency import answered_once
from workflows.state import (
    ACTIVE,
    AWAITING_ENDORSEMENT,
    CLOSED,
    AssessmentEntry,
    CaseState,
    PeriodState,
    ReportReceipt,
)


# ------------------------------------------------------------------ endorsement
def endorsement_key(_: EndorseContract) -> str:
    return "endorse"


def validate_endorsement(state: CaseState, message: EndorseContract, now: datetime) -> None:
    """C4: only a contract awaiting endorsement can be endorsed, by a team manager, with
    the signatures the policy requires, on a day that has come (the contract is active
    from the endorsement, so one dated ahead would make it active before anyone signed);
    a repeat of the same endorsement is answered."""
    if state.status != AWAITING_ENDORSEMENT:
        if state.endorsement == message.endorsement:
            return
        raise conflict(f"The contract is already {state.status}.", field="status", rule="C4")
    endorsed_on = message.endorsement.endorsed_on
    if endorsed_on > now.date() + timedelta(days=1):  # UTC date: a day's grace
        raise invalid(f"Endorsed on {endorsed_on}, a day still to come.",
                      field="endorsement.endorsed_on", rule="C4")
    try:
        policy.validate_endorsement(state.terms, message.endorsement)
    except PolicyViolation as exc:
        raise invalid(exc.message, field=f"endorsement.{exc.field}", rule=exc.rule) from exc
    first_due = min(_due_dates(state), default=None)
    if first_due is not None and endorsed_on >= first_due:
        raise invalid(
            f"Endorsed on {endorsed_on}, on or after the first report due "
            f"date {first_due}: the reporting schedule must be renegotiated first.",
            field="endorsement.endorsed_on", rule="C5",
        )


def _due_dates(state: CaseState) -> list[date]:
    """The scheduled due dates, or the contract's own while the first run is still
    scheduling them (an endorsement can arrive before the schedule activity answers)."""
    terms = state.terms
    return state.due_dates() or policy.resolve_due_dates(
        terms.schedule, terms.contract_start, policy.ends_on(terms))


@answered_once(endorsement_key, EndorsementRecorded)
def apply_endorsement(engine: CaseEngine, message: EndorseContract, now: datetime
                      ) -> EndorsementRecorded:
    state = engine.state
    state.status = ACTIVE
    state.endorsement = message.endorsement
    state.endorsed_at = now
    case_id = state.terms.case_id
    pending = engine.pending
    pending.event(case_id, "endorsed", now, "contract_endorsed", "C4",
                  team_manager_id=message.endorsement.team_manager_id)
    # C6: copies of the contract, and the agency told when each report is due.
    recipients = ["agency", "parent"]
    endorsement = message.endorsement
    child_signed = any(s.role == SignatoryRole.CHILD and s.signed_on is not None
                       for s in endorsement.signatories)
    old_enough = (endorsement.child_not_signing_decision_id is None
                  and policy.child_must_sign(state.terms.child_birth_date,
                                             endorsement.endorsed_on))
    if child_signed or old_enough:
        # "Age permitting": the child signed, or is old enough and not excused by a
        # decision that the contract is not age-appropriate for them (C4).
        recipients.append("child")
    for recipient in recipients:
        pending.notify(case_id, f"contract_copy:{recipient}", now, "contract_copy", "C6",
                       recipient, "Copy of the endorsed case contract")
    due_dates = ", ".join(day.isoformat() for day in _due_dates(state))
    pending.notify(case_id, "reporting_schedule", now, "reporting_schedule", "C6", "agency",
                   f"Progress reports are due on {due_dates}")
    result = EndorsementRecorded(status=state.status,
                                 endorsed_on=message.endorsement.endorsed_on)
    return result


# ---------------------------------------------------------------------- reports
def report_key(message: SubmitReport) -> str:
    return f"report:{message.report_id}"


def arrival_of(message: SubmitReport, now: datetime) -> datetime:
    """R5: when the report arrived. The workflow has already bounded `received_at`
    (workflows/arrival.py) or cleared it (a history recorded before the patch); without
    it, the processing time stands for the arrival, as it always did."""
    return message.received_at if message.received_at is not None else now


def _open_for_report(period: PeriodState, now: datetime) -> bool:
    """Imported periods (issue 15) are settled: their report was handled before."""
    return ((not period.reports or period.awaiting_resubmission) and now < period.ends_at
            and not period.imported)


def validate_report(state: CaseState, message: SubmitReport, now: datetime) -> None:
    """R4: a report counts for a known period that is awaiting one; none after closure.
    Which periods await one is judged at the report's arrival, not at its processing: a
    report that reached the service before a period's window closed still counts for it
    (R5, issue 9.3)."""
    now = arrival_of(message, now)
    if not message.report_id.strip():
        raise invalid("report_id must not be empty.", field="report_id")
    if report_key(message) in state.answered:
        return
    if state.status == AWAITING_ENDORSEMENT:
        raise conflict("The contract is not endorsed yet (C4): no report is due.",
                       field="status", rule="C4")
    if state.status != ACTIVE:
        raise conflict(f"The contract has ended ({state.status}): reports are closed.",
                       field="status", rule="E1")
    if message.period_index is not None:
        period = state.period(message.period_index)
        if 0 <= message.period_index < state.closed.count:  # closed (issue 13): ended
            raise _not_awaiting(message.period_index,
                                state.closed.due_dates[message.period_index])
        if period is None:
            raise invalid(f"No reporting period {message.period_index}.", field="period_index",
                          rule="R4")
        if not _open_for_report(period, now):
            raise _not_awaiting(period.index, period.due_date)
    else:
        _target_period(state, now)


def _not_awaiting(index: int, due_date: date) -> CaseError:
    return conflict(f"Period {index} (due {due_date}) is not awaiting a report.",
                    field="period_index", rule="R4")


def _awaiting_periods(state: CaseState, now: datetime) -> list[PeriodState]:
    """The periods a report that names none could be meant for: each open period whose
    due date has passed (a late report, or a requested resubmission) and the current
    period (the first not yet due) if it is open. Only when none of those awaits one is
    an early report taken for the next open period, as before."""
    open_periods = [p for p in state.periods if _open_for_report(p, now)]
    current = next((p.index for p in state.periods if p.overdue_at > now),
                   state.period_count())
    return [p for p in open_periods if p.index <= current] or open_periods[:1]


def _target_period(state: CaseState, now: datetime) -> PeriodState:
    """R4/R5: a report without `period_index` goes to the one period awaiting a report.
    With several awaiting, guessing could record an on-time report for the current
    period as a late one for the previous period (a wrong R5 outcome for both), so the
    caller is asked to choose."""
    candidates = _awaiting_periods(state, now)
    if not candidates:
        raise conflict("No reporting period is awaiting a report.", field="report_id", rule="R4")
    if len(candidates) > 1:
        choices = ", ".join(f"period {p.index} (due {p.due_date.isoformat()})"
                            for p in candidates)
        raise invalid(f"Several periods are awaiting a report: {choices}. Name one with "
                      "period_index.", field="period_index", rule="R4")
    return candidates[0]


@answered_once(report_key, ReportAccepted)
def apply_report(engine: CaseEngine, message: SubmitReport, now: datetime) -> ReportAccepted:
    state = engine.state
    arrived = arrival_of(message, now)
    period: PeriodState | None
    if message.period_index is not None:
        period = state.period(message.period_index)
        assert period is not None  # validate_report made sure it is open
    else:
        period = _target_period(state, arrived)  # validate_report made sure there is one
    resubmission = bool(period.reports)
    period.reports.append(ReportReceipt(message.report_id, arrived, message.submitted_by))
    period.awaiting_resubmission = False
    first = period.reports[0].received_at
    on_time = first < period.overdue_at
    case_id = state.terms.case_id
    engine.pending.period_indexes.add(period.index)
    engine.pending.event(case_id, f"report:{message.report_id}:received", arrived,
                         "report_received", "R4", report_id=message.report_id,
                         period_index=period.index, on_time=arrived < period.overdue_at,
                         resubmission=resubmission)
    for task in state.open_tasks():
        if task.period_index == period.index and task.kind == "overdue_follow_up":
            engine.finish_task(task, now, "workflow: report received")
    engine.open_task(
        f"{case_id}:report-{message.report_id}:assess", "assess_report", "R4",
        f"Assess the progress report for the period due {period.due_date}", "practitioner",
        now, period_index=period.index,
    )
    engine.decide_outcomes(now)
    result = ReportAccepted(report_id=message.report_id, period_index=period.index,
                            due_date=period.due_date, received_at=arrived, on_time=on_time)
    return result


# ------------------------------------------------------------------ assessments
def assessment_key(message: AssessReport) -> str:
    """A retry answers the first time; `assessment_id` tells rounds apart (R4)."""
    if message.assessment_id:
        return f"assess:{message.report_id}:id:{message.assessment_id}"
    return f"assess:{message.report_id}:{message.assessment}"


def _report_period(state: CaseState, report_id: str) -> PeriodState | None:
    for period in state.periods:
        if any(r.report_id == report_id for r in period.reports):
            return period
    return None


def validate_assessment(state: CaseState, message: AssessReport, now: datetime) -> None:
    """R4: the practitioner assesses the latest report of a period, once finally. A
    resubmission can be requested only while the period can still accept a report:
    after its end no new report would be taken (R5 decides the period then)."""
    if message.assessment not in {a.value for a in policy.Assessment}:
        allowed = ", ".join(a.value for a in policy.Assessment)
        raise invalid(f"Unknown assessment {message.assessment!r}; one of {allowed}.",
                      field="assessment", rule="R4")
    if assessment_key(message) in state.answered:
        return
    if state.status == CLOSED:
        raise conflict("The case is closed.", field="status", rule="E2")
    period = _report_period(state, message.report_id)
    closed_final = state.closed.reports.get(message.report_id)
    if period is None and closed_final is None:
        raise not_found(f"No report {message.report_id!r} on this case.", field="report_id")
    latest = (period.reports[-1].report_id == message.report_id if period is not None
              else closed_final != "")
    if not latest:
        raise conflict("A newer report was submitted for this period; assess that one.",
                       field="report_id", rule="R4")
    final = period.final_assessment if period is not None else closed_final
    if final is not None:
        raise conflict(f"The report was already assessed as {final}.",
                       field="assessment", rule="R4")
    assert period is not None  # a closed period's last report is finally assessed
    if period.awaiting_resubmission:
        raise conflict("A resubmission was requested; assess the new report.",
                       field="report_id", rule="R4")
    if message.assessment == policy.Assessment.REQUEST_RESUBMISSION and now >= period.ends_at:
        raise conflict(
            f"The report window of period {period.index} (due {period.due_date}) closed at "
            f"{period.ends_at.isoformat()}: no resubmission could be accepted. Assess the "
            "report as it is.", field="assessment", rule="R4")


@answered_once(assessment_key, AssessmentRecorded)
def apply_assessment(engine: CaseEngine, message: AssessReport, now: datetime
                     ) -> AssessmentRecorded:
    state = engine.state
    period = _report_period(state, message.report_id)
    assert period is not None  # validated
    period.assessments.append(
        AssessmentEntry(message.report_id, message.assessment, now, message.assessed_by)
    )
    case_id = state.terms.case_id
    kind = policy.Assessment(message.assessment)
    engine.pending.period_indexes.add(period.index)
    # One timeline entry and notice per assessment (round), not per kind of assessment.
    key = assessment_key(message).removeprefix("assess:")
    engine.pending.event(case_id, f"report:{key}", now,
                         "report_assessed", "R4", report_id=message.report_id,
                         period_index=period.index, assessment=kind.value)
    if kind == policy.Assessment.REQUEST_RESUBMISSION:
        period.awaiting_resubmission = True
        engine.pending.notify(case_id, f"report:{message.report_id}:resubmission", now,
                              "resubmission_request", "R4", "agency",
                              f"Please resubmit the progress report due {period.due_date}")
    elif kind not in policy.FINAL_ASSESSMENTS:
        engine.pending.notify(case_id, f"report:{key}", now, kind.value, "R4", "agency",
                              f"Follow-up on the progress report due {period.due_date}: "
                              f"{kind.value.replace('_', ' ')}")
    if kind in policy.FINAL_ASSESSMENTS or kind == policy.Assessment.REQUEST_RESUBMISSION:
        for task in state.open_tasks():
            if task.task_id == f"{case_id}:report-{message.report_id}:assess":
                engine.finish_task(task, now, message.assessed_by or "practitioner")
    engine.decide_outcomes(now)
    result = AssessmentRecorded(report_id=message.report_id, period_index=period.index,
                                assessment=kind.value, outcome=period.outcome)
    return result


# ------------------------------------------------------------------------ tasks
def task_key(message: CompleteTask) -> str:
    return f"task:{message.task_id}"


def validate_complete_task(state: CaseState, message: CompleteTask) -> None:
    if task_key(message) in state.answered:
        return
    task = next((t for t in state.tasks if t.task_id == message.task_id), None)
    status = task.status if task is not None else state.closed_tasks.get(message.task_id)
    if status is None:
        raise not_found(f"No task {message.task_id!r} on this case.", field="task_id")
    if status != "open":
        raise conflict(f"Task {message.task_id} is already {status}.", field="task_id")


@answered_once(task_key, TaskCompleted)
def apply_complete_task(engine: CaseEngine, message: CompleteTask, now: datetime
                        ) -> TaskCompleted:
    state = engine.state
    task = next(t for t in state.tasks if t.task_id == message.task_id)
    engine.finish_task(task, now, message.completed_by or "practitioner")
    result = TaskCompleted(task_id=task.task_id, status=task.status)
    return result


__all__ = ["CaseError"]
