"""Issue 18, part 2: a worker killed while recording a case's effects holds the case
for seconds, not for the activity's two-minute limit. The first worker is a separate
process killed with SIGKILL while its recording activity is blocked in a send; a new
worker on the same task queue must deliver the notice within seconds."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from activities.read_model import ReadModelActivities
from casework.config import Settings
from tests.activities.test_record_case_effects import CountingDeliverer, _effects
from tests.api.conftest import temporal_address
from tests.api.recording_worker import RecordingProbe, probe_worker
from tests.polling import eventually
from workflows.case_contract import RECORDING_HEARTBEAT_TIMEOUT

REPOSITORY = Path(__file__).resolve().parents[2]


async def test_a_killed_worker_holds_its_recording_for_seconds(
    temporal_env: WorkflowEnvironment, base_settings: Settings,
    sessions: async_sessionmaker[AsyncSession], unique_id: str, tmp_path: Path,
) -> None:
    queue = f"killed-worker-{unique_id}"
    environment = {**os.environ, "TEMPORAL_ADDRESS": temporal_address(temporal_env),
                   "TEMPORAL_TASK_QUEUE": queue, "DATABASE_URL": base_settings.database_url or "",
                   "CODEC_KEYS": base_settings.codec_keys or "",
                   "DATA_DIR": str(base_settings.data_dir)}
    with (tmp_path / "worker.log").open("wb") as worker_log:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.api.recording_worker", cwd=REPOSITORY,
            env=environment, stdout=asyncio.subprocess.PIPE, stderr=worker_log)
        try:
            assert child.stdout is not None
            assert await asyncio.wait_for(child.stdout.readline(), 30) == b"ready\n"
            effects = _effects(f"c-{unique_id}")
            [key] = [n.notification_key for n in effects.notifications]
            handle = await temporal_env.client.start_workflow(
                RecordingProbe.run, effects, id=f"recording-probe-{unique_id}",
                task_queue=queue)
            stuck = await asyncio.wait_for(child.stdout.readline(), 30)
            assert stuck.decode().split() == ["stuck", key]
        finally:
            if child.returncode is None:
                child.kill()  # SIGKILL: no goodbye to Temporal
            await child.wait()
    killed_at = time.monotonic()

    deliverer = CountingDeliverer()
    async with probe_worker(temporal_env.client, queue,
                            ReadModelActivities(sessions, deliverer)):

        async def delivered() -> None:
            assert deliverer.delivered == [key]

        await eventually(delivered, timeout_seconds=30)
        held_seconds = time.monotonic() - killed_at
        await asyncio.wait_for(handle.result(), 30)
    # The heartbeat timeout (counted from the last heartbeat Temporal heard) plus the
    # one-second retry, with room for a busy machine; without heartbeats it was the
    # two-minute start-to-close limit.
    assert held_seconds < RECORDING_HEARTBEAT_TIMEOUT.total_seconds() + 10, held_seconds
