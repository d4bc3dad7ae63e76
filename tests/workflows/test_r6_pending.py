"""R6 on the time-skipping server (issue 9): a pending period never hides a streak.

Period 0 gets an on-time report that the practitioner answers with
`seek_further_information`, so it stays undecided; periods 1, 2 and 3 get no report.
The third decided failure triggers R6 as it happens (LEO liaison notice, audit, task),
and the workflow state, the read model row and the `ConsecutiveFailures` search
attribute all show the count. The undecided report is itself work: a task for the
practitioner when its period ends, a notice to the team manager two weeks later (R4)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.messages import AssessReport, SubmitReport
from models.tables import CaseRow, TaskRow
from tests.polling import eventually
from tests.workflows.conftest import (
    Case,
    begin_on,
    make_terms,
    notifications,
    sleep_until,
    start_case,
)
from workflows import policy
from workflows.case_contract import CONSECUTIVE_FAILURES, CaseContractWorkflow

HOUR = timedelta(hours=1)


async def _search_attribute_failures(case: Case) -> int | None:
    described = await case.handle.describe()
    return described.typed_search_attributes.get(CONSECUTIVE_FAILURES)


async def _read_model_failures(sessions: async_sessionmaker[AsyncSession], case_id: str
                               ) -> int | None:
    async with sessions() as session:
        row = await session.get(CaseRow, case_id)
        return row.consecutive_failures if row else None


async def test_r6_pending_first_period_then_three_missing_triggers_at_once(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    start = await begin_on(env)
    case_id = f"c-{unique_id}"
    case = await start_case(env.client, worker,
                            make_terms(case_id, start, periods=5, interval_months=1),
                            endorse_on=start)
    periods = (await case.status()).state.periods
    report_id = f"r-{unique_id}"

    # Period 0: on time, then a follow-up assessment that leaves it undecided.
    await sleep_until(env, periods[0].follow_up_at + HOUR)
    await case.handle.execute_update(CaseContractWorkflow.submit_report,
                                     SubmitReport(report_id=report_id, period_index=0))
    recorded = await case.handle.execute_update(
        CaseContractWorkflow.assess_report,
        AssessReport(report_id, "seek_further_information", "prac-1"))
    assert recorded.outcome == "pending"

    # R4: its period ends undecided -> a task to assess it, due when it escalates.
    await sleep_until(env, periods[0].ends_at + HOUR)
    escalate_at = policy.final_assessment_escalation_at(periods[0].ends_at)
    task = next(t for t in (await case.status()).state.open_tasks()
                if t.kind == "final_assessment")
    assert (task.rule, task.assignee_role, task.due_at, task.period_index) == (
        "R4", "practitioner", escalate_at, 0)

    async def task_row() -> None:
        async with sessions() as session:
            row = await session.scalar(select(TaskRow).where(TaskRow.task_id == task.task_id))
            assert row is not None and row.status == "open"
    await eventually(task_row)

    # ... and the team manager is told two weeks after the period ended.
    await sleep_until(env, escalate_at + HOUR)

    async def team_manager_told() -> None:
        told = [(n.kind, n.rule) for n in await notifications(sessions, case_id)
                if n.recipient == "team_manager"]
        assert told == [("final_assessment_overdue", "R4")]
    await eventually(team_manager_told)

    # Periods 1 and 2 missing: two decided failures, the undecided period 0 skipped.
    await sleep_until(env, periods[2].ends_at + HOUR)
    status = await case.status()
    assert [p.outcome for p in status.state.periods[:3]] == ["pending", "missing", "missing"]
    assert status.state.consecutive_failures == 2
    assert not [a for a in status.state.audits if a.rule == "R6"]

    # Period 3 missing: the third decided failure triggers R6 at once.
    await sleep_until(env, periods[3].ends_at + HOUR)
    status = await case.status()
    assert status.state.periods[3].outcome == "missing"
    assert status.state.consecutive_failures == 3
    r6_audits = [a for a in status.state.audits if a.rule == "R6"]
    assert [a.status for a in r6_audits] == ["open"]
    assert [t.kind for t in status.state.open_tasks() if t.rule == "R6"] == ["liaise_leo"]

    async def shown_everywhere() -> None:
        liaisons = [n.recipient for n in await notifications(sessions, case_id)
                    if n.kind == "exception_audit_liaison" and n.rule == "R6"]
        assert liaisons == ["leo"]
        assert await _read_model_failures(sessions, case_id) == 3
        assert await _search_attribute_failures(case) == 3
    await eventually(shown_everywhere)

    # The old report decided late as inadequate joins the streak in its place: one
    # streak of four, recommended once; the assessment task is done.
    recorded = await case.handle.execute_update(
        CaseContractWorkflow.assess_report,
        AssessReport(report_id, "inadequate_quality", "prac-1"))
    assert recorded.outcome == "inadequate"
    status = await case.status()
    assert status.state.consecutive_failures == 4
    assert not [t for t in status.state.open_tasks() if t.kind == "final_assessment"]

    async def four_everywhere() -> None:
        assert await _read_model_failures(sessions, case_id) == 4
        assert await _search_attribute_failures(case) == 4
        liaisons = [n for n in await notifications(sessions, case_id)
                    if n.kind == "exception_audit_liaison" and n.rule == "R6"]
        assert len(liaisons) == 1
    await eventually(four_everywhere)


async def test_r6_pending_period_decided_success_recounts_without_untriggering(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Period 0 missing, period 1 undecided, periods 2 and 3 missing: R6 at period 3.
    Period 1 then assessed adequate: the recommendation stands (audit open), but the
    count is the two failures after that success, everywhere."""
    start = await begin_on(env)
    case_id = f"c-{unique_id}"
    case = await start_case(env.client, worker,
                            make_terms(case_id, start, periods=5, interval_months=1),
                            endorse_on=start)
    periods = (await case.status()).state.periods
    report_id = f"r-{unique_id}"
    await sleep_until(env, periods[1].follow_up_at + HOUR)
    await case.handle.execute_update(CaseContractWorkflow.submit_report,
                                     SubmitReport(report_id=report_id, period_index=1))
    await case.handle.execute_update(
        CaseContractWorkflow.assess_report, AssessReport(report_id, "hold_meeting", "prac-1"))
    await sleep_until(env, periods[3].ends_at + HOUR)
    status = await case.status()
    assert [p.outcome for p in status.state.periods[:4]] == [
        "missing", "pending", "missing", "missing"]
    assert status.state.consecutive_failures == 3
    assert [a.status for a in status.state.audits if a.rule == "R6"] == ["open"]

    recorded = await case.handle.execute_update(
        CaseContractWorkflow.assess_report, AssessReport(report_id, "adequate", "prac-1"))
    assert recorded.outcome == "success"
    status = await case.status()
    assert status.state.consecutive_failures == 2
    assert [a.status for a in status.state.audits if a.rule == "R6"] == ["open"]

    async def two_everywhere() -> None:
        assert await _read_model_failures(sessions, case_id) == 2
        assert await _search_attribute_failures(case) == 2
    await eventually(two_everywhere)
