"""Issue 16.1: the Temporal dev server killed with SIGKILL while cases fire deadlines,
and started again on its file (`temporal server start-dev --db-filename FILE`, the
embedded default's own way of keeping cases across restarts). Timers, workflow
tasks and activities in flight survive in the file: every case's notices are each in
the outbox once, a deduplicating receiver sees each once, and the read model matches
every workflow (`casework reconcile --dry-run`)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casework.config import Settings
from casework.temporal_client import connect, ensure_search_attributes
from tests.api.conftest import running_app
from tests.faults.conftest import SCENARIO_SECONDS, reconcile_dry_run
from tests.faults.stack import (
    deadlines_at,
    dev_server,
    outbox,
    register_cases,
    sleep_until,
    worker_process,
)
from tests.faults.test_worker_killed import EXPECTED_NOTICES
from tests.polling import eventually
from tests.webhook_receiver import webhook_receiver

CASES = 6



async def test_temporal_server_sigkill_and_restart_on_its_file_loses_no_notice(
    api_settings: Settings, sessions: async_sessionmaker[AsyncSession], tmp_path: Path,
    unique_id: str,
) -> None:
    instants = tmp_path / "deadlines"
    async with asyncio.timeout(SCENARIO_SECONDS):
        with dev_server(tmp_path / "temporal.db", tmp_path / "temporal.log") as server, \
                webhook_receiver(delay_seconds=0.05) as receiver:
            settings = api_settings.model_copy(update={
                "temporal_address": server.address,
                "temporal_task_queue": f"fault-server-{unique_id}"})
            await ensure_search_attributes(await connect(settings), "default")
            async with worker_process(settings, tmp_path / "worker.log",
                                      FAULT_DEADLINES_FILE=str(instants),
                                      NOTIFICATION_WEBHOOK_URL=receiver.url), \
                    running_app(settings) as api:
                # R1 before the kill; R2 due as it dies; R3 after the restart.
                follow_up, overdue, escalation = deadlines_at(instants, 16, 22, 28)
                case_ids = await register_cases(api, CASES, "fault-server")
                assert datetime.now(UTC) < follow_up, "registration outlasted the margin"
                # The R2 notices are being recorded: the server dies mid-flight. (R2,
                # not R1: a reminder acted on only after the end of D is not sent, so
                # an R1 held past R2 would change the count -- README *Guarantees*.)
                await sleep_until(overdue)
                await asyncio.sleep(0.3)
                server.child.kill()
                await asyncio.sleep(2)
                server.start()  # the same file, the same address
                await sleep_until(escalation)

                async def all_sent() -> None:
                    rows = await outbox(sessions, case_ids)
                    for case_id in case_ids:
                        kinds = Counter(r.kind for r in rows if r.case_id == case_id)
                        assert kinds == EXPECTED_NOTICES, (case_id, kinds)
                    assert all(r.delivered_at is not None for r in rows)

                await eventually(all_sent, timeout_seconds=60)
                rows = await outbox(sessions, case_ids)
                keys = {r.notification_key for r in rows}
                posted = {key: n for key, n in receiver.posts.items() if key in keys}
                assert set(posted) == keys and max(posted.values()) <= 2, posted
                code, output = await reconcile_dry_run(settings, case_ids)
                assert code == 0, output
                assert f"{CASES} case(s) checked, 0 drifted" in output, output
