"""The reporting cycle on the time-skipping server (R1-R6): months pass in milliseconds.

Each test gets a fresh server and begins on SCENARIO_START (`begin_on`), whatever the real date.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.messages import AssessReport, CloseAudit, RecordAuditFindings, SubmitReport
from models.tables import AuditRow, TaskRow
from tests.polling import eventually
from tests.workflows.conftest import (
    MELBOURNE,
    Case,
    begin_on,
    every_period,
    make_terms,
    notifications,
    sleep_until,
    start_case,
)
from workflows.business_calendar import BusinessCalendar, CalendarSpec
from workflows.case_contract import CaseContractWorkflow
from workflows.deadlines import FOLLOW_UP_BUSINESS_DAYS
from workflows.state import CaseStatus


async def _submit(case: Case, report_id: str, period_index: int | None = None) -> int:
    accepted = await case.handle.execute_update(
        CaseContractWorkflow.submit_report,
        SubmitReport(report_id=report_id, period_index=period_index))
    return accepted.period_index


async def _assess(case: Case, report_id: str, assessment: str) -> str:
    recorded = await case.handle.execute_update(
        CaseContractWorkflow.assess_report, AssessReport(report_id, assessment, "prac-1"))
    return recorded.outcome


def _local_noon(day_offset: int, due: object) -> datetime:
    from datetime import date as date_type

    assert isinstance(due, date_type)
    return datetime.combine(due + timedelta(days=day_offset), time(12, 0), MELBOURNE)


async def test_r1_year_of_on_time_adequate_reports(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """Four quarterly periods, each report in after its follow-up and before D: four
    follow-ups at 09:00 local on the 10th business day before D, nothing overdue."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=4)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    calendar = BusinessCalendar(CalendarSpec())
    for index in range(4):
        period = (await case.status()).state.period(index)
        assert period is not None
        expected_day = calendar.shift_business_days(period.due_date, -FOLLOW_UP_BUSINESS_DAYS)
        assert period.follow_up_at == datetime.combine(expected_day, time(9), MELBOURNE)
        await sleep_until(env, period.follow_up_at + timedelta(hours=2))
        period = (await case.status()).state.period(index)
        assert period is not None and period.follow_up_sent_at is not None
        assert abs(period.follow_up_sent_at - period.follow_up_at) < timedelta(seconds=1)
        assert await _submit(case, f"r-{unique_id}-{index}") == index
        assert await _assess(case, f"r-{unique_id}-{index}", "adequate") == "success"
    status = await case.status()
    every = await every_period(case, sessions)  # closed periods from the read model
    assert [p.outcome for p in every] == ["success"] * 4
    assert all(p.overdue_marked_at is None and p.escalated_at is None for p in every)
    assert status.state.consecutive_failures == 0
    await sleep_until(env, status.state.periods[-1].ends_at + timedelta(hours=1))
    kinds = [n.kind for n in await notifications(sessions, terms.case_id)]
    assert kinds.count("follow_up") == 4
    assert "overdue_request" not in kinds and "escalation" not in kinds
    assert (await case.status()).status == "closing"  # E1: contract ended


