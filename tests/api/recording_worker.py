"""A worker process whose recording activity gets stuck sending a notice, for
tests/api/test_recording_worker_killed.py, which kills it (SIGKILL) there: the way a
worker dies in production, without a word to Temporal.

Run as `python -m tests.api.recording_worker`; settings come from the environment
(TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE, DATABASE_URL, CODEC_KEYS). Prints `ready`, then
`stuck <notification key>` once the recording activity is blocked in a send."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.read_model import ReadModelActivities
from casework.config import Settings
from casework.db import engine_for, make_session_factory
from casework.temporal_client import connect
from models.effects import CaseEffects
from models.tables import NotificationRow
from workflows.case_contract import record_effects


@workflow.defn(name="RecordingProbe")
class RecordingProbe:
    """Records one batch exactly as a case's workflow does (`record_effects`: the same
    activity with the same timeouts and retries)."""

    @workflow.run
    async def run(self, effects: CaseEffects) -> None:
        await record_effects(effects, f"record effects of {effects.case.case_id}")


class StuckDeliverer:
    """Never finishes a send: the activity is in flight when the process is killed."""

    async def deliver(self, notification: NotificationRow) -> None:
        print(f"stuck {notification.notification_key}", flush=True)
        await asyncio.Event().wait()


def probe_worker(client: Client, task_queue: str, activities: ReadModelActivities) -> Worker:
    """The probe's worker, the same in this process and in the test's."""
    return Worker(client, task_queue=task_queue, workflows=[RecordingProbe],
                  activities=[activities.record_case_effects],
                  workflow_runner=UnsandboxedWorkflowRunner())


async def main() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    engine = engine_for(settings)
    client = await connect(settings)
    worker = probe_worker(client, settings.temporal_task_queue,
                          ReadModelActivities(make_session_factory(engine), StuckDeliverer()))
    print("ready", flush=True)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
