"""T4: ongoing co-working arrangements are reviewed every three months, on the
time-skipping server with Western Australia's calendar (AU-WA, Australia/Perth)."""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.district import (
    CoworkingInput,
    EndCoworking,
    RecordCoworkingReview,
    RequestStatus,
)
from tests.polling import eventually
from tests.workflows.conftest import SCENARIO_YEAR, begin_on, run_ids, sleep_until
from tests.workflows.test_transfers import (
    NOON,
    WA_DAY,
    end_of,
    notices,
    perth,
    requests,
    wa_holiday,
    with_deadlines,
)
from workflows.coworking import CoworkingWorkflow, coworking_workflow_id


async def test_t4_review_due_three_months_on_reminded_five_working_days_before_wa_day(
        env: WorkflowEnvironment, worker: Worker,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """Started three months before the Thursday after WA Day: the review is due by the
    end of that Thursday; the reminder goes 5 working days before, skipping WA Day (the
    Wednesday before it), and the case-managing district's ADD is told when it passes."""
    thursday = WA_DAY + timedelta(days=3)
    assert wa_holiday(WA_DAY) == "Western Australia Day"
    started = date(SCENARIO_YEAR, 3, thursday.day)
    await begin_on(env, started, NOON)
    arrangement_id = f"cw-{uuid.uuid4().hex[:8]}"
    handle = await env.client.start_workflow(
        CoworkingWorkflow.run,
        CoworkingInput(arrangement_id=arrangement_id, case_id="case-wa-3",
                       from_district="perth", to_district="midland", started_on=started),
        id=coworking_workflow_id(arrangement_id), task_queue=worker.task_queue)
    [review] = (await with_deadlines(handle, CoworkingWorkflow.status)).deadlines
    assert review.rule == "T4" and review.due_at == end_of(thursday)
    # Wed and Tue of that week (WA Day skipped), then Fri, Thu, Wed of the week before.
    assert review.remind_at == perth(WA_DAY - timedelta(days=5), time(9, 0))
    assert [s["name"] for s in review.basis["skipped"]] == ["Western Australia Day"]
    await sleep_until(env, review.due_at + timedelta(minutes=1))
    sent = await notices(sessions, coworking_workflow_id(arrangement_id))
    assert [n.kind for n in sent] == ["coworking_review_reminder", "coworking_review_overdue"]
    assert sent[1].recipient == "assistant_district_director" and "perth" in sent[1].subject
    row = await requests(sessions, "coworking", arrangement_id)
    assert row.escalated and row.status == "active"


async def test_t4_a_review_sets_the_next_three_months_from_its_day(
        env: WorkflowEnvironment, worker: Worker,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """A review held on 30 November (recorded then) makes the next due on the last day
    of February: three months on, clamped to the shorter month. Each review starts a new
    run, so the history stays small; ending the arrangement stops the reviews."""
    started = date(SCENARIO_YEAR, 9, 1)
    await begin_on(env, started, NOON)
    arrangement_id = f"cw-{uuid.uuid4().hex[:8]}"
    handle = await env.client.start_workflow(
        CoworkingWorkflow.run,
        CoworkingInput(arrangement_id=arrangement_id, case_id="case-wa-4",
                       from_district="perth", to_district="midland", started_on=started),
        id=coworking_workflow_id(arrangement_id), task_queue=worker.task_queue)
    [first] = (await with_deadlines(handle, CoworkingWorkflow.status)).deadlines
    assert first.basis["last_day"] == date(SCENARIO_YEAR, 12, 1).isoformat()
    held = date(SCENARIO_YEAR, 11, 30)
    await sleep_until(env, perth(held, time(15, 0)))
    recorded = await handle.execute_update(
        CoworkingWorkflow.record_review, RecordCoworkingReview("rv-1", held, "note-rv-1"))
    again = await handle.execute_update(
        CoworkingWorkflow.record_review, RecordCoworkingReview("rv-1", held, "note-rv-1"))
    assert again.duplicate and again.at == recorded.at
    fresh = env.client.get_workflow_handle_for(CoworkingWorkflow.run,
                                               coworking_workflow_id(arrangement_id))

    async def next_run() -> RequestStatus:
        try:
            found: RequestStatus = await fresh.query(CoworkingWorkflow.status)
        except RPCError as exc:  # the continued run's first task still running (busy CI)
            raise AssertionError(f"the next run does not answer yet: {exc}") from exc
        assert found.next_review_on is not None
        return found

    status = await eventually(next_run, timeout_seconds=60)
    assert status.reviews == ["rv-1"]
    february_end = date(SCENARIO_YEAR + 1, 3, 1) - timedelta(days=1)
    assert status.next_review_on == february_end
    assert len(await run_ids(env.client, coworking_workflow_id(arrangement_id))) == 2
    # Reminded a week before 1 December; reviewed in time, so nothing was escalated.
    assert [n.kind for n in await notices(sessions, coworking_workflow_id(
        arrangement_id))] == ["coworking_review_reminder"]
    await fresh.execute_update(CoworkingWorkflow.end, EndCoworking("add-perth"))
    assert (await fresh.result()).status == "ended"
    assert (await requests(sessions, "coworking", arrangement_id)).closed_at is not None
