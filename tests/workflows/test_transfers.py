"""T1 (case transfers), T2 (service requests) and T3 (disputes) on the time-skipping
server, counted on Western Australia's calendar (AU-WA, Australia/Perth): every expected
day is named from the `holidays` package's facts for SCENARIO_YEAR, checked in each test
(Western Australia Day is the first Monday of June, the King's Birthday in WA the last
Monday of September)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.schemas.common import to_utc
from models.district import (
    Decide,
    ReferDispute,
    RequestStatus,
    ResolveDispute,
    ServiceRequestInput,
    TransferInput,
)
from models.tables import DistrictRequestEventRow, DistrictRequestRow, NotificationRow
from tests.polling import eventually
from tests.workflows.conftest import SCENARIO_YEAR, begin_on, sleep_until
from workflows.dispute import DisputeWorkflow, dispute_workflow_id
from workflows.service_request import ServiceRequestWorkflow, service_request_workflow_id
from workflows.transfer import TransferRequestWorkflow, transfer_workflow_id

PERTH = ZoneInfo("Australia/Perth")
NOON = time(13, 0)  # Melbourne time for begin_on: 10:00 or 11:00 in Perth, same date


def first_monday_of_june(year: int) -> date:
    day = date(year, 6, 1)
    return day + timedelta(days=(7 - day.weekday()) % 7)


WA_DAY = first_monday_of_june(SCENARIO_YEAR)


def wa_holiday(day: date) -> str:
    return str(holidays.country_holidays("AU", subdiv="WA", years=day.year)[day])


def perth(day: date, at: time = time(0, 0)) -> datetime:
    return datetime.combine(day, at, PERTH)


def end_of(day: date) -> datetime:
    return perth(day + timedelta(days=1))


async def requests(sessions: async_sessionmaker[AsyncSession], kind: str, request_id: str
                   ) -> DistrictRequestRow:
    async with sessions() as session:
        row = await session.get(DistrictRequestRow, (kind, request_id))
        assert row is not None
        return row


async def notices(sessions: async_sessionmaker[AsyncSession], workflow_id: str
                  ) -> list[NotificationRow]:
    async with sessions() as session:
        rows = await session.scalars(select(NotificationRow).where(
            NotificationRow.notification_key.startswith(f"{workflow_id}:")
        ).order_by(NotificationRow.created_at))
        return list(rows)


async def events(sessions: async_sessionmaker[AsyncSession], kind: str, request_id: str
                 ) -> list[DistrictRequestEventRow]:
    async with sessions() as session:
        rows = await session.scalars(select(DistrictRequestEventRow).where(
            DistrictRequestEventRow.kind == kind,
            DistrictRequestEventRow.request_id == request_id,
        ).order_by(DistrictRequestEventRow.occurred_at))
        return list(rows)


async def with_deadlines(handle: WorkflowHandle[Any, RequestStatus],
                         query: Any) -> RequestStatus:
    """The status once the deadlines activity has answered (queries move no time)."""

    async def computed() -> RequestStatus:
        status: RequestStatus = await handle.query(query)
        assert status.deadlines
        return status

    return await eventually(computed)


async def open_transfer(client: Client, worker: Worker, *, child_in_care: bool = False
                        ) -> tuple[str, WorkflowHandle[Any, RequestStatus]]:
    request_id = f"tr-{uuid.uuid4().hex[:8]}"
    handle = await client.start_workflow(
        TransferRequestWorkflow.run,
        TransferInput(request_id=request_id, case_id="case-wa-1", from_district="perth",
                      to_district="joondalup", child_in_care=child_in_care),
        id=transfer_workflow_id(request_id), task_queue=worker.task_queue)
    await with_deadlines(handle, TransferRequestWorkflow.status)
    return request_id, handle


async def test_t1_resolve_deadline_skips_wa_day_and_escalates_to_add(
        env: WorkflowEnvironment, worker: Worker,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """Opened on the Friday before Western Australia Day: 2 working days are Tuesday and
    Wednesday (the Monday is WA Day), so the resolve deadline is the end of Wednesday;
    the team is reminded at 09:00 that Wednesday and the receiving district's ADD is
    told when it passes."""
    friday = WA_DAY - timedelta(days=3)
    assert wa_holiday(WA_DAY) == "Western Australia Day" and friday.weekday() == 4
    await begin_on(env, friday, NOON)
    request_id, handle = await open_transfer(env.client, worker)
    wednesday = WA_DAY + timedelta(days=2)
    status = await handle.query(TransferRequestWorkflow.status)
    resolve = next(d for d in status.deadlines if d.key == "resolve")
    assert resolve.rule == "T1"
    assert resolve.due_at == end_of(wednesday)
    assert resolve.remind_at == perth(wednesday, time(9, 0))
    assert [s["name"] for s in resolve.basis["skipped"]] == ["Western Australia Day"]
    complete = next(d for d in status.deadlines if d.key == "complete")
    # 5 working days after Friday, skipping WA Day: Tue, Wed, Thu, Fri, Mon.
    assert complete.due_at == end_of(WA_DAY + timedelta(days=7))

    await sleep_until(env, resolve.due_at + timedelta(minutes=1))
    workflow_id = transfer_workflow_id(request_id)
    sent = await notices(sessions, workflow_id)
    kinds = [n.kind for n in sent]
    assert kinds[:3] == ["transfer_requested", "transfer_reminder", "transfer_escalated"]
    escalation = sent[2]
    assert escalation.recipient == "assistant_district_director"
    assert timedelta(0) <= to_utc(escalation.created_at) - resolve.due_at < timedelta(seconds=5)
    assert "joondalup" in escalation.subject and escalation.rule == "T1"
    row = await requests(sessions, "transfer", request_id)
    assert row.escalated and row.status == "open" and row.next_deadline_kind == "complete"


async def test_t1_accept_then_complete_meets_both_deadlines(
        env: WorkflowEnvironment, worker: Worker,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """Accepted on time and completed on time: no reminder, no escalation, closed."""
    start = await begin_on(env, date(SCENARIO_YEAR, 3, 14), NOON)
    request_id, handle = await open_transfer(env.client, worker)
    accepted = await handle.execute_update(TransferRequestWorkflow.decide,
                                           Decide("accept", "add-joondalup"))
    assert accepted.status == "accepted" and not accepted.duplicate
    again = await handle.execute_update(TransferRequestWorkflow.decide,
                                        Decide("accept", "add-joondalup"))
    assert again.duplicate and again.at == accepted.at
    await sleep_until(env, perth(start + timedelta(days=1), time(12, 0)))
    done = await handle.execute_update(TransferRequestWorkflow.decide, Decide("complete"))
    assert done.status == "completed"
    result = await handle.result()
    assert result.status == "completed"
    assert [n.kind for n in await notices(sessions, transfer_workflow_id(request_id))] == [
        "transfer_requested"]
    row = await requests(sessions, "transfer", request_id)
    assert row.closed_at is not None and not row.escalated and row.next_deadline is None


async def test_t1_child_in_care_resolved_in_5_working_days_transferred_under_four_weeks(
        env: WorkflowEnvironment, worker: Worker) -> None:
    """Child in the CEO's care, opened the Wednesday before WA Day: resolved within 5
    working days (Thu, Fri, Tue, Wed, Thu: WA Day skipped), transferred before the day
    four weeks on begins."""
    wednesday = WA_DAY - timedelta(days=5)
    await begin_on(env, wednesday, NOON)
    _, handle = await open_transfer(env.client, worker, child_in_care=True)
    status = await handle.query(TransferRequestWorkflow.status)
    resolve, complete = status.deadlines
    assert resolve.due_at == end_of(WA_DAY + timedelta(days=3))
    assert complete.basis["unit"] == "calendar_days"
    assert complete.due_at == perth(wednesday + timedelta(days=28))
    opened = await env.get_current_time()
    assert complete.due_at - opened < timedelta(weeks=4)


async def test_t1_decisions_out_of_order_are_refused(env: WorkflowEnvironment,
                                                     worker: Worker) -> None:
    await begin_on(env, date(SCENARIO_YEAR, 3, 14), NOON)
    _, handle = await open_transfer(env.client, worker)
    await handle.execute_update(TransferRequestWorkflow.decide, Decide("complete"))
    try:
        await handle.execute_update(TransferRequestWorkflow.decide,
                                    Decide("reject", reason_id="n-1"))
    except WorkflowUpdateFailedError as exc:
        assert exc.cause is not None and exc.cause.type == "Conflict"  # type: ignore[attr-defined]
    else:
        raise AssertionError("a completed transfer cannot be rejected")


async def test_t2_service_request_escalated_after_one_working_day_across_kings_birthday(
        env: WorkflowEnvironment, worker: Worker,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """WA's King's Birthday (a Monday in late September, not Victoria's June one):
    a service request of the Friday before must be accepted by the end of Tuesday."""
    kings = next(d for d, n in holidays.country_holidays(
        "AU", subdiv="WA", years=SCENARIO_YEAR).items() if "King" in str(n))
    assert kings.month == 9 and kings.weekday() == 0
    friday = kings - timedelta(days=3)
    await begin_on(env, friday, NOON)
    request_id = f"sr-{uuid.uuid4().hex[:8]}"
    handle = await env.client.start_workflow(
        ServiceRequestWorkflow.run,
        ServiceRequestInput(request_id=request_id, case_id="case-wa-2",
                            from_district="kimberley", to_district="joondalup"),
        id=service_request_workflow_id(request_id), task_queue=worker.task_queue)
    [accept] = (await with_deadlines(handle, ServiceRequestWorkflow.status)).deadlines
    tuesday = kings + timedelta(days=1)
    assert accept.rule == "T2" and accept.due_at == end_of(tuesday)
    await sleep_until(env, end_of(kings))  # the Monday holiday passes: nothing sent yet
    assert [n.kind for n in await notices(sessions, service_request_workflow_id(
        request_id))] == ["service_requested"]
    await sleep_until(env, accept.due_at + timedelta(minutes=1))
    kinds = [n.kind for n in await notices(sessions, service_request_workflow_id(request_id))]
    assert kinds == ["service_requested", "service_reminder", "service_escalated"]


async def test_t3_rejection_climbs_the_ladder_to_a_recorded_final_decision(
        env: WorkflowEnvironment, worker: Worker,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """A transfer rejected the next day (disagreement on time): the ADDs have 1 working
    day, the district directors 2, the director 5; each passed deadline refers the
    dispute up. The director's decision and its rationale id are recorded and the
    transfer, told to proceed, now owes completion within 5 working days."""
    tuesday = WA_DAY - timedelta(days=6)
    assert tuesday.weekday() == 1
    await begin_on(env, tuesday, NOON)
    request_id, handle = await open_transfer(env.client, worker)
    await sleep_until(env, perth(tuesday + timedelta(days=1), time(11, 0)))
    rejected = await handle.execute_update(
        TransferRequestWorkflow.decide, Decide("reject", "add-joondalup", "note-reason-1"))
    assert rejected.status == "disputed" and rejected.dispute_id == f"transfer-{request_id}"
    dispute = env.client.get_workflow_handle_for(
        DisputeWorkflow.run, dispute_workflow_id(rejected.dispute_id))
    await sleep_until(env, perth(tuesday + timedelta(days=1), time(11, 30)))
    status = await with_deadlines(dispute, DisputeWorkflow.status)
    assert status.stage == "assistant_directors"
    by_key = {d.key: d for d in status.deadlines}
    # Whole process: 10 working days from the Tuesday, skipping WA Day.
    assert by_key["whole_process"].due_at == end_of(tuesday + timedelta(days=15))
    assert by_key["assistant_directors"].due_at == end_of(tuesday + timedelta(days=2))
    # The ADDs let their day pass: the district directors receive it at 00:00 on the
    # Friday, which does not count; their 2 working days skip WA Day: Tuesday, Wednesday.
    await sleep_until(env, by_key["assistant_directors"].due_at + timedelta(minutes=1))
    status = await dispute.query(DisputeWorkflow.status)
    assert status.stage == "district_directors"
    directors = next(d for d in status.deadlines if d.key == "district_directors")
    assert directors.due_at == end_of(WA_DAY + timedelta(days=2))
    assert [s["name"] for s in directors.basis["skipped"]] == ["Western Australia Day"]
    # They refer it on themselves: the director takes it at once.
    referred = await dispute.execute_update(DisputeWorkflow.refer,
                                            ReferDispute("district_directors", "dd-perth"))
    assert referred.stage == "director"
    decided = await dispute.execute_update(
        DisputeWorkflow.resolve, ResolveDispute("proceed", "note-rationale-1", "dir-ppu"))
    assert decided.status == "resolved" and decided.outcome == "proceed"
    result = await dispute.result()
    assert result.stage == "director" and result.rationale_id == "note-rationale-1"
    await sleep_until(env, (await env.get_current_time()) + timedelta(minutes=5))
    transfer = await handle.query(TransferRequestWorkflow.status)
    assert transfer.status == "accepted" and transfer.outcome == "proceed"
    assert transfer.deadlines[-1].key == "complete_after_dispute"
    logged = [(e.event, e.detail.get("stage")) for e in await events(
        sessions, "dispute", rejected.dispute_id)]
    assert ("dispute_decided", "director") in logged
    decided_event = next(e for e in await events(sessions, "dispute", rejected.dispute_id)
                         if e.event == "dispute_decided")
    assert decided_event.detail["rationale_id"] == "note-rationale-1"
    assert decided_event.detail["final"] is True
    row = await requests(sessions, "dispute", rejected.dispute_id)
    assert row.status == "resolved" and row.stage == "director"


async def test_t3_late_disagreement_and_whole_process_over_ten_working_days(
        env: WorkflowEnvironment, worker: Worker,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """A rejection after the 2 working days is recorded as late (and the ADD told);
    left alone, the dispute climbs to the director, and passing 10 working days from
    the request is escalated to the district directors and the director."""
    start = await begin_on(env, date(SCENARIO_YEAR, 3, 14), NOON)
    _, handle = await open_transfer(env.client, worker)
    status = await handle.query(TransferRequestWorkflow.status)
    resolve = status.deadlines[0]
    await sleep_until(env, resolve.due_at + timedelta(hours=10))
    rejected = await handle.execute_update(
        TransferRequestWorkflow.decide, Decide("reject", reason_id="note-reason-2"))
    assert rejected.dispute_id is not None
    dispute = env.client.get_workflow_handle_for(
        DisputeWorkflow.run, dispute_workflow_id(rejected.dispute_id))
    await sleep_until(env, (await env.get_current_time()) + timedelta(minutes=1))
    whole = next(d for d in (await with_deadlines(dispute, DisputeWorkflow.status)).deadlines
                 if d.key == "whole_process")
    assert whole.basis["counted_from"] == start.isoformat()
    await sleep_until(env, whole.due_at + timedelta(minutes=1))
    assert (await dispute.query(DisputeWorkflow.status)).stage == "director"
    kinds = [n.kind for n in await notices(sessions, dispute_workflow_id(
        rejected.dispute_id))]
    assert kinds[0] == "dispute_disagreement_late"
    assert kinds.count("dispute_overdue") == 2  # whole process: DDs and the director
    first = next(e for e in await events(sessions, "dispute", rejected.dispute_id)
                 if e.event == "dispute_opened")
    assert first.detail["on_time"] is False
