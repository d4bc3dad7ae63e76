"""Issue 10.5: history stays lean under many messages. A message that leaves the next
deadline where it was must not cancel and restart the timer waiting for it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.messages import AssessReport, CompleteTask, SubmitReport
from models.tables import TimelineEventRow
from tests.polling import eventually
from tests.workflows.conftest import begin_on, make_terms, run_ids, sleep_until, start_case
from workflows.case_contract import CaseContractWorkflow


async def _count(handle: WorkflowHandle[object, object], kind: EventType.ValueType) -> int:
    history = await handle.fetch_history()
    return sum(1 for event in history.events if event.event_type == kind)


async def test_messages_that_move_no_deadline_keep_the_running_timer(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2)
    case = await start_case(env.client, worker, terms, endorse_on=start)

    async def waiting_on_a_timer() -> int:
        history = await case.handle.fetch_history()
        kinds = [event.event_type for event in history.events]
        assert EventType.EVENT_TYPE_TIMER_STARTED in kinds
        assert kinds[-1] == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED or (
            kinds[-1] == EventType.EVENT_TYPE_TIMER_STARTED)
        return kinds.count(EventType.EVENT_TYPE_TIMER_STARTED)

    timers_before = await eventually(waiting_on_a_timer)

    for n in range(5):  # refused (no such task): it changes no deadline
        await case.handle.signal(CaseContractWorkflow.complete_task_signal,
                                 CompleteTask(task_id=f"no-such-task-{n}"))

    async def all_recorded() -> None:
        async with sessions() as session:
            refused = await session.scalar(select(func.count()).select_from(
                TimelineEventRow).where(TimelineEventRow.case_id == terms.case_id,
                                        TimelineEventRow.kind == "signal_refused"))
        assert refused == 5

    await eventually(all_recorded)
    assert await _count(case.handle, EventType.EVENT_TYPE_TIMER_STARTED) == timers_before
    assert await _count(case.handle, EventType.EVENT_TYPE_TIMER_CANCELED) == 0


async def test_issue13_an_on_time_period_costs_one_marker_per_recording(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """Issue 13 (patch lean-history): each recording is a local-activity marker in the
    workflow task that decided it (no activity's three events and second task), and a
    continued run asks no patch and re-publishes no unchanged search attribute: the run
    of an on-time period (R4 report and assessment, the next R1 follow-up, the period's
    end) took 32 events, where it took 54; since `lean-periods` it is 25
    (tests/workflows/test_lean_periods.py). Each period's report (but the first) comes an
    hour into its period, the first wake after the period before it ended, where the
    run continues-as-new. K1's
    contact-gap timer is kept out, as in bench/period_kinds.py: yearly contacts do.)"""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=4, contact_frequency_days=365)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    periods = (await case.status()).state.periods
    for period in periods[:3]:
        await sleep_until(env, period.follow_up_at + timedelta(hours=1))
        await case.handle.execute_update(CaseContractWorkflow.submit_report,
                                         SubmitReport(f"r-{period.index}", period.index))
        await case.handle.execute_update(CaseContractWorkflow.assess_report,
                                         AssessReport(f"r-{period.index}", "adequate"))
        await sleep_until(env, period.ends_at + timedelta(hours=1))

    async def second_run_ended() -> list[str]:
        ids = await run_ids(env.client, case.handle.id)
        assert len(ids) >= 3
        return ids

    second = (await eventually(second_run_ended))[1]
    history = await env.client.get_workflow_handle(case.handle.id,
                                                   run_id=second).fetch_history()
    kinds = [event.event_type for event in history.events]
    markers = [e.marker_recorded_event_attributes.marker_name for e in history.events
               if e.HasField("marker_recorded_event_attributes")]
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in kinds
    # No patch is asked: refuse-temporal-cancel (issue 10 review), newer than
    # lean-history, is carried like it (`refuses_cancel`) from the run that asked it.
    assert markers.count("core_patch") == 0
    assert markers.count("core_local_activity") >= 3  # report, assessment, period end
    assert EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES != kinds[4]
    assert len(kinds) <= 32, " ".join(EventType.Name(k)[11:] for k in kinds)

    async def recorded() -> None:
        async with sessions() as session:
            kinds_on_record = set(await session.scalars(select(TimelineEventRow.kind).where(
                TimelineEventRow.case_id == terms.case_id)))
        assert {"report_received", "report_assessed"} <= kinds_on_record, kinds_on_record

    await eventually(recorded)
