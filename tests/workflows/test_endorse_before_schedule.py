"""C4 and R4: an endorsement that reaches a case while its first run is still computing
the schedule takes effect once the periods exist (patch `endorse-after-first-schedule`).

Before, the case turned `active` at once with no periods: a client that saw it active
and sent its report was refused "No reporting period 0" (R4) -- found with the worker
stopped, where the endorsement waits as a signal and meets the first schedule in the
same activation. The schedule activity here is held until the test lets it go, so the
window is as wide as the test needs."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.testing import WorkflowEnvironment

from activities.schedule import ScheduleActivities
from models.messages import EndorseContract
from models.schedule import ScheduleRequest, ScheduleResult
from models.tables import TimelineEventRow
from tests.polling import eventually
from tests.workflows.conftest import (
    TEST_CALLER_KEYS,
    begin_on,
    endorsement_for,
    make_terms,
)
from worker import build_worker
from workflows.case_contract import CaseContractInput, CaseContractWorkflow, workflow_id_for
from workflows.state import ACTIVE, AWAITING_ENDORSEMENT


class HeldSchedule(ScheduleActivities):
    """The real schedule, answered only once `release` is set."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(sessions)
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    @activity.defn(name="schedule_periods")
    async def schedule_periods(self, request: ScheduleRequest) -> ScheduleResult:
        self.entered.set()
        await self.release.wait()
        return await super().schedule_periods(request)


async def _scenario(env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession],
                    *, as_signal: bool) -> None:
    today = await begin_on(env)
    terms = make_terms(f"held-{uuid.uuid4().hex[:8]}", today)
    endorsement = EndorseContract(endorsement_for(terms, today))
    schedule = HeldSchedule(sessions)
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    async with build_worker(env.client, queue, sessions, strict_sandbox=True,
                            caller_keys=TEST_CALLER_KEYS, schedule=schedule):
        handle = await env.client.start_workflow(
            CaseContractWorkflow.run, CaseContractInput(terms=terms),
            id=workflow_id_for(terms.case_id), task_queue=queue)
        await asyncio.wait_for(schedule.entered.wait(), 30)
        answered = None
        if as_signal:
            await handle.signal("endorse", endorsement)
        else:
            answered = asyncio.create_task(handle.execute_update(
                CaseContractWorkflow.endorse, endorsement))

        async def seen() -> None:
            # Let in, not applied: still awaiting endorsement while there are no periods.
            status = await handle.query(CaseContractWorkflow.status)
            assert status.status == AWAITING_ENDORSEMENT and not status.state.periods
            assert status.state.endorsed_at is None

        await seen()
        await asyncio.sleep(0.5)  # the message's workflow task has run by now
        await seen()
        schedule.release.set()

        async def endorsed() -> None:
            status = await handle.query(CaseContractWorkflow.status)
            assert status.status == ACTIVE, status.status
            assert len(status.state.periods) == len(terms.schedule.due_dates)

        await eventually(endorsed)
        if answered is not None:
            assert (await answered).status == ACTIVE

        async def recorded_once() -> None:
            async with sessions() as session:
                kinds = list(await session.scalars(select(TimelineEventRow.kind).where(
                    TimelineEventRow.case_id == terms.case_id)))
            assert kinds.count("contract_endorsed") == 1, kinds
            assert "signal_refused" not in kinds, kinds

        await eventually(recorded_once)


async def test_c4_an_endorsement_signalled_during_the_first_schedule_waits_for_the_periods(
        env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]) -> None:
    await _scenario(env, sessions, as_signal=True)


async def test_c4_an_endorsement_update_during_the_first_schedule_waits_for_the_periods(
        env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]) -> None:
    await _scenario(env, sessions, as_signal=False)
