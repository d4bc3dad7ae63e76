"""The read-model activity is idempotent (issues 3 and 4): Temporal retries an activity
whose result it did not hear, and replays re-run nothing but a retried attempt writes
again -- so the same batch written twice leaves one row of each, and a notice goes out
once even when its first delivery failed, and a failed delivery never fails the
activity (the workflow would wait in it, acting on no deadline)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.notifications import deliver_undelivered, run_redelivery
from activities.read_model import ReadModelActivities
from models.effects import AuditEntry, CaseEffects, NotificationEntry, TaskEntry, TimelineEntry
from models.tables import (
    AuditRow,
    CaseRow,
    NotificationRow,
    PeriodRow,
    TaskRow,
    TimelineEventRow,
)
from tests.polling import eventually
from tests.workflows.conftest import make_terms
from workflows import effects_builder as rows
from workflows.state import CaseState, CaseStatus, PeriodState

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


class CountingDeliverer:
    """Records what it delivered; fails the first `failures` attempts like a mail
    server that is briefly down."""

    def __init__(self, failures: int = 0) -> None:
        self.delivered: list[str] = []
        self._failures = failures

    async def deliver(self, notification: NotificationRow) -> None:
        if self._failures:
            self._failures -= 1
            raise ConnectionError("mail relay unavailable")
        self.delivered.append(notification.notification_key)


def _effects(case_id: str) -> CaseEffects:
    terms = make_terms(case_id, date(2026, 11, 25), periods=1)
    state = CaseState(terms=terms, status="active")
    due = terms.schedule.due_dates[0]
    period = PeriodState(
        index=0, due_date=due, follow_up_at=NOW + timedelta(days=70),
        overdue_at=NOW + timedelta(days=90), escalation_at=NOW + timedelta(days=118),
        ends_at=NOW + timedelta(days=90), basis={})
    state.periods = [period]
    key = f"{case_id}:period-0:follow_up"
    return CaseEffects(
        case=rows.case_entry(
            CaseStatus(case_id=case_id, agency_id=terms.agency_id, status=state.status,
                       state=state, next_deadline=period.follow_up_at,
                       next_deadline_kind="follow_up", overdue=False),
            workflow_id=f"case-contract-{case_id}", now=NOW),
        periods=[rows.period_entry(period)],
        timeline=[TimelineEntry(key, NOW, "follow_up_sent", "R1", {"period_index": 0})],
        notifications=[NotificationEntry(key, "follow_up", "R1", "agency",
                                         f"Progress report due on {due}", NOW)],
        tasks=[TaskEntry(f"{case_id}:task-1", "follow_up_line_management", "R2", "Follow up",
                         "practitioner", "open", NOW)],
        audits=[AuditEntry(f"{case_id}:audit-1", "R7", "complaint_from_child_or_family",
                           "open", NOW)],
    )


async def _count(sessions: async_sessionmaker[AsyncSession], case_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with sessions() as session:
        for table in (CaseRow, PeriodRow, TimelineEventRow, NotificationRow, TaskRow, AuditRow):
            counts[table.__tablename__] = await session.scalar(
                select(func.count()).select_from(table).where(table.case_id == case_id)) or 0
    return counts


async def _record(activities: ReadModelActivities, effects: CaseEffects) -> int:
    result: int = await ActivityEnvironment().run(activities.record_case_effects, effects)
    return result


async def test_the_same_batch_twice_writes_each_row_once_and_notifies_once(
    sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    case_id = f"c-{unique_id}"
    deliverer = CountingDeliverer()
    activities = ReadModelActivities(sessions, deliverer)
    effects = _effects(case_id)
    assert await _record(activities, effects) == 1
    assert await _record(activities, effects) == 0  # the retry delivers nothing new
    assert await _count(sessions, case_id) == {
        "cases": 1, "periods": 1, "timeline_events": 1, "notifications": 1, "tasks": 1,
        "audits": 1}
    assert deliverer.delivered == [f"{case_id}:period-0:follow_up"]


async def test_a_failed_delivery_does_not_fail_the_activity_and_is_redelivered_once(
    sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    """The relay is down: the batch is still recorded (the workflow goes on with its
    deadlines), the failure is on the row, and redelivery sends it once it is back."""
    case_id = f"c-{unique_id}"
    deliverer = CountingDeliverer(failures=2)
    activities = ReadModelActivities(sessions, deliverer)
    effects = _effects(case_id)
    key = f"{case_id}:period-0:follow_up"
    assert await _record(activities, effects) == 0
    async with sessions() as session:
        row = await session.get(NotificationRow, key)
        assert row is not None and row.delivered_at is None and row.attempts == 1
        assert row.last_error is not None and "mail relay" in row.last_error
        assert await deliver_undelivered(session, deliverer, [key]) == 0  # still down
        assert await deliver_undelivered(session, deliverer, [key]) == 1
        assert await deliver_undelivered(session, deliverer, [key]) == 0
    assert deliverer.delivered == [key]
    async with sessions() as session:
        row = await session.get(NotificationRow, key)
        assert row is not None and row.delivered_at is not None and row.attempts == 3
        assert row.last_error is None


async def test_the_redelivery_loop_retries_until_delivered_and_stops_when_told(
    sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    case_id = f"c-{unique_id}"
    deliverer = CountingDeliverer(failures=3)
    await _record(ReadModelActivities(sessions, deliverer), _effects(case_id))
    stop = asyncio.Event()
    loop = asyncio.create_task(run_redelivery(sessions, deliverer, 0.05, stop))

    async def delivered() -> None:
        assert f"{case_id}:period-0:follow_up" in deliverer.delivered

    await eventually(delivered)
    stop.set()
    await asyncio.wait_for(loop, 5)
    assert deliverer.delivered.count(f"{case_id}:period-0:follow_up") == 1


async def _outbox(sessions: async_sessionmaker[AsyncSession], case_id: str,
                  attempts: list[int]) -> list[str]:
    """Undelivered notices of one case, oldest first, with the given attempt counts."""
    keys = [f"{case_id}:notice-{i}" for i in range(len(attempts))]
    async with sessions() as session:
        session.add_all(NotificationRow(
            notification_key=key, case_id=case_id, agency_id="agency-1", kind="follow_up",
            rule="R1", recipient="agency", subject="s", attempts=tried,
            created_at=NOW + timedelta(minutes=i))
            for i, (key, tried) in enumerate(zip(keys, attempts, strict=True)))
        await session.commit()
    return keys


async def test_redelivery_tries_the_least_tried_first(
    sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    """Notices that keep failing must not starve a newer one behind them."""
    keys = await _outbox(sessions, f"c-{unique_id}", [7, 7, 0])
    deliverer = CountingDeliverer()
    async with sessions() as session:
        await deliver_undelivered(session, deliverer, limit=10_000)
    ours = [key for key in deliverer.delivered if key in keys]
    assert ours == [keys[2], keys[0], keys[1]]


async def test_the_first_delivery_stops_at_its_time_budget(
    sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    """A hanging endpoint: the activity stops starting attempts well inside its own time
    limit, and leaves the rest to redelivery."""

    class Slow(CountingDeliverer):
        async def deliver(self, notification: NotificationRow) -> None:
            await asyncio.sleep(1.0)
            await super().deliver(notification)

    keys = await _outbox(sessions, f"c-{unique_id}", [0] * 5)
    deliverer = Slow()
    async with sessions() as session:
        # Attempts start at 0 s and about 1 s; the third would start after the budget.
        sent = await deliver_undelivered(session, deliverer, keys, budget_seconds=1.5)
    assert sent == 2 and deliverer.delivered == keys[:2]


async def test_issue13_a_later_recording_keeps_the_rows_basis_of_each_instant_it_omits(
    sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    """R1-R3, issue 13: a period travels into later runs without its basis; a recording
    of it names only the instants this run replanned (a calendar change) -- none at all,
    or some -- and the row keeps the basis it had of the others."""
    case_id = f"c-{unique_id}"
    activities = ReadModelActivities(sessions, CountingDeliverer())
    planned = {kind: {"rule": rule, "explanation": f"{kind} as planned"}
               for kind, rule in (("follow_up", "R1"), ("overdue", "R2"), ("escalation", "R3"))}
    effects = _effects(case_id)
    effects.periods[0].state["basis"] = planned
    await _record(activities, effects)

    async def basis() -> dict[str, object]:
        async with sessions() as session:
            row = await session.get(PeriodRow, (case_id, 0), populate_existing=True)
            assert row is not None
            return dict(row.state["basis"])

    moved = {"rule": "R2", "explanation": "overdue after the closure"}
    for sent, expected in (({}, planned), ({"overdue": moved}, {**planned, "overdue": moved}),
                           ({}, {**planned, "overdue": moved})):
        effects.periods[0].state["basis"] = sent
        await _record(activities, effects)
        assert await basis() == expected
