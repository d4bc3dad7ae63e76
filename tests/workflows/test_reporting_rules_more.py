"""More of the reporting cycle on the time-skipping server: the edges of R2-R8 that a
review found (a resubmission that never comes, a report that names no period while two
await one, R3 after a short period, R2 on the last period, a second R6 streak, R8
findings). One fresh server per test, begun on SCENARIO_START."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.messages import (
    AssessReport,
    CloseAudit,
    RaiseEvent,
    RecordAuditFindings,
    ReportAccepted,
    SubmitReport,
)
from models.tables import TimelineEventRow
from models.terms import ReportingSchedule
from tests.polling import eventually
from tests.workflows.conftest import (
    MELBOURNE,
    Case,
    begin_on,
    make_terms,
    notifications,
    sleep_until,
    start_case,
)
from workflows.case_contract import CaseContractWorkflow

HOUR = timedelta(hours=1)


async def _submit(case: Case, report_id: str, period_index: int | None = None
                  ) -> ReportAccepted:
    return await case.handle.execute_update(
        CaseContractWorkflow.submit_report,
        SubmitReport(report_id=report_id, period_index=period_index))


async def _assess(case: Case, report_id: str, assessment: str) -> str:
    recorded = await case.handle.execute_update(
        CaseContractWorkflow.assess_report, AssessReport(report_id, assessment, "prac-1"))
    return recorded.outcome


async def _refused(update: Awaitable[object]) -> ApplicationError:
    """The ApplicationError an update was refused with (validator: nothing recorded)."""
    try:
        await update
    except WorkflowUpdateFailedError as exc:
        assert isinstance(exc.cause, ApplicationError)
        return exc.cause
    raise AssertionError("the update must be refused")


def _detail(error: ApplicationError) -> dict[str, object]:
    detail = error.details[0]
    assert isinstance(detail, dict)
    return detail


def _local_noon(day: date, day_offset: int) -> datetime:
    return datetime.combine(day + timedelta(days=day_offset), time(12), MELBOURNE)


# ----------------------------------------------------------------- R4, R5, R6
async def test_r5_resubmission_that_never_arrives_makes_the_period_missing(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    """R4 keeps the period open for a new report; R5: none came before the next due date,
    so the period fails (MISSING) instead of staying pending, and R6 keeps counting."""
    start = await begin_on(env)
    case = await start_case(env.client, worker, make_terms(f"c-{unique_id}", start, periods=3),
                            endorse_on=start)
    periods = (await case.status()).state.periods
    await sleep_until(env, periods[0].follow_up_at + HOUR)
    await _submit(case, f"r-{unique_id}", 0)
    assert await _assess(case, f"r-{unique_id}", "request_resubmission") == "pending"
    await sleep_until(env, periods[0].ends_at - HOUR)
    assert (await case.status()).state.periods[0].outcome == "pending"  # may still come
    await sleep_until(env, periods[0].ends_at + HOUR)
    status = await case.status()
    assert status.state.periods[0].outcome == "missing"
    assert status.state.periods[0].awaiting_resubmission
    assert status.state.consecutive_failures == 1  # R6 counted it
    await sleep_until(env, periods[1].ends_at + HOUR)
    status = await case.status()
    assert status.state.periods[1].outcome == "missing"
    assert status.state.consecutive_failures == 2  # ... and goes on counting


async def test_r4_resubmission_is_refused_once_the_report_window_closed(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    """A resubmission asked for after the period ended could never be accepted (the
    window is closed): refused, and the report is assessed as it is."""
    start = await begin_on(env)
    case = await start_case(env.client, worker, make_terms(f"c-{unique_id}", start, periods=3),
                            endorse_on=start)
    periods = (await case.status()).state.periods
    report_id = f"r-{unique_id}"
    await sleep_until(env, periods[0].follow_up_at + HOUR)
    await _submit(case, report_id, 0)
    assert await _assess(case, report_id, "seek_further_information") == "pending"
    await sleep_until(env, periods[0].ends_at + HOUR)
    error = await _refused(_assess(case, report_id, "request_resubmission"))
    assert error.type == "Conflict"
    assert (_detail(error)["field"], _detail(error)["rule"]) == ("assessment", "R4")
    assert not (await case.status()).state.periods[0].awaiting_resubmission
    assert await _assess(case, report_id, "inadequate_quality") == "inadequate"


async def test_r4_report_naming_no_period_is_refused_while_two_periods_await_one(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    """Two days after D0 with no report, period 0 (late) and period 1 (current) both
    await one: a report naming neither is refused with both listed, not filed as late
    for period 0. Once only period 0 awaits one, a report naming none goes there."""
    start = await begin_on(env)
    case = await start_case(env.client, worker, make_terms(f"c-{unique_id}", start, periods=3),
                            endorse_on=start)
    periods = (await case.status()).state.periods
    await sleep_until(env, _local_noon(periods[0].due_date, 2))
    error = await _refused(_submit(case, f"r-{unique_id}-a"))
    assert error.type == "Invalid"
    assert (_detail(error)["field"], _detail(error)["rule"]) == ("period_index", "R4")
    assert f"period 0 (due {periods[0].due_date.isoformat()})" in error.message
    assert f"period 1 (due {periods[1].due_date.isoformat()})" in error.message
    assert all(not p.reports for p in (await case.status()).state.periods)
    on_time = await _submit(case, f"r-{unique_id}-a", 1)  # the refusal recorded nothing
    assert (on_time.period_index, on_time.on_time) == (1, True)
    late = await _submit(case, f"r-{unique_id}-b")
    assert (late.period_index, late.on_time) == (0, False)


# ------------------------------------------------------------------------ R3
async def test_r3_no_letter_for_a_report_the_period_can_no_longer_accept(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """Reports every four weeks: D + 28 is the next due date, so the period's report
    window has closed before its escalation instant. Asking the program manager for a
    report the case would refuse makes no sense: no letter; R5 has already made the
    period MISSING, a failure towards R6."""
    start = await begin_on(env)
    due_dates = [start + timedelta(days=28 * (i + 1)) for i in range(3)]
    terms = make_terms(f"c-{unique_id}", start, schedule=ReportingSchedule(due_dates=due_dates),
                       contract_end=due_dates[-1])
    case = await start_case(env.client, worker, terms, endorse_on=start)
    first = (await case.status()).state.periods[0]
    assert first.ends_at <= first.escalation_at  # the case under test
    await sleep_until(env, first.escalation_at + HOUR)
    state = (await case.status()).state
    period = state.periods[0]
    assert (period.outcome, period.escalated_at) == ("missing", None)
    assert state.consecutive_failures == 1
    keys = [n.notification_key for n in await notifications(sessions, terms.case_id)]
    assert f"{terms.case_id}:period-0:overdue" in keys  # R2 chased it while it could come
    assert f"{terms.case_id}:period-0:escalation" not in keys


# ------------------------------------------------------------------------ R2
async def test_r2_no_overdue_chase_when_the_contract_ends_as_the_last_report_falls_due(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """The contract ends on its last due date, so the last period's report window closes
    the instant it would go overdue: no overdue request and no practitioner task for a
    report that can no longer be accepted. R5 still records it MISSING."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2)  # contract_end = last due date
    case = await start_case(env.client, worker, terms, endorse_on=start)
    periods = (await case.status()).state.periods
    last = periods[-1]
    assert last.ends_at == last.overdue_at
    await sleep_until(env, periods[0].follow_up_at + HOUR)
    await _submit(case, f"r-{unique_id}", 0)
    assert await _assess(case, f"r-{unique_id}", "adequate") == "success"
    await sleep_until(env, last.overdue_at + timedelta(days=1))
    status = await case.status()
    assert status.status == "closing" and not status.overdue
    assert status.state.periods[-1].outcome == "missing"
    assert status.state.periods[-1].follow_up_sent_at is not None  # R1 still applied
    assert [t.task_id for t in status.state.tasks if t.kind == "overdue_follow_up"] == []

    async def recorded() -> None:
        kinds = [n.kind for n in await notifications(sessions, terms.case_id)]
        assert "overdue_request" not in kinds and kinds.count("follow_up") == 2
        async with sessions() as session:
            outcomes = list(await session.scalars(select(TimelineEventRow.event_key).where(
                TimelineEventRow.case_id == terms.case_id,
                TimelineEventRow.kind == "period_outcome")))
        assert f"{terms.case_id}:period-1:outcome" in outcomes

    await eventually(recorded)


