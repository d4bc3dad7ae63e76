"""Issue 16.1: PostgreSQL unreachable for a while -- a throw-away cluster of the test's
own, stopped hard (every connection cut, new ones refused) and started again on its
files -- while cases fire their R1 deadline.

During the outage the API answers at once with 503 problem+json naming `database` (a
report refused so did not arrive); the workflows act on their deadlines and wait for
their recording activities, retried until the database answers. After it every notice
is in the outbox exactly once (those of the outage caught up), the same reports POSTed
again are accepted -- late: R5 counts the arrival the API accepted, not the refused
attempt -- and the read model matches every workflow (`casework reconcile --dry-run`)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.testing import WorkflowEnvironment

from casework.config import Settings
from casework.db import engine_for, make_session_factory
from casework.migrate import upgrade_to_head_async
from tests.api.conftest import assert_problem, running_app, wait_idle
from tests.faults.conftest import SCENARIO_SECONDS, reconcile_dry_run
from tests.faults.stack import deadlines_at, outbox, register_cases, sleep_until, worker_process
from tests.faults.throwaway_postgres import throwaway_cluster, unavailable_reason
from tests.polling import eventually

CASES = 6
REPORTING = 3
"""The first REPORTING cases try to report during the outage, and again after it."""
EXPECTED = Counter({"contract_copy": 2, "reporting_schedule": 1, "follow_up": 1,
                    "overdue_request": 1, "escalation": 1})
"""Per case: C6 at endorsement, then R1 (during the outage), R2 and R3 (after it; the
reports come after all three).

Why R1 alone falls in the outage: a workflow records each batch of effects before it
acts on its next deadline, so an outage holds its later deadlines back until the
database returns; a reminder (R1) that comes due but is only acted on after the end of
D is no longer sent (workflows/engine.py `_follow_up`). In production the instants are
days apart, so only an outage of days could cost a reminder; R2 and R3 are never
skipped, only late."""



async def test_database_unreachable_answers_503_and_everything_catches_up(
    api_settings: Settings, temporal_env: WorkflowEnvironment, tmp_path: Path,
    unique_id: str,
) -> None:
    if (reason := unavailable_reason()) is not None:
        pytest.skip(reason)
    async with asyncio.timeout(SCENARIO_SECONDS):
        with throwaway_cluster() as cluster:
            admin = create_async_engine(cluster.url(), isolation_level="AUTOCOMMIT")
            async with admin.connect() as connection:
                await connection.execute(text('CREATE DATABASE "casework"'))
            await admin.dispose()
            await upgrade_to_head_async(cluster.url("casework"))
            settings = api_settings.model_copy(update={
                "database_url": cluster.url("casework"),
                "temporal_task_queue": f"fault-db-{unique_id}",
                "database_connect_timeout_seconds": 1.0,
                "database_statement_timeout_seconds": 2.0,
                "database_pool_timeout_seconds": 1.0,
                "data_dir": tmp_path / "data"})
            engine = engine_for(settings)
            sessions = make_session_factory(engine)
            instants = tmp_path / "deadlines"
            try:
                async with worker_process(settings, tmp_path / "worker.log",
                                          FAULT_DEADLINES_FILE=str(instants)), \
                        running_app(settings, temporal_env.client) as api:
                    follow_up, overdue, escalation = deadlines_at(instants, 24, 32, 38)
                    case_ids = await register_cases(api, CASES, "fault-db")
                    reporting = case_ids[:REPORTING]

                    # Endorsements recorded and their notices marked sent: nothing in
                    # flight, so R1 is the first thing the outage holds up.
                    for case_id in case_ids:
                        await wait_idle(api, case_id)
                    assert datetime.now(UTC) < follow_up, "registration outlasted the margin"
                    cluster.stop_hard()  # R1 fires while it is down
                    for case_id in reporting:
                        refused = await api.post(f"/cases/{case_id}/reports", json={
                            "report_id": f"rep-{case_id}", "period_index": 0})
                        assert assert_problem(refused, 503)["component"] == "database"
                    listing = await api.get("/cases")
                    assert assert_problem(listing, 503)["component"] == "database"
                    ready = await api.get("/readyz")
                    assert ready.status_code == 503 and "database" in ready.text, ready.text
                    await sleep_until(follow_up)
                    await asyncio.sleep(2)
                    cluster.start()
                    await sleep_until(escalation)

                    async def caught_up() -> None:
                        rows = await outbox(sessions, case_ids)
                        for case_id in case_ids:
                            kinds = Counter(r.kind for r in rows if r.case_id == case_id)
                            assert kinds == EXPECTED, (case_id, kinds)

                    await eventually(caught_up, timeout_seconds=45)

                    async def reported(case_id: str) -> None:
                        answer = await api.post(f"/cases/{case_id}/reports", json={
                            "report_id": f"rep-{case_id}", "period_index": 0})
                        assert answer.status_code in (200, 201, 202), answer.text

                    for case_id in reporting:
                        await eventually(partial(reported, case_id), timeout_seconds=30)

                    async def one_late_report(case_id: str) -> None:
                        view = (await api.get(f"/cases/{case_id}")).json()
                        [report] = view["periods"][0]["reports"]
                        assert report["report_id"] == f"rep-{case_id}"
                        assert datetime.fromisoformat(report["received_at"]) > overdue
                        assert view["periods"][0]["outcome"] == "late"

                    for case_id in reporting:
                        await eventually(partial(one_late_report, case_id))
                    code, output = await reconcile_dry_run(settings, case_ids)
                    assert code == 0, output
                    assert f"{CASES} case(s) checked, 0 drifted" in output, output
            finally:
                await engine.dispose()
