"""A report's arrival is when the service received it (R5, issue 9.3), bounded by what
Temporal proves (workflows/arrival.py), on the time-skipping server.

The outage itself -- the worker stopped across a deadline -- is tested on the real dev
server (tests/api/test_report_arrival_outage.py): the time-skipping server does not move
time while a workflow task waits for a worker, so it cannot let a deadline pass with a
report waiting."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.messages import AssessReport, SubmitReport
from tests.workflows.conftest import (
    Case,
    begin_on,
    make_terms,
    notifications,
    sleep_until,
    start_case,
)
from workflows.case_contract import CaseContractWorkflow
from workflows.state import PeriodState


async def _first_period(case: Case) -> PeriodState:
    return (await case.status()).state.periods[0]


async def test_r5_received_at_cannot_backdate_past_an_activation(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """With the worker up, D ends and R2 goes out; a report then claiming to have been
    received before the deadline is bounded by the workflow's previous activation (the
    R2 one): it stays late, and the overdue request stands."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    period = await _first_period(case)
    await sleep_until(env, period.overdue_at + timedelta(hours=2))
    assert (await _first_period(case)).overdue_marked_at == period.overdue_at
    accepted = await case.handle.execute_update(CaseContractWorkflow.submit_report, SubmitReport(
        report_id=f"r-{unique_id}", period_index=0,
        received_at=period.overdue_at - timedelta(days=3)))
    assert not accepted.on_time
    assert accepted.received_at >= period.overdue_at
    kinds = [n.kind for n in await notifications(sessions, terms.case_id)]
    assert kinds.count("overdue_request") == 1


async def test_r5_received_at_after_processing_is_not_believed(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    """A `received_at` ahead of the processing time (a sender's clock running fast) is
    never believed: the report arrived when it was processed."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    period = await _first_period(case)
    await sleep_until(env, period.overdue_at + timedelta(hours=2))
    before = await env.get_current_time()
    accepted = await case.handle.execute_update(CaseContractWorkflow.submit_report, SubmitReport(
        report_id=f"r-{unique_id}", period_index=0,
        received_at=period.overdue_at + timedelta(days=20)))
    assert before - timedelta(seconds=1) <= accepted.received_at
    assert accepted.received_at < before + timedelta(minutes=5)
    assert not accepted.on_time


async def test_r5_received_at_since_last_activation_is_the_arrival(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    """Between the workflow's last activation (the R1 follow-up) and its processing, the
    report's own `received_at` is the arrival, to the microsecond."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    period = await _first_period(case)
    await sleep_until(env, period.follow_up_at + timedelta(days=2))
    received = period.follow_up_at + timedelta(days=1, microseconds=7)
    accepted = await case.handle.execute_update(CaseContractWorkflow.submit_report, SubmitReport(
        report_id=f"r-{unique_id}", received_at=received))
    assert accepted.received_at == received and accepted.on_time
    status = await case.status()
    assert status.state.periods[0].reports[0].received_at == received


async def test_r5_report_stamped_before_midnight_that_reaches_temporal_after_r2_is_on_time(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    """The API stamps a report at 23:59:59.5; the R2 timer's activation runs at 00:00:00.05
    (overdue request, follow-up task); the update reaches the workflow at 00:00:01. The
    stamp precedes that activation by less than the service's latency bound, so the
    report arrived on time (R5): the R2 follow-up task is closed, the adequate period is
    a success and R6 counts no failure."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    period = await _first_period(case)
    stamped = period.overdue_at - timedelta(milliseconds=500)
    await sleep_until(env, period.overdue_at + timedelta(seconds=1))
    assert (await _first_period(case)).overdue_marked_at == period.overdue_at
    state = (await case.status()).state
    assert "overdue_follow_up" in [t.kind for t in state.open_tasks()]
    report_id = f"r-{unique_id}"
    accepted = await case.handle.execute_update(CaseContractWorkflow.submit_report, SubmitReport(
        report_id=report_id, period_index=0, received_at=stamped))
    assert accepted.on_time and accepted.received_at == stamped
    state = (await case.status()).state
    assert "overdue_follow_up" not in [t.kind for t in state.open_tasks()]
    await case.handle.execute_update(CaseContractWorkflow.assess_report,
                                     AssessReport(report_id, "adequate", "prac-1"))
    state = (await case.status()).state
    assert state.periods[0].outcome == "success"
    assert state.consecutive_failures == 0
