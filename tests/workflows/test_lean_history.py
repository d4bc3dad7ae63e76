"""Issue 10.5: history stays lean under many messages. A message that leaves the next
deadline where it was must not cancel and restart the timer waiting for it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.messages import CompleteTask
from models.tables import TimelineEventRow
from tests.polling import eventually
from tests.workflows.conftest import begin_on, make_terms, start_case
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
