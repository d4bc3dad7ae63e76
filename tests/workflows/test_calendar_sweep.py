"""Calendar sweep (issue 9): the key reporting scenario from start days where calendars
bite -- the 29th, 30th and 31st of months where "three months on" is clamped, 28 and 29
February of a leap year, both Melbourne daylight-saving change days, the eve of a
Victorian public holiday, and a Friday.

Every day is built by rule from SCENARIO_YEAR (so the sweep stays true in later years),
and every expected instant is computed here, independently of the code under test:
business days straight from the `holidays` package (AU, subdivision VIC, weekends
excluded), local times through zoneinfo. Nothing here calls workflows/deadlines.py or
workflows/business_calendar.py.

For each start day, on a fresh time-skipping server: a quarterly contract starting that
day is registered and endorsed (C5 accepts it); periods 0-2 get no report, so R1, R2
and R3 fire for each at their instants with their notices, and the third missing
period triggers R6 once; period 3's report arrives on its due date and is assessed
adequate, a success (R5) that is neither chased (R2) nor counted as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

import holidays
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.messages import AssessReport, SubmitReport
from tests.polling import eventually
from tests.workflows.conftest import (
    MELBOURNE,
    SCENARIO_START,
    SCENARIO_YEAR,
    begin_on,
    make_terms,
    notifications,
    sleep_until,
    start_case,
)
from workflows.case_contract import CaseContractWorkflow
from workflows.policy import validate_terms

PERIODS = 4
SLACK = timedelta(seconds=1)
"""How far a timer may fire from its instant on the time-skipping server."""


# ------------------------------------------------------------- the start days
def first_leap_year(year: int) -> int:
    """The first leap year on or after `year` (29 February exists)."""
    while not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        year += 1
    return year


def melbourne_dst_change_days(year: int) -> list[date]:
    """The days on which Melbourne's UTC offset changes (clocks go back in April and
    forward in October), found from zoneinfo's transitions, not from a rule of thumb."""
    def offset_at_midnight(day: date) -> timedelta | None:
        return datetime.combine(day, time(0), MELBOURNE).utcoffset()

    day, changes = date(year, 1, 1), []
    while day.year == year:
        if offset_at_midnight(day) != offset_at_midnight(day + timedelta(days=1)):
            changes.append(day)
        day += timedelta(days=1)
    return changes


@cache
def vic_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("AU", subdiv="VIC", years=range(year, year + 3))


def eve_of(holiday_name: str, year: int) -> date:
    """The day before the named AU-VIC public holiday of `year`."""
    days = [day for day, name in vic_holidays(year).items()
            if day.year == year and name == holiday_name]
    assert len(days) == 1, (holiday_name, year, days)
    return days[0] - timedelta(days=1)


def first_friday_on_or_after(day: date) -> date:
    return day + timedelta(days=(4 - day.weekday()) % 7)


def sweep_start_days(year: int) -> dict[str, date]:
    """Start days by name, all in `year` or the first leap year after it."""
    leap = first_leap_year(year)
    dst_back, dst_forward = melbourne_dst_change_days(year)
    return {
        "31-jan": date(year, 1, 31),  # -> 30 April: clamped
        "30-aug": date(year, 8, 30),  # -> 30 Nov, then 28/29 Feb: clamped, then 30 May
        "31-aug": date(year, 8, 31),  # -> 30 Nov, end of Feb: month ends all the way
        "29-nov": date(year, 11, 29),  # -> 28 Feb in a common year
        "30-nov": date(year, 11, 30),  # -> end of February
        "28-feb-leap": date(leap, 2, 28),
        "29-feb-leap": date(leap, 2, 29),  # -> 29 May, 29 Aug, 29 Nov, 28 Feb
        "dst-ends": dst_back,  # a 25-hour day (first Sunday of April)
        "dst-starts": dst_forward,  # a 23-hour day (first Sunday of October)
        "eve-of-melbourne-cup": eve_of("Melbourne Cup Day", year),
        "friday": first_friday_on_or_after(SCENARIO_START),
    }


START_DAYS = sweep_start_days(SCENARIO_YEAR)


def test_the_sweep_days_are_what_they_claim() -> None:
    """A guard on the rules above, so a later year cannot quietly sweep ordinary days."""
    days = START_DAYS
    assert days["29-feb-leap"].month == 2 and days["29-feb-leap"].day == 29
    for name in ("dst-ends", "dst-starts"):
        day = days[name]
        assert day.weekday() == 6, name  # Melbourne changes its clocks on a Sunday
        start = datetime.combine(day, time(0), MELBOURNE)
        end = datetime.combine(day + timedelta(days=1), time(0), MELBOURNE)
        hours = (end.astimezone(UTC) - start.astimezone(UTC)) / timedelta(hours=1)
        assert hours == (25 if day.month == 4 else 23), (name, hours)
    assert [days["dst-ends"].month, days["dst-starts"].month] == [4, 10]
    eve = days["eve-of-melbourne-cup"]
    assert eve + timedelta(days=1) in vic_holidays(eve.year) and eve not in vic_holidays(
        eve.year)
    assert days["friday"].weekday() == 4
    assert all(day >= date(SCENARIO_YEAR, 1, 1) for day in days.values())


# ----------------------------------------- expected instants, computed here
def is_business_day(day: date) -> bool:
    """DOMAIN "business day": a weekday that is not an AU-VIC public holiday."""
    return day.weekday() < 5 and day not in vic_holidays(day.year)


def at_local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), MELBOURNE)


@dataclass(frozen=True)
class Expected:
    follow_up: datetime  # R1
    overdue: datetime  # R2
    escalation: datetime  # R3
    period_end: datetime  # R5: the next due date begins


