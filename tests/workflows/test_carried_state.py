"""Issue 13, item 3: what a case carries into its next run (workflows/compaction.py).
No period travels with its basis, and a period closed for good (settled, nothing left
to assess) travels as an outline only; the read model keeps everything, the case's view
shows every period whole, a later recording of a period keeps the basis of each
instant it does not name, and reconcile neither flags nor deletes a closed period."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.read_model import write_effects
from casework.reconcile import reconcile
from casework.status_effects import effects_from_status
from models.messages import AssessReport, CalendarChanged, SubmitReport
from models.tables import PeriodRow
from tests.polling import eventually
from tests.workflows.conftest import (
    begin_on,
    every_period,
    make_terms,
    run_ids,
    sleep_until,
    start_case,
)
from workflows.business_calendar import BusinessCalendar, CalendarSpec
from workflows.case_contract import CaseContractWorkflow


async def _recorded_basis(sessions: async_sessionmaker[AsyncSession], case_id: str
                          ) -> dict[int, dict[str, object]]:
    async with sessions() as session:
        rows = list(await session.scalars(select(PeriodRow).where(
            PeriodRow.case_id == case_id).execution_options(populate_existing=True)))
    return {row.period_index: (row.state or {}).get("basis") or {} for row in rows}


async def test_r5_a_closed_period_travels_as_an_outline_and_its_row_keeps_the_rest(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    start = await begin_on(env)
    case = await start_case(env.client, worker, make_terms(f"c-{unique_id}", start),
                            endorse_on=start)
    planned = (await case.status()).state.periods
    first, second, third, _ = planned
    assert all(p.basis for p in planned)
    await sleep_until(env, first.follow_up_at + timedelta(hours=1))
    update = case.handle.execute_update
    await update(CaseContractWorkflow.submit_report, SubmitReport("rep-0"))
    await update(CaseContractWorkflow.assess_report, AssessReport("rep-0", "adequate", "prac"))
    # R5: period 0 is decided; the case continues-as-new at its first wake after period
    # 0 has ended (issue 13, `lean-periods`): period 1's report.
    await sleep_until(env, first.ends_at + timedelta(hours=1))
    await update(CaseContractWorkflow.submit_report, SubmitReport("rep-1", 1))

    async def continued() -> None:
        assert len(await run_ids(env.client, case.handle.id)) >= 2

    await eventually(continued)
    state = (await case.status()).state
    assert (state.closed.count, state.closed.due_dates, state.closed.outcomes,
            state.closed.reports) == (1, [first.due_date], "s", {"rep-0": "adequate"})
    assert state.period(0) is None and [p.index for p in state.periods] == [1, 2, 3]
    assert [p.basis for p in state.periods] == [{}, {}, {}]  # the read model has them
    assert f"{case.terms.case_id}:report-rep-0:assess" in state.closed_tasks
    recorded = await _recorded_basis(sessions, case.terms.case_id)
    assert [recorded[p.index] for p in planned] == [p.basis for p in planned]

    # GET /cases/{id}: every period, whole, the closed one from its row.
    shown = await every_period(case, sessions)
    assert [p.index for p in shown] == [0, 1, 2, 3]
    assert [p.basis for p in shown] == [p.basis for p in planned]
    assert (shown[0].report_id, shown[0].assessment, shown[0].outcome) == (
        "rep-0", "adequate", "success")
    assert shown[0].follow_up_at == first.follow_up_at
    # R4: assessing the closed period's report again is refused as before.
    try:
        await update(CaseContractWorkflow.assess_report,
                     AssessReport("rep-0", "inadequate_quality", "prac"))
    except Exception as exc:  # WorkflowUpdateFailedError: Conflict
        assert "already assessed as adequate" in str(exc.__cause__)
    else:
        raise AssertionError("a closed period's report must stay assessed")

    # R1-R3: a closure day moves period 2's follow-up, and restates the basis of every
    # instant still to come (the calendar it names changed). The rows get those as
    # their periods are recorded -- period 2 at once, period 1 with its assessment --
    # and keep the recorded basis of the instants already passed: period 1's follow-up,
    # sent before this run, whose basis this run never had (the merge itself:
    # tests/activities/test_record_case_effects.py).
    closure = BusinessCalendar(CalendarSpec()).shift_business_days(third.due_date, -3)
    await case.handle.signal(CaseContractWorkflow.calendar_changed, CalendarChanged(
        f"closure-{unique_id}", extra_closures=[closure]))

    async def moved() -> None:
        rows = await _recorded_basis(sessions, case.terms.case_id)
        assert str(closure) in str(rows[2]["follow_up"])

    await eventually(moved)
    await update(CaseContractWorkflow.assess_report, AssessReport("rep-1", "adequate", "prac"))
    rows = await _recorded_basis(sessions, case.terms.case_id)
    assert rows[1]["follow_up"] == second.basis["follow_up"]
    assert set(rows[1]) == {"follow_up", "overdue", "escalation"}
    view = await every_period(case, sessions)
    assert view[1].basis == (await _recorded_basis(sessions, case.terms.case_id))[1]
    assert set(view[1].basis) == {"follow_up", "overdue", "escalation"}

    # A later recording of every period from the status -- reconcile's repair writes
    # exactly this -- keeps the rows' basis; reconcile sees no drift and leaves the
    # closed period's row where it is.
    async with sessions() as session:
        await write_effects(session, effects_from_status(await case.status(),
                                                         await env.get_current_time()))
        await session.commit()
    after = await _recorded_basis(sessions, case.terms.case_id)
    assert after[0] == first.basis
    assert all(set(after[i]) == {"follow_up", "overdue", "escalation"} for i in range(4))
    report = await reconcile(env.client, sessions, case_ids=[case.terms.case_id],
                             say=lambda _: None)
    assert (report.checked, report.drifted) == (1, [])
    assert 0 in await _recorded_basis(sessions, case.terms.case_id)
