"""A report sent while no worker runs its case, across the deadline (R5, issue 9.3), on
the real dev server in real time.

The case runs on a task queue of its own, served by a worker this test starts, stops
and starts again. Its schedule is the real one except that the first report's R2
deadline (the end of D) is moved to a few seconds after scheduling, so a real outage
can span a real deadline within the test; nothing depends on the date it runs on."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.read_model import ReadModelActivities
from activities.schedule import ScheduleActivities
from api import case_gateway
from casework.codec import EncryptionCodec
from casework.config import Settings
from models.envelope import install_keys
from models.schedule import ScheduleRequest, ScheduleResult
from tests.api.conftest import active_case, running_app, wait_idle
from tests.polling import eventually
from worker import sandbox_runner
from workflows.case_contract import CaseContractWorkflow
from workflows.doors import DoorsInterceptor

DEADLINE_SECONDS = 15
"""From scheduling to the first period's R2 deadline: room to register, endorse, stop
the worker and send the report on a busy machine, before it passes."""


class DeadlineSoon:
    """The real schedule activity, with the first period's end of D moved to
    DEADLINE_SECONDS from now (its R1 reminder due at once)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._real = ScheduleActivities(sessions)
        self.overdue_at: datetime | None = None

    @activity.defn(name="schedule_periods")
    async def schedule_periods(self, request: ScheduleRequest) -> ScheduleResult:
        result = await self._real.schedule_periods(request)
        now = datetime.now(UTC)
        first = result.periods[0]
        first.follow_up_at = now
        first.overdue_at = self.overdue_at = now + timedelta(seconds=DEADLINE_SECONDS)
        return result


def _worker(client: Client, task_queue: str, sessions: async_sessionmaker[AsyncSession],
            schedule: DeadlineSoon) -> Worker:
    codec = client.data_converter.payload_codec
    assert isinstance(codec, EncryptionCodec)
    install_keys(codec.caller_keys)  # as build_worker does: envelopes verify (issue 10)
    return Worker(client, task_queue=task_queue, workflows=[CaseContractWorkflow],
                  activities=[schedule.schedule_periods,
                              ReadModelActivities(sessions).record_case_effects],
                  workflow_runner=sandbox_runner(strict=True),
                  interceptors=[DoorsInterceptor()])


async def test_r5_report_sent_while_no_worker_runs_the_case_is_202_and_on_time(
    api_settings: Settings, temporal_env: WorkflowEnvironment, service_client: Client,
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker stops before the end of D; the report POSTed then answers 202 (stored
    as a signal) with its `received_at`; D ends; a worker starts again. The report
    arrived when the API accepted it: on time, no R2 overdue request, success after an
    adequate assessment -- and a retry answers 200 with that same arrival."""
    monkeypatch.setattr(case_gateway, "UPDATE_ACCEPT_SECONDS", 2.0)
    queue = f"outage-{uuid.uuid4().hex[:8]}"
    settings = api_settings.model_copy(update={"temporal_task_queue": queue})
    schedule = DeadlineSoon(sessions)
    async with running_app(settings, temporal_env.client) as api:
        async with _worker(service_client, queue, sessions, schedule):
            case_id = await active_case(api, "outage")
        assert schedule.overdue_at is not None
        report = {"report_id": f"rep-{case_id}", "period_index": 0}
        pending = await api.post(f"/cases/{case_id}/reports", json=report)
        assert pending.status_code == 202, pending.text
        assert pending.headers["location"] == f"/cases/{case_id}"
        body = pending.json()
        assert body["status"] == "accepted" and body["report_id"] == report["report_id"]
        received_at = datetime.fromisoformat(body["received_at"])
        assert received_at < schedule.overdue_at, "the test machine was too slow"
        await asyncio.sleep((schedule.overdue_at - datetime.now(UTC)).total_seconds() + 1)
        async with _worker(service_client, queue, sessions, schedule):
            async def applied() -> dict[str, object]:
                view = await api.get(f"/cases/{case_id}")
                assert view.status_code == 200, view.text
                period: dict[str, object] = view.json()["periods"][0]
                assert period["reports"], period
                return period

            period = await eventually(applied, timeout_seconds=90)
            reports = period["reports"]
            assert isinstance(reports, list) and len(reports) == 1
            assert datetime.fromisoformat(reports[0]["received_at"]) == received_at
            assert period["overdue_marked_at"] is None
            again = await api.post(f"/cases/{case_id}/reports", json=report)
            assert again.status_code == 200, again.text
            assert again.json()["duplicate"] and again.json()["on_time"]
            assert datetime.fromisoformat(again.json()["received_at"]) == received_at
            assessed = await api.post(
                f"/cases/{case_id}/reports/{report['report_id']}/assessment",
                json={"assessment": "adequate", "assessed_by": "prac-1"})
            assert assessed.status_code == 200, assessed.text
            assert assessed.json()["outcome"] == "success"
            await wait_idle(api, case_id)
            notices = await api.get("/notifications", params={"case_id": case_id})
            kinds = [n["kind"] for n in notices.json()["items"]]
            assert "follow_up" in kinds and "overdue_request" not in kinds