# --------------------------------------------------------------------- R6, R8
async def test_r6_second_streak_while_the_audit_is_open_still_liaises_with_the_leo(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """Monthly: periods 0-2 missing (streak 1, R6 audit), 3 a success, 4-6 missing
    (streak 2) while that audit is still open. The second streak is recorded on the open
    audit, and the LEO is told again with a liaison task for the practitioner; closing
    the audit (R8) finishes both tasks."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=8, interval_months=1)
    case_id = terms.case_id
    case = await start_case(env.client, worker, terms, endorse_on=start)
    periods = (await case.status()).state.periods
    await sleep_until(env, periods[3].follow_up_at + HOUR)
    await _submit(case, f"r-{unique_id}-3", 3)
    assert await _assess(case, f"r-{unique_id}-3", "adequate") == "success"
    await sleep_until(env, periods[6].ends_at + HOUR)
    status = await case.status()
    assert [p.outcome for p in status.state.periods[:7]] == ["missing"] * 3 + ["success"] + [
        "missing"] * 3
    r6_audits = [a for a in status.state.audits if a.rule == "R6"]
    assert [a.status for a in r6_audits] == ["open"]  # no second audit
    audit_id = r6_audits[0].audit_id
    liaison = {t.task_id: t.status for t in status.state.tasks if t.kind == "liaise_leo"}
    assert liaison == {f"{case_id}:{audit_id}:liaise_leo": "open",
                       f"{case_id}:{audit_id}:period-6:liaise_leo": "open"}

    async def leo_told_twice() -> None:
        notices = [(n.notification_key, n.recipient) for n in
                   await notifications(sessions, case_id)
                   if n.kind == "exception_audit_liaison" and n.rule == "R6"]
        assert notices == [(f"{case_id}:period-2:exception_audit", "leo"),
                           (f"{case_id}:period-6:exception_audit", "leo")]
        async with sessions() as session:
            kinds = list(await session.scalars(select(TimelineEventRow.kind).where(
                TimelineEventRow.case_id == case_id, TimelineEventRow.rule == "R6")))
        assert kinds.count("streak_recorded_on_open_audit") == 1

    await eventually(leo_told_twice)
    await case.handle.execute_update(CaseContractWorkflow.record_audit_findings,
                                     RecordAuditFindings(audit_id, f"f-{unique_id}", "leo-1"))
    await case.handle.execute_update(CaseContractWorkflow.close_audit,
                                     CloseAudit(audit_id, "leo-1"))
    tasks = (await case.status()).state.tasks
    assert {t.status for t in tasks if t.kind == "liaise_leo"} == {"completed"}


async def test_r8_findings_and_recommendations_are_sent_to_the_agency(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """R8: the audit records findings and recommendations *to the CSO*."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    raised = await case.handle.execute_update(
        CaseContractWorkflow.raise_event,
        RaiseEvent(event_id=f"ev-{unique_id}", kind="complaint_from_child_or_family"))
    assert raised.audit_id is not None
    findings = RecordAuditFindings(raised.audit_id, f"f-{unique_id}", "leo-1")
    await case.handle.execute_update(CaseContractWorkflow.record_audit_findings, findings)
    again = await case.handle.execute_update(CaseContractWorkflow.record_audit_findings,
                                             findings)
    assert again.duplicate

    async def sent() -> None:
        sent = [(n.notification_key, n.kind, n.rule, n.recipient)
                for n in await notifications(sessions, terms.case_id) if n.rule == "R8"]
        assert sent == [(f"{terms.case_id}:{raised.audit_id}:findings:f-{unique_id}",
                         "exception_audit_findings", "R8", "agency")]

    await eventually(sent)
