"""A deadline burst beside bare timers (issue 13): many cases whose R1 follow-ups fall at
the same instant, as quarterly due dates cluster at 09:00 on the same few days, drained
by one worker on the Temporal dev server (real time, its SQLite file), against the same
number of bare workflows whose timers fire at that instant, in the same run.

The follow-up instant cannot be put a minute from now through the calendar (it is 09:00
local on a business day), so this benchmark's schedule activity computes each case's
real schedule and then moves the first follow-up to the burst instant; everything else
-- the workflow, its recording, the read model, the search attributes, the worker's
settings -- is the service's own. The instant is chosen after a warm-up measured how
long starting and endorsing a case takes, so every case is asleep on its timer before
it fires (the figure `late starts` says if one was not).

Prints: cases, drain time from the instant to the last follow-up recorded, rate, and the
ratio to the bare timers' rate; workflow tasks that failed or timed out during the burst.
`BURST_CASES` sets how many (default 1,000).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.schedule import ScheduleActivities
from casework.caller_envelope import CallerEnvelopeInterceptor, CallerIdentity
from casework.db import make_engine, make_session_factory
from casework.migrate import upgrade_to_head_async
from casework.processes import venv_binary
from casework.temporal_client import ensure_search_attributes, make_data_converter
from models.messages import EndorseContract
from models.schedule import ScheduleRequest, ScheduleResult
from models.tables import NotificationRow
from tests.workflows.conftest import endorsement_for, make_terms
from worker import build_worker
from workflows.case_contract import CaseContractInput, CaseContractWorkflow, workflow_id_for

CASES = int(os.environ.get("BURST_CASES", "1000"))
WARM_UP_CASES = 40
STARTS_IN_FLIGHT = 25
SAFETY = timedelta(seconds=20)
KEYS = {"bench": bytes(32)}


class BurstSchedule(ScheduleActivities):
    """The real schedule, with the first follow-up moved to `burst_at` once it is set."""

    burst_at: datetime | None = None

    @activity.defn(name="schedule_periods")
    async def schedule_periods(self, request: ScheduleRequest) -> ScheduleResult:
        result = await super().schedule_periods(request)
        if self.burst_at is None:
            return result
        first = dataclasses.replace(result.periods[0], follow_up_at=self.burst_at)
        return dataclasses.replace(result, periods=[first, *result.periods[1:]])


# ------------------------------------------------------------------ the bare baseline
_BARE_DONE: list[float] = []


@activity.defn(name="bare_follow_up")
async def bare_follow_up(case: str) -> None:
    """Stands for the follow-up's recording: notes when it ran."""
    _BARE_DONE.append(time.time())


@workflow.defn(name="BareTimer", sandboxed=False)
class BareTimer:
    @workflow.run
    async def run(self, at: datetime) -> None:
        await workflow.sleep(max(at - workflow.now(), timedelta(0)))
        await workflow.execute_local_activity(bare_follow_up, workflow.info().workflow_id,
                                              start_to_close_timeout=timedelta(minutes=1))


async def _in_flight(count: int, make: Callable[[int], Awaitable[Any]]) -> None:
    """Run `make(0..count-1)`, at most STARTS_IN_FLIGHT at a time."""
    gate = asyncio.Semaphore(STARTS_IN_FLIGHT)

    async def one(index: int) -> None:
        async with gate:
            await make(index)

    await asyncio.gather(*(one(index) for index in range(count)))


async def _until(counted: Callable[[], Awaitable[int]], count: int) -> None:
    """Poll `counted` until it reaches `count`."""
    while True:
        if await counted() >= count:
            return
        await asyncio.sleep(0.1)


async def _bare_done() -> int:
    return len(_BARE_DONE)


async def _bare(client: Client, count: int) -> float:
    """Seconds from the instant until `count` bare timers have fired and completed."""
    queue = f"bare-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=queue, workflows=[BareTimer],
                      activities=[bare_follow_up], workflow_runner=UnsandboxedWorkflowRunner(),
                      max_concurrent_workflow_tasks=200):
        at = datetime.now(UTC) + timedelta(seconds=10) + timedelta(seconds=count / 50)
        run = uuid.uuid4().hex[:6]
        await _in_flight(count, lambda i: client.start_workflow(
            BareTimer.run, at, id=f"bare-{run}-{i}", task_queue=queue))
        _BARE_DONE.clear()
        await asyncio.sleep(max((at - datetime.now(UTC)).total_seconds(), 0))
        await _until(_bare_done, count)
        return max(_BARE_DONE) - at.timestamp()


