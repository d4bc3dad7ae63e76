"""The service's own worker (worker.py `running_worker`: `build_worker` with its caller
keys and DoorsInterceptor, and outbox redelivery) as a separate process, for the fault
suite to kill with SIGKILL -- the way a worker dies in production, without a word to
Temporal.

One change from production: the first period's R1, R2 and R3 instants are moved to
fixed instants seconds ahead (three epoch seconds, read at each call from the file
named by `FAULT_DEADLINES_FILE`, which the test writes once the worker is ready), so
real deadlines fire inside a test. They are fixed, not "now + n", so a worker started
again computes the very same instants. Everything else (the calendar, the other
periods, the workflow, recording, delivery) is the real thing.

Run as `python -m tests.faults.fault_worker`; settings come from the environment
(TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE, DATABASE_URL, CODEC_KEYS, DATA_DIR,
NOTIFICATION_WEBHOOK_URL, NOTIFICATION_RETRY_SECONDS). Prints `ready` once polling."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

from temporalio import activity

import worker
from activities.schedule import ScheduleActivities
from casework.config import Settings
from casework.temporal_client import connect
from models.schedule import ScheduleRequest, ScheduleResult


def _instants() -> list[datetime]:
    text = Path(os.environ["FAULT_DEADLINES_FILE"]).read_text()
    return [datetime.fromtimestamp(float(value), UTC) for value in text.split(",")]


class SoonSchedule(ScheduleActivities):
    """The real schedule, its first period's three instants moved to the file's."""

    @activity.defn(name="schedule_periods")
    async def schedule_periods(self, request: ScheduleRequest) -> ScheduleResult:
        result = await super().schedule_periods(request)
        first = result.periods[0]
        first.follow_up_at, first.overdue_at, first.escalation_at = _instants()
        return result


async def main() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    worker.ScheduleActivities = SoonSchedule  # type: ignore[misc]
    client = await connect(settings)
    async with worker.running_worker(client, settings):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