async def test_r2_report_on_day_27_is_late_but_not_escalated(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    period = (await case.status()).state.periods[0]
    await sleep_until(env, _local_noon(27, period.due_date))
    period = (await case.status()).state.periods[0]
    assert period.overdue_marked_at == period.overdue_at  # R2 at the end of D
    assert period.escalated_at is None
    # Name the period: period 1 also awaits a report (R4 refuses to guess between them).
    await _submit(case, f"r-{unique_id}", 0)
    assert await _assess(case, f"r-{unique_id}", "adequate") == "late"  # R5
    await sleep_until(env, period.escalation_at + timedelta(days=2))
    period = (await case.status()).state.periods[0]
    assert period.escalated_at is None  # R3 not reached: the report came first
    notices = await notifications(sessions, terms.case_id)
    assert [n.kind for n in notices if n.kind in ("overdue_request", "escalation")] == [
        "overdue_request"]
    async with sessions() as session:
        task = await session.get(TaskRow, f"{terms.case_id}:period-0:overdue_follow_up")
    assert task is not None and task.rule == "R2" and task.assignee_role == "practitioner"
    assert task.status == "completed"  # closed when the report arrived


async def test_r3_report_on_day_29_comes_after_escalation(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    period = (await case.status()).state.periods[0]
    calendar = BusinessCalendar(CalendarSpec())
    escalation_day = calendar.first_business_day_on_or_after(period.due_date + timedelta(28))
    assert period.escalation_at == datetime.combine(escalation_day, time(9), MELBOURNE)
    await sleep_until(env, max(_local_noon(29, period.due_date),
                               period.escalation_at + timedelta(hours=1)))
    period = (await case.status()).state.periods[0]
    assert period.escalated_at is not None
    assert abs(period.escalated_at - period.escalation_at) < timedelta(seconds=1)
    await _submit(case, f"r-{unique_id}", 0)  # period 1 awaits one too: name it (R4)
    notices = await notifications(sessions, terms.case_id)
    escalations = [n for n in notices if n.kind == "escalation"]
    assert len(escalations) == 1 and escalations[0].recipient == "program_manager"
    assert escalations[0].rule == "R3"


async def test_r4_duplicate_report_counts_once_and_early_report_skips_follow_up(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    first = await case.handle.execute_update(CaseContractWorkflow.submit_report,
                                             SubmitReport(report_id=f"r-{unique_id}"))
    again = await case.handle.execute_update(CaseContractWorkflow.submit_report,
                                             SubmitReport(report_id=f"r-{unique_id}"))
    assert again.duplicate and not first.duplicate
    assert (again.period_index, again.received_at) == (first.period_index, first.received_at)
    # The same report as a signal (an integration talking to Temporal) changes nothing.
    await case.handle.signal("submit_report", SubmitReport(report_id=f"r-{unique_id}"))
    period = (await case.status()).state.periods[0]
    assert len(period.reports) == 1
    await sleep_until(env, period.overdue_at + timedelta(days=1))
    period = (await case.status()).state.periods[0]
    assert period.follow_up_sent_at is None  # R1: report already in
    assert period.overdue_marked_at is None
    kinds = [n.kind for n in await notifications(sessions, terms.case_id)]
    assert kinds.count("follow_up") == 0


async def test_r4_unknown_report_assessment_is_refused(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    start = await begin_on(env)
    case = await start_case(env.client, worker, make_terms(f"c-{unique_id}", start),
                            endorse_on=start)
    try:
        await _assess(case, "no-such-report", "adequate")
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        assert isinstance(cause, ApplicationError) and cause.type == "NotFound"
    else:
        raise AssertionError("assessing an unknown report must be refused")


async def test_r6_three_failures_trigger_once_success_resets_next_streak_after_close(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=8, interval_months=2)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    periods = (await case.status()).state.periods

    async def late(index: int) -> None:
        await sleep_until(env, periods[index].overdue_at + timedelta(days=3))
        await _submit(case, f"r-{unique_id}-{index}", index)
        await _assess(case, f"r-{unique_id}-{index}", "adequate")

    async def on_time(index: int, assessment: str) -> None:
        await sleep_until(env, periods[index].follow_up_at + timedelta(hours=1))
        # Name the period: period 1's report is still outstanding, and a report that
        # names none is refused while two periods await one (R4).
        await _submit(case, f"r-{unique_id}-{index}", index)
        await _assess(case, f"r-{unique_id}-{index}", assessment)

    def r6_audits(status: CaseStatus) -> list[tuple[str, str]]:
        # K1 also raises R7 audits here (no contacts are recorded); R6 is under test.
        return [(a.audit_id, a.status) for a in status.state.audits if a.rule == "R6"]

    await late(0)                                   # late
    # period 1: nothing arrives -> missing once period 2 begins
    await on_time(2, "inadequate_quality")          # inadequate; period 1 undecided
    # R6 (issue 9): the undecided period 1 neither breaks nor joins the streak.
    assert (await case.status()).state.consecutive_failures == 2
    await sleep_until(env, periods[1].ends_at + timedelta(hours=1))  # R5: 1 is missing
    status = await case.status()
    assert [p.outcome for p in (await every_period(case, sessions))[:3]] == [
        "late", "missing", "inadequate"]
    assert status.state.consecutive_failures == 3
    assert len(r6_audits(status)) == 1
    await late(3)                                   # same streak continues: no new trigger
    assert len(r6_audits(await case.status())) == 1
    await on_time(4, "adequate")                    # success resets
    assert (await case.status()).state.consecutive_failures == 0
    audit_id = r6_audits(await case.status())[0][0]
    await case.handle.execute_update(CaseContractWorkflow.record_audit_findings,
                                     RecordAuditFindings(audit_id, "findings-1", "leo-1"))
    await case.handle.execute_update(CaseContractWorkflow.close_audit,
                                     CloseAudit(audit_id, "leo-1"))
    await late(5)
    await late(6)
    await on_time(7, "inadequate_quality")
    status = await case.status()
    assert status.state.consecutive_failures == 3
    assert [status for _, status in r6_audits(status)] == ["closed", "open"]

    async def recorded() -> None:
        notices = await notifications(sessions, terms.case_id)
        assert [n.recipient for n in notices
                if n.kind == "exception_audit_liaison" and n.rule == "R6"] == ["leo"] * 2
        async with sessions() as session:
            audits = list(await session.scalars(select(AuditRow).where(
                AuditRow.case_id == terms.case_id, AuditRow.rule == "R6"
            ).order_by(AuditRow.opened_at)))
        assert [a.status for a in audits] == ["closed", "open"]

    await eventually(recorded)