# ------------------------------------------------------------------ casework cases
async def _follow_ups(sessions: async_sessionmaker[AsyncSession], prefix: str) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(NotificationRow).where(
            NotificationRow.kind == "follow_up", NotificationRow.case_id.startswith(prefix))) or 0)


async def _start(client: Client, queue: str, case_id: str) -> float:
    """Start and endorse one case; the wall-clock second it was asleep by."""
    today = datetime.now(UTC).date()
    terms = make_terms(case_id, today, contact_frequency_days=365)
    handle = await client.start_workflow(CaseContractWorkflow.run, CaseContractInput(terms),
                                         id=workflow_id_for(case_id), task_queue=queue)
    await handle.execute_update(CaseContractWorkflow.endorse,
                                EndorseContract(endorsement_for(terms, today)))
    return time.time()


async def _casework(client: Client, sessions: async_sessionmaker[AsyncSession],
                    count: int) -> tuple[float, int, int]:
    """(drain seconds, late starts, failed or timed-out workflow tasks) of a burst."""
    schedule = BurstSchedule(sessions)
    queue = f"burst-{uuid.uuid4().hex[:6]}"
    async with build_worker(client, queue, sessions, caller_keys=KEYS, schedule=schedule):
        warm = f"warm-{uuid.uuid4().hex[:6]}-"
        began = time.time()
        await _in_flight(WARM_UP_CASES, lambda i: _start(client, queue, f"{warm}{i}"))
        per_case = (time.time() - began) / WARM_UP_CASES
        burst_at = datetime.now(UTC) + SAFETY + timedelta(seconds=1.5 * per_case * count)
        schedule.burst_at = burst_at
        prefix = f"burst-{uuid.uuid4().hex[:6]}-"
        asleep: list[float] = []

        async def start(index: int) -> None:
            asleep.append(await _start(client, queue, f"{prefix}{index}"))

        await _in_flight(count, start)
        late = sum(at >= burst_at.timestamp() for at in asleep)
        await asyncio.sleep(max((burst_at - datetime.now(UTC)).total_seconds(), 0))
        await _until(lambda: _follow_ups(sessions, prefix), count)
        drained = (datetime.now(UTC) - burst_at).total_seconds()
    troubled = 0
    for index in range(count):
        history = await client.get_workflow_handle(
            workflow_id_for(f"{prefix}{index}")).fetch_history()
        troubled += sum(e.event_type in (EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
                                         EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT)
                        for e in history.events)
    return drained, late, troubled


@asynccontextmanager
async def dev_stack() -> AsyncIterator[tuple[Client, async_sessionmaker[AsyncSession]]]:
    """A Temporal dev server on its own SQLite file, with the search attributes, and a
    migrated throw-away read model on SQLite; the client signs as a bench admin."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade_to_head_async(url)
        engine = make_engine(url)
        signing = CallerEnvelopeInterceptor(KEYS, "bench", default=CallerIdentity(
            subject="bench", roles=("admin",), agency_id=None))
        try:
            async with await WorkflowEnvironment.start_local(
                    data_converter=make_data_converter(), interceptors=[signing],
                    dev_server_existing_path=str(venv_binary("temporal")),
                    dev_server_log_level="error",
                    dev_server_extra_args=["--db-filename", str(Path(folder) / "t.db")],
            ) as env:
                await ensure_search_attributes(env.client, "default")
                yield env.client, make_session_factory(engine)
        finally:
            await engine.dispose()


async def run(count: int = CASES) -> None:
    async with dev_stack() as (client, sessions):
        bare = await _bare(client, count)
        drained, late, troubled = await _casework(client, sessions, count)
    print(f"\nDeadline burst: {count} follow-ups at one instant, one worker, dev server "
          "(SQLite file)")
    print(f"  {'workflows':<28} {'drained in s':>12} {'per s':>8} {'x bare':>7}")
    print(f"  {'bare timers (baseline)':<28} {bare:>12.1f} {count / bare:>8.1f} {1:>7.2f}")
    print(f"  {'casework cases':<28} {drained:>12.1f} {count / drained:>8.1f} "
          f"{bare / drained:>7.2f}")
    print(f"  late starts: {late}; workflow tasks failed or timed out: {troubled}")


def main(count: int = CASES) -> None:
    asyncio.run(run(count))


if __name__ == "__main__":
    main()
