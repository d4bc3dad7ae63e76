"""Calendar changes reach live cases (issue 3, R1-R3): a closure day declared after a
case started moves the deadlines that have not passed; what was already sent is not
sent again, and a repeat of the same change does nothing more."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.messages import CalendarChanged
from models.tables import NotificationRow, TimelineEventRow
from tests.polling import eventually
from tests.workflows.conftest import (
    MELBOURNE,
    begin_on,
    make_terms,
    notifications,
    sleep_until,
    start_case,
)
from workflows.business_calendar import BusinessCalendar, CalendarSpec
from workflows.case_contract import CaseContractInput, CaseContractWorkflow, workflow_id_for
from workflows.deadlines import FOLLOW_UP_BUSINESS_DAYS


async def test_declared_closure_moves_future_follow_up_and_resends_nothing(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    first, second = (await case.status()).state.periods
    await sleep_until(env, first.follow_up_at + timedelta(hours=1))
    sent_at = (await case.status()).state.periods[0].follow_up_sent_at
    assert sent_at is not None

    # A one-off closure on a business day inside the second period's ten-day window,
    # and one inside the first period's window (its follow-up has already gone).
    plain = BusinessCalendar(CalendarSpec())
    closure = plain.shift_business_days(second.due_date, -3)
    passed = plain.shift_business_days(first.due_date, -3)
    change = CalendarChanged(event_id=f"closure-{unique_id}", extra_closures=[closure, passed])
    await case.handle.signal("calendar_changed", change)

    closed = BusinessCalendar(CalendarSpec(extra_closures=(closure, passed)))
    expected_day = closed.shift_business_days(second.due_date, -FOLLOW_UP_BUSINESS_DAYS)
    expected = datetime.combine(expected_day, time(9), MELBOURNE)
    assert expected < second.follow_up_at  # one more day to skip: earlier

    async def moved() -> None:
        periods = (await case.status()).state.periods
        assert periods[1].follow_up_at == expected
        assert str(closure) in str(periods[1].basis["follow_up"])
        assert periods[0].follow_up_at == first.follow_up_at  # already sent: unchanged
        assert periods[0].follow_up_sent_at == sent_at

    await eventually(moved)
    await case.handle.signal("calendar_changed", change)  # the same change again
    await sleep_until(env, expected + timedelta(hours=2))
    sent = (await case.status()).state.periods[1].follow_up_sent_at
    assert sent is not None and abs(sent - expected) < timedelta(seconds=1)  # at the new time

    async def recorded() -> None:
        async with sessions() as session:
            notices = list(await session.scalars(select(NotificationRow.notification_key).where(
                NotificationRow.case_id == terms.case_id, NotificationRow.kind == "follow_up")))
            events = list(await session.scalars(select(TimelineEventRow.kind).where(
                TimelineEventRow.case_id == terms.case_id)))
        assert sorted(notices) == [f"{terms.case_id}:period-0:follow_up",
                                   f"{terms.case_id}:period-1:follow_up"]
        assert events.count("deadlines_recomputed") == 1

    await eventually(recorded)


async def test_a_change_accepted_before_continue_as_new_reaches_the_next_run(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    """The change is kept in the carried state, not on the run: a run that starts with
    an accepted but unapplied change applies it (the signal's id is already answered,
    so a repeat could not bring it back)."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    state = (await case.status()).state
    second = state.periods[1]
    closure = BusinessCalendar(CalendarSpec()).shift_business_days(second.due_date, -3)
    change = CalendarChanged(event_id=f"closure-{unique_id}", extra_closures=[closure])
    state.answered[f"calendar:{change.event_id}"] = {"event_id": change.event_id}
    state.calendar_changes = [change]  # as the signal handler leaves it
    await case.handle.terminate("replaced by a run carrying the state")
    next_run = await env.client.start_workflow(
        CaseContractWorkflow.run, CaseContractInput(terms=terms, state=state),
        id=workflow_id_for(terms.case_id), task_queue=worker.task_queue)

    expected_day = BusinessCalendar(CalendarSpec(extra_closures=(closure,))
                                    ).shift_business_days(second.due_date,
                                                          -FOLLOW_UP_BUSINESS_DAYS)

    async def applied() -> None:
        carried = (await next_run.query(CaseContractWorkflow.status)).state
        assert carried.periods[1].follow_up_at == datetime.combine(expected_day, time(9),
                                                                   MELBOURNE)
        assert carried.calendar_changes == []
        assert closure in carried.terms.extra_closures

    await eventually(applied)


async def test_r1_a_closure_that_moves_the_reminder_into_the_past_sends_it_at_once(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """Two hours before the follow-up, a closure inside its ten business days moves it a
    business day earlier: already past. It goes at once, once, and says why."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    first = (await case.status()).state.periods[0]
    await sleep_until(env, first.follow_up_at - timedelta(hours=2))
    declared_at = await env.get_current_time()
    closure = BusinessCalendar(CalendarSpec()).shift_business_days(first.due_date, -3)
    await case.handle.signal("calendar_changed", CalendarChanged(
        event_id=f"closure-{unique_id}", extra_closures=[closure]))

    async def sent_at_once() -> None:
        period = (await case.status()).state.periods[0]
        assert period.follow_up_sent_at is not None
        assert declared_at <= period.follow_up_sent_at < declared_at + timedelta(hours=1)
        assert period.follow_up_at == period.follow_up_sent_at
        assert "sent at once" in str(period.basis["follow_up"]["note"])
        follow_ups = [n for n in await notifications(sessions, terms.case_id)
                      if n.kind == "follow_up"]
        assert len(follow_ups) == 1

    await eventually(sent_at_once)
    await sleep_until(env, first.follow_up_at + timedelta(hours=1))  # the old instant
    period = (await case.status()).state.periods[0]
    assert period.follow_up_sent_at < first.follow_up_at