def expected_instants(due: date, next_due: date) -> Expected:
    """R1: the 10th business day before D (D itself never counts), 09:00 local.
    R2: the end of D, i.e. 00:00 local on D + 1. R3: the first business day on or after
    D + 28 calendar days, 09:00 local."""
    follow_up_day, counted = due, 0
    while counted < 10:
        follow_up_day -= timedelta(days=1)
        counted += is_business_day(follow_up_day)
    escalation_day = due + timedelta(days=28)
    while not is_business_day(escalation_day):
        escalation_day += timedelta(days=1)
    return Expected(follow_up=at_local(follow_up_day, 9),
                    overdue=at_local(due + timedelta(days=1), 0),
                    escalation=at_local(escalation_day, 9),
                    period_end=at_local(next_due, 0))


def _aware(instant: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; they are stored in UTC."""
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _close(actual: datetime | None, expected: datetime) -> bool:
    return actual is not None and abs(_aware(actual) - expected) < SLACK


# ------------------------------------------------------------------ the sweep
@pytest.mark.parametrize("start_day", list(START_DAYS.values()), ids=list(START_DAYS))
async def test_r1_r2_r3_r5_r6_from_a_calendar_edge(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str, start_day: date,
) -> None:
    start = await begin_on(env, start_day)
    terms = make_terms(f"c-{unique_id}", start, periods=PERIODS, interval_months=3,
                       contact_frequency_days=365)  # K1 stays quiet: R1-R6 under test
    due_dates = list(terms.schedule.due_dates)
    assert validate_terms(terms) == due_dates  # C5: quarterly from this day is accepted
    case = await start_case(env.client, worker, terms, endorse_on=start)
    assert (await case.status()).status == "active"  # C4: endorsed on the start day

    expected = [expected_instants(due, next_due) for due, next_due in zip(
        due_dates, [*due_dates[1:], terms.contract_end + timedelta(days=1)], strict=True)]
    periods = (await case.status()).state.periods
    assert [(p.due_date, p.follow_up_at, p.overdue_at, p.escalation_at, p.ends_at)
            for p in periods] == [
        (due, e.follow_up, e.overdue, e.escalation, e.period_end)
        for due, e in zip(due_dates, expected, strict=True)]

    # Periods 0-2: no report. R1, R2 and R3 fire at their instants (R3 before the next
    # period begins), and each period is MISSING once the next due date begins (R5).
    for index in range(3):
        await sleep_until(env, expected[index].escalation + timedelta(hours=1))
        period = (await case.status()).state.periods[index]
        assert _close(period.follow_up_sent_at, expected[index].follow_up), index
        assert period.overdue_marked_at == expected[index].overdue, index
        assert _close(period.escalated_at, expected[index].escalation), index

    # R6: the third missing period triggers the exception audit as period 2 ends (the
    # first moment of D3), once; D3's report then arrives on its day.
    before_d3 = expected[2].period_end - timedelta(minutes=1)
    await sleep_until(env, before_d3)
    state = (await case.status()).state
    assert [a for a in state.audits if a.rule == "R6"] == []
    assert _close(state.periods[3].follow_up_sent_at, expected[3].follow_up)
    await sleep_until(env, at_local(due_dates[3], 12))
    state = (await case.status()).state
    assert [p.outcome for p in state.periods] == ["missing"] * 3 + ["pending"]
    assert state.consecutive_failures == 3
    assert len([a for a in state.audits if a.rule == "R6"]) == 1

    # R5: on time (on D itself) and adequate is a success; it is not chased (R2).
    report_id = f"r-{unique_id}-3"
    await case.handle.execute_update(CaseContractWorkflow.submit_report,
                                     SubmitReport(report_id=report_id, period_index=3))
    assessed = await case.handle.execute_update(
        CaseContractWorkflow.assess_report, AssessReport(report_id, "adequate", "prac-1"))
    assert assessed.outcome == "success"
    await sleep_until(env, expected[3].overdue + timedelta(hours=1))
    state = (await case.status()).state
    assert [p.outcome for p in state.periods] == ["missing"] * 3 + ["success"]
    assert state.periods[3].overdue_marked_at is None
    assert state.consecutive_failures == 0
    assert len([a for a in state.audits if a.rule == "R6"]) == 1  # one streak, once
    overdue_tasks = sorted(t.task_id for t in state.tasks if t.kind == "overdue_follow_up")
    assert overdue_tasks == [f"{terms.case_id}:period-{i}:overdue_follow_up" for i in range(3)]

    # The outbox: each notice once, to its recipient, created at its instant.
    wanted = [
        *[(f"period-{i}:follow_up", "follow_up", "R1", "agency", e.follow_up)
          for i, e in enumerate(expected)],
        *[(f"period-{i}:overdue", "overdue_request", "R2", "agency", e.overdue)
          for i, e in enumerate(expected[:3])],
        *[(f"period-{i}:escalation", "escalation", "R3", "program_manager", e.escalation)
          for i, e in enumerate(expected[:3])],
        ("period-2:exception_audit", "exception_audit_liaison", "R6", "leo",
         expected[2].period_end),
    ]

    async def notices_sent() -> None:
        rows = [n for n in await notifications(sessions, terms.case_id)
                if n.rule in ("R1", "R2", "R3", "R6")]
        actual = sorted((n.notification_key.removeprefix(f"{terms.case_id}:"), n.kind,
                         n.rule, n.recipient) for n in rows)
        assert actual == sorted(w[:4] for w in wanted)
        created = {n.notification_key.removeprefix(f"{terms.case_id}:"): n.created_at
                   for n in rows}
        late = {key: (created[key], at) for key, *_, at in wanted
                if not _close(created[key], at)}
        assert late == {}

    await eventually(notices_sent)
