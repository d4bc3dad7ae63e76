"""Messages that arrive while the workflow waits on an activity (recording effects,
planning deadlines): nothing accepted is lost, nothing dropped comes back, and the case
keeps working. The activities are held open by a gate, so the timing is the test's. And
an activity that cannot finish its side job (delivering a notice) does not hold it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.read_model import ReadModelActivities
from activities.schedule import ScheduleActivities
from models.effects import CaseEffects
from models.envelope import install_keys
from models.messages import (
    CalendarChanged,
    RecordContact,
    RequestReview,
    ReviewOutcome,
    SubmitReport,
)
from models.schedule import ScheduleRequest, ScheduleResult
from models.tables import NotificationRow, TimelineEventRow
from tests.polling import eventually
from tests.workflows.conftest import (
    TEST_CALLER_KEYS,
    Case,
    add_months,
    begin_on,
    make_terms,
    run_ids,
    sleep_until,
    start_case,
)
from worker import build_worker, sandbox_runner
from workflows.case_contract import CaseContractWorkflow
from workflows.doors import DoorsInterceptor
from workflows.errors import CONFLICT


class Holds(Protocol):
    async def pass_through(self, argument: object) -> None: ...


class Gate:
    """Holds an activity call open, until `release()`, when `holds(call number from 1,
    argument)` says so."""

    def __init__(self, holds: Callable[[int, object], bool]) -> None:
        self._holds = holds
        self._open = asyncio.Event()
        self.held = asyncio.Event()
        self.calls: list[object] = []

    async def pass_through(self, argument: object) -> None:
        self.calls.append(argument)
        if self._holds(len(self.calls), argument) and not self._open.is_set():
            self.held.set()
            await self._open.wait()

    def release(self) -> None:
        self._open.set()


def gated_worker(env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], *,
                 schedule_gate: Holds | None = None, record_gate: Holds | None = None
                 ) -> Worker:
    read_model = ReadModelActivities(sessions)
    schedule = ScheduleActivities(sessions)

    @activity.defn(name="schedule_periods")
    async def schedule_periods(request: ScheduleRequest) -> ScheduleResult:
        if schedule_gate is not None:
            await schedule_gate.pass_through(request)
        return await schedule.schedule_periods(request)

    @activity.defn(name="record_case_effects")
    async def record_case_effects(effects: CaseEffects) -> int:
        if record_gate is not None:
            await record_gate.pass_through(effects)
        return await read_model.record_case_effects(effects)

    install_keys(TEST_CALLER_KEYS)
    return Worker(env.client, task_queue=f"tq-{uuid.uuid4().hex[:8]}",
                  workflows=[CaseContractWorkflow],
                  activities=[schedule_periods, record_case_effects],
                  workflow_runner=sandbox_runner(strict=True),
                  interceptors=[DoorsInterceptor()])


def after_first_call(number: int, _: object) -> bool:
    """Every call but the first (the first run's own schedule)."""
    return number > 1


async def _request_reviews(case: Case, *review_ids: str) -> None:
    for review_id in review_ids:
        await case.handle.execute_update(
            CaseContractWorkflow.request_review,
            RequestReview(review_id=review_id, kind="case_plan",
                          requested_by_role="practitioner"))


async def _workflow_task_failures(handle: object) -> list[str]:
    history = await handle.fetch_history()  # type: ignore[attr-defined]
    return [e.workflow_task_failed_event_attributes.failure.message for e in history.events
            if e.HasField("workflow_task_failed_event_attributes")]


async def test_e1_return_to_cp_while_deadlines_are_recomputed(
    env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    """The recompute's answer has a period per old due date; the return to CP cut them
    meanwhile. The case must still close its contract, not fail every workflow task."""
    gate = Gate(after_first_call)
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start)
    async with gated_worker(env, sessions, schedule_gate=gate) as worker:
        case = await start_case(env.client, worker, terms, endorse_on=start)
        await _request_reviews(case, "rv")
        await case.handle.signal(CaseContractWorkflow.calendar_changed, CalendarChanged(
            event_id="closure", extra_closures=[terms.schedule.due_dates[1] - timedelta(days=3)]))
        await asyncio.wait_for(gate.held.wait(), 10)
        returned = await case.handle.execute_update(
            CaseContractWorkflow.record_review_outcome,
            ReviewOutcome(review_id="rv", return_to_cp=True))
        assert returned.contract_status == "closing"
        gate.release()

        async def settled() -> None:
            status = await case.status()
            assert (status.state.status, status.state.periods) == ("closing", [])
            async with sessions() as session:
                recorded = list(await session.scalars(select(TimelineEventRow.kind).where(
                    TimelineEventRow.case_id == terms.case_id,
                    TimelineEventRow.kind == "deadlines_recomputed")))
            assert recorded == ["deadlines_recomputed"]

        await eventually(settled)
        assert await _workflow_task_failures(case.handle) == []


async def test_v5_a_report_that_arrives_during_a_reschedule_is_kept(
    env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    """The new schedule was checked against the periods as they were; a report reaching
    period 0 while the deadlines are planned settles it, so it keeps its date and the
    report, and the new dates follow it."""
    gate = Gate(after_first_call)
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start)
    first_due = terms.schedule.due_dates[0]
    async with gated_worker(env, sessions, schedule_gate=gate) as worker:
        case = await start_case(env.client, worker, terms, endorse_on=start)
        await _request_reviews(case, "rv")
        new_dates = [add_months(start, 2 * (i + 1)) for i in range(6)]
        await case.handle.execute_update(
            CaseContractWorkflow.record_review_outcome,
            ReviewOutcome(review_id="rv", new_due_dates=new_dates))
        await asyncio.wait_for(gate.held.wait(), 10)
        accepted = await case.handle.execute_update(
            CaseContractWorkflow.submit_report, SubmitReport(report_id="rep-1", period_index=0))
        assert accepted.due_date == first_due
        gate.release()

        expected: list[date] = [first_due, *[d for d in new_dates if d > first_due]]

        async def kept() -> None:
            periods = (await case.status()).state.periods
            assert [p.due_date for p in periods] == expected
            assert [r.report_id for r in periods[0].reports] == ["rep-1"]

        await eventually(kept)
        assert len(gate.calls) == 3  # first run, the review's plan, the plan again around it


async def test_v5_a_second_schedule_change_waits_for_the_first(
    env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    """While one review's new schedule is being planned, another that changes the
    schedule is refused (409, send again): built on the old periods, it would undo the
    first. Once applied, the second goes through."""
    gate = Gate(after_first_call)
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start)
    async with gated_worker(env, sessions, schedule_gate=gate) as worker:
        case = await start_case(env.client, worker, terms, endorse_on=start)
        await _request_reviews(case, "rv-1", "rv-2")
        new_dates = [add_months(start, 2 * (i + 1)) for i in range(6)]
        await case.handle.execute_update(
            CaseContractWorkflow.record_review_outcome,
            ReviewOutcome(review_id="rv-1", new_due_dates=new_dates))
        await asyncio.wait_for(gate.held.wait(), 10)
        renewal = ReviewOutcome(review_id="rv-2", new_contract_end=add_months(start, 14))
        try:
            await case.handle.execute_update(CaseContractWorkflow.record_review_outcome,
                                             renewal)
        except WorkflowUpdateFailedError as exc:
            assert isinstance(exc.cause, ApplicationError)
            assert exc.cause.type == CONFLICT
            assert exc.cause.details[0]["rule"] == "V5"
        else:
            raise AssertionError("the second schedule change should wait")
        gate.release()

        async def first_applied() -> None:
            state = (await case.status()).state
            assert state.reschedule_due_dates is None
            assert [p.due_date for p in state.periods] == new_dates

        await eventually(first_applied)
        recorded = await case.handle.execute_update(
            CaseContractWorkflow.record_review_outcome, renewal)
        assert "contract_end" in recorded.changed


async def test_e1_return_to_cp_during_a_reschedule_brings_no_period_back(
    env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    gate = Gate(after_first_call)
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start)
    async with gated_worker(env, sessions, schedule_gate=gate) as worker:
        case = await start_case(env.client, worker, terms, endorse_on=start)
        await _request_reviews(case, "rv-1", "rv-2")
        await case.handle.execute_update(
            CaseContractWorkflow.record_review_outcome,
            ReviewOutcome(review_id="rv-1",
                          new_due_dates=[add_months(start, 2 * (i + 1)) for i in range(6)]))
        await asyncio.wait_for(gate.held.wait(), 10)
        await case.handle.execute_update(CaseContractWorkflow.record_review_outcome,
                                         ReviewOutcome(review_id="rv-2", return_to_cp=True))
        gate.release()

        async def stays_ended() -> None:
            state = (await case.status()).state
            assert state.reschedule_due_dates is None
            assert (state.status, state.periods) == ("closing", [])

        await eventually(stays_ended)
        await env.sleep(timedelta(minutes=5))
        assert (await case.status()).state.periods == []


async def test_a_message_during_the_last_recording_before_continue_as_new_is_recorded(
    env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    """c1's batch is held while c2 arrives; released, the loop finds it is time to
    continue-as-new and records c2 just before; c3 arrives while that batch is held. All
    three rows must be written (c3 was carried in the state but its row was dropped
    with the run)."""
    gates = {number: asyncio.Event() for number in (1, 2)}
    held = {number: asyncio.Event() for number in (1, 2)}

    class HoldContacts:
        async def pass_through(self, argument: object) -> None:
            assert isinstance(argument, CaseEffects)
            for number in (1, 2):
                if any(e.event_key.endswith(f":contact:c{number}") for e in argument.timeline):
                    held[number].set()
                    await gates[number].wait()

    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start)
    gate = HoldContacts()
    async with gated_worker(env, sessions, record_gate=gate) as worker:
        case = await start_case(env.client, worker, terms, endorse_on=start,
                                continue_as_new_after_events=20)

        def contact(number: int) -> RecordContact:
            return RecordContact(contact_id=f"c{number}", occurred_on=start, kind="direct",
                                 by_role="practitioner")

        await case.handle.signal("record_contact", contact(1))
        await asyncio.wait_for(held[1].wait(), 10)
        await case.handle.signal("record_contact", contact(2))
        await asyncio.sleep(0.5)
        gates[1].set()
        await asyncio.wait_for(held[2].wait(), 10)
        await case.handle.signal("record_contact", contact(3))
        await asyncio.sleep(0.5)
        gates[2].set()

        async def all_recorded() -> None:
            async with sessions() as session:
                keys = set(await session.scalars(select(TimelineEventRow.event_key).where(
                    TimelineEventRow.case_id == terms.case_id,
                    TimelineEventRow.kind == "contact_recorded")))
            assert keys == {f"{terms.case_id}:contact:c{n}" for n in (1, 2, 3)}

        await eventually(all_recorded)
        assert len(await run_ids(env.client, case.handle.id)) >= 2


class RelayDown:
    """A deliverer whose endpoint never answers."""

    def __init__(self) -> None:
        self.attempts = 0

    async def deliver(self, notification: NotificationRow) -> None:
        self.attempts += 1
        raise ConnectionError("agency endpoint unreachable")


async def test_r1_r2_an_unreachable_endpoint_does_not_hold_the_case(
    env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    """Notices that cannot be delivered wait in the outbox; the case still reminds, marks
    overdue and opens its task on time (it used to retry the recording for ever)."""
    relay = RelayDown()
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start)
    async with build_worker(env.client, f"tq-{uuid.uuid4().hex[:8]}", sessions,
                            deliverer=relay, strict_sandbox=True,
                            caller_keys=TEST_CALLER_KEYS) as worker:
        case = await start_case(env.client, worker, terms, endorse_on=start)
        first = (await case.status()).state.periods[0]
        await sleep_until(env, first.overdue_at + timedelta(hours=1))
        state = (await case.status()).state
        assert state.periods[0].follow_up_sent_at is not None
        assert state.periods[0].overdue_marked_at == first.overdue_at
        assert "overdue_follow_up" in {t.kind for t in state.open_tasks()}
    async with sessions() as session:
        undelivered = list(await session.scalars(select(NotificationRow.kind).where(
            NotificationRow.case_id == terms.case_id, NotificationRow.delivered_at.is_(None))))
    assert {"follow_up", "overdue_request"} <= set(undelivered)
    assert relay.attempts >= len(undelivered)
