"""Property tests (issue 16.2) for the R1-R3 instants of workflows/deadlines.py: for any
due date in any year the `holidays` package covers, in every supported jurisdiction
and its time zone, the three instants are ordered and fall where the rules say, with
daylight saving applied by the zone in force on that local date.

The expected days are counted here from the `holidays` package directly (and weekdays),
not through workflows/business_calendar.py, so a bug shared by the calendar and the
deadlines cannot hide itself."""

from __future__ import annotations

from datetime import date, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.business_calendar import BusinessCalendar, CalendarSpec
from workflows.deadlines import (
    ESCALATION_CALENDAR_DAYS,
    FOLLOW_UP_BUSINESS_DAYS,
    period_deadlines,
)

JURISDICTIONS = {
    "AU-VIC": "Australia/Melbourne", "AU-NSW": "Australia/Sydney",
    "AU-ACT": "Australia/Sydney", "AU-TAS": "Australia/Hobart",
    "AU-SA": "Australia/Adelaide", "AU-QLD": "Australia/Brisbane",
    "AU-WA": "Australia/Perth", "AU-NT": "Australia/Darwin",
}
CALENDARS = {j: BusinessCalendar(CalendarSpec(jurisdiction=j, time_zone=zone))
             for j, zone in JURISDICTIONS.items()}

due_dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))
jurisdictions = st.sampled_from(sorted(JURISDICTIONS))


@cache
def _public_holidays(jurisdiction: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("AU", subdiv=jurisdiction.removeprefix("AU-"),
                                               years=year))


def is_business_day(jurisdiction: str, day: date) -> bool:
    """Reference: a weekday that is not a public holiday of the jurisdiction."""
    return day.weekday() < 5 and day not in _public_holidays(jurisdiction, day.year)


def _days(first: date, last: date) -> list[date]:
    """Every day from `first` up to but not including `last`."""
    return [first + timedelta(days=n) for n in range((last - first).days)]


@settings(max_examples=150, deadline=None)
@given(due=due_dates, jurisdiction=jurisdictions)
def test_r1_r2_r3_instants_are_ordered_and_on_the_days_the_rules_name(
        due: date, jurisdiction: str) -> None:
    zone = ZoneInfo(JURISDICTIONS[jurisdiction])
    deadlines = period_deadlines(due, CALENDARS[jurisdiction])
    follow_up, overdue, escalation = (deadlines.follow_up, deadlines.overdue,
                                      deadlines.escalation)
    assert follow_up.at < overdue.at < escalation.at

    # R1: a business day with exactly ten business days from it up to D (D never counts).
    reminder_day = follow_up.basis.local_date
    assert is_business_day(jurisdiction, reminder_day)
    counted = [d for d in _days(reminder_day, due) if is_business_day(jurisdiction, d)]
    assert len(counted) == FOLLOW_UP_BUSINESS_DAYS
    # R2: local midnight that ends D, on the wall clock whatever the offset that day.
    # R3: the first business day on or after D + 28 calendar days.
    four_weeks_on = due + timedelta(days=ESCALATION_CALENDAR_DAYS)
    letter_day = escalation.basis.local_date
    assert letter_day >= four_weeks_on and is_business_day(jurisdiction, letter_day)
    assert not any(is_business_day(jurisdiction, d) for d in _days(four_weeks_on, letter_day))

    # DST-safe: each UTC instant reads back as the stated local date and time.
    for deadline, local_date, local_time in (
            (follow_up, reminder_day, time(9, 0)),
            (overdue, due + timedelta(days=1), time(0, 0)),
            (escalation, letter_day, time(9, 0))):
        assert deadline.at.utcoffset() == timedelta(0)
        local = deadline.at.astimezone(zone)
        assert (local.date(), local.time()) == (local_date, local_time), deadline.basis


@settings(max_examples=40, deadline=None)
@given(due=due_dates, jurisdiction=jurisdictions, shift=st.integers(1, 120))
def test_r1_r2_r3_a_later_due_date_never_moves_an_instant_earlier(
        due: date, jurisdiction: str, shift: int) -> None:
    """Monotone: deadlines of a later due date are never earlier, so a schedule's
    periods stay in order however holidays fall."""
    calendar = CALENDARS[jurisdiction]
    earlier, later = period_deadlines(due, calendar), period_deadlines(
        due + timedelta(days=shift), calendar)
    assert earlier.follow_up.at <= later.follow_up.at
    assert earlier.overdue.at < later.overdue.at
    assert earlier.escalation.at <= later.escalation.at
