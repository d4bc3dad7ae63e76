"""Issue 13, item 3: a settled period travels into the next run without its basis
(workflows/compaction.py); the read model keeps the basis, and a later recording of the
period does not erase it. The R5 outcome, reports and instants travel unchanged."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.read_model import write_effects
from casework.status_effects import effects_from_status
from models.messages import AssessReport, SubmitReport
from models.tables import PeriodRow
from tests.polling import eventually
from tests.workflows.conftest import begin_on, make_terms, run_ids, sleep_until, start_case
from workflows.case_contract import CaseContractWorkflow


async def _recorded_basis(sessions: async_sessionmaker[AsyncSession], case_id: str
                          ) -> dict[int, dict[str, object]]:
    async with sessions() as session:
        rows = list(await session.scalars(select(PeriodRow).where(
            PeriodRow.case_id == case_id).execution_options(populate_existing=True)))
    return {row.period_index: (row.state or {}).get("basis") or {} for row in rows}


async def test_r5_a_settled_period_carries_no_basis_into_the_next_run(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    start = await begin_on(env)
    case = await start_case(env.client, worker, make_terms(f"c-{unique_id}", start),
                            endorse_on=start)
    first, second, *_ = (await case.status()).state.periods
    assert first.basis and second.basis
    await sleep_until(env, first.follow_up_at + timedelta(hours=1))
    await case.handle.execute_update(CaseContractWorkflow.submit_report,
                                     SubmitReport(report_id="rep-0"))
    await case.handle.execute_update(CaseContractWorkflow.assess_report,
                                     AssessReport("rep-0", "adequate", "prac"))
    # R5: period 0 is decided, so no timer waits for its end (issue 13, `lean-periods`):
    # the case continues-as-new at its next wake, period 1's R2 instant.
    await sleep_until(env, second.overdue_at + timedelta(hours=1))

    async def continued() -> None:
        assert len(await run_ids(env.client, case.handle.id)) >= 2

    await eventually(continued)
    carried = (await case.status()).state.periods
    assert carried[0].basis == {} and carried[0].outcome == "success"
    assert [r.report_id for r in carried[0].reports] == ["rep-0"]
    assert (carried[0].follow_up_at, carried[0].overdue_at) == (first.follow_up_at,
                                                                first.overdue_at)
    assert carried[1].basis == second.basis  # still to come: carried whole
    recorded = await _recorded_basis(sessions, case.terms.case_id)
    assert recorded[0] == first.basis

    # A later recording that names period 0 -- here reconcile's rewrite of every row
    # from the status, which carries period 0 without its basis -- keeps the row's.
    async with sessions() as session:
        await write_effects(session, effects_from_status(await case.status(),
                                                         await env.get_current_time()))
        await session.commit()
    assert (await _recorded_basis(sessions, case.terms.case_id))[0] == first.basis
