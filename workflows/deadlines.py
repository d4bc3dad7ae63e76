"""The three instants of a reporting period (DOMAIN R1, R2, R3), with their reasons.

For each scheduled due date D the agency is reminded (R1), the period becomes overdue
(R2) and the program manager is written to (R3). Each instant is an aware UTC datetime
computed from a local date and time in the case's time zone, so daylight saving is
handled once, here. Each carries a `DeadlineBasis` saying how it was reached, in words a
practitioner can check against the calendar on the wall.

Pure: every input is a parameter (no clock, no I/O). Results contain only simple types
and frozen dataclasses, so they pass through Temporal's pydantic data converter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workflows.business_calendar import BusinessCalendar, SkippedDay

FOLLOW_UP_BUSINESS_DAYS = 10  # R1
ESCALATION_CALENDAR_DAYS = 28  # R3
DEADLINE_KINDS = frozenset({"follow_up", "overdue", "escalation"})
"""A period's three instants (R1, R2, R3), each with its `basis` by that name."""
NOTICE_LOCAL_TIME = time(9, 0)  # R1, R3: 09:00 local
END_OF_DAY_LOCAL_TIME = time(0, 0)  # R2: the instant D ends is 00:00 on D + 1

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                  "Sunday")


@dataclass(frozen=True)
class DeadlineBasis:
    """Why a deadline falls when it does: the rule, what was counted and what skipped."""

    rule: str  # "R1" | "R2" | "R3"
    counted_from: date  # the due date D
    amount: int  # 10, 0, 28
    unit: str  # "business_days" | "calendar_days"
    calendar: str  # BusinessCalendar.describe()
    time_zone: str
    local_date: date  # the local calendar date the instant falls on
    local_time: time
    skipped: tuple[SkippedDay, ...]  # weekday holidays/closures passed over
    explanation: str


@dataclass(frozen=True)
class Deadline:
    kind: str  # "follow_up" | "overdue" | "escalation"
    at: datetime  # timezone-aware UTC instant
    basis: DeadlineBasis


@dataclass(frozen=True)
class PeriodDeadlines:
    due_date: date
    follow_up: Deadline  # R1
    overdue: Deadline  # R2
    escalation: Deadline  # R3


def local_instant(day: date, at: time, time_zone: str) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `time_zone`.

    Deadlines are stated in local time (09:00, end of day), but timers need absolute
    instants; zoneinfo applies the offset in force on that date (Melbourne: UTC+11 from
    the first Sunday in October, UTC+10 from the first Sunday in April). A wall time that
    occurs twice when clocks go back takes the first (earlier) one; 00:00 and 09:00
    never fall in Melbourne's skipped or repeated hour.
    """
    if at.tzinfo is not None:
        raise ValueError(f"local time {at.isoformat()} must not carry a time zone")
    return datetime.combine(day, at, tzinfo=ZoneInfo(time_zone)).astimezone(UTC)


def _day_note(day: date, calendar: BusinessCalendar) -> str | None:
    """'Easter Monday' or 'a Saturday' when `day` is not a business day, else None."""
    name = calendar.holiday_name(day)
    if name is not None:
        return name
    if not calendar.is_business_day(day):
        return f"a {_WEEKDAY_NAMES[day.weekday()]}"
    return None


def _in_brackets(*notes: str | None) -> str:
    """' (Easter Monday; skipping Good Friday 2026-04-03)', or '' when there is no note."""
    present = [note for note in notes if note]
    return f" ({'; '.join(present)})" if present else ""


def _skipping(skipped: tuple[SkippedDay, ...]) -> str | None:
    """'skipping Christmas Day 2025-12-25 and Boxing Day 2025-12-26', or None."""
    if not skipped:
        return None
    names = [f"{s.name} {s.day.isoformat()}" for s in skipped]
    if len(names) > 1:
        return "skipping " + ", ".join(names[:-1]) + " and " + names[-1]
    return "skipping " + names[0]


def _strictly_between(calendar: BusinessCalendar, first: date, last: date
                      ) -> tuple[SkippedDay, ...]:
    """Weekday holidays/closures with first < day < last (none if the days are adjacent)."""
    if last - first <= timedelta(days=1):
        return ()
    return calendar.holidays_between(first + timedelta(days=1), last - timedelta(days=1))


def follow_up_deadline(due_date: date, calendar: BusinessCalendar) -> Deadline:
    """R1: remind the agency on the 10th business day before D, at 09:00 local.

    The count starts from D whatever D is (a weekend or holiday D is not moved first):
    D never counts, so "no less than 10 business days before D" holds. Weekday holidays
    and extra closures passed over are listed in the basis and the explanation.
    """
    spec = calendar.spec
    reminder_day = calendar.shift_business_days(due_date, -FOLLOW_UP_BUSINESS_DAYS)
    skipped = _strictly_between(calendar, reminder_day, due_date)
    notes = _in_brackets(_day_note(due_date, calendar), _skipping(skipped))
    explanation = (
        f"{FOLLOW_UP_BUSINESS_DAYS} business days before the due date "
        f"{due_date.isoformat()}{notes}: "
        f"{reminder_day.isoformat()} at {NOTICE_LOCAL_TIME:%H:%M} {spec.time_zone}"
    )
    return _deadline("follow_up", "R1", due_date, FOLLOW_UP_BUSINESS_DAYS, "business_days",
                     calendar, reminder_day, NOTICE_LOCAL_TIME, skipped, explanation)


def overdue_deadline(due_date: date, calendar: BusinessCalendar) -> Deadline:
    """R2: the period is late once D has ended in local time, i.e. at 00:00 local on
    D + 1. D is not moved for weekends or holidays: the report is due on D itself.

    On the day daylight saving starts or ends, D is 23 or 25 hours long; taking the
    local midnight (not D's start + 24 h) keeps the instant on the wall-clock boundary.
    """
    spec = calendar.spec
    ends_on = due_date + timedelta(days=1)
    explanation = (
        f"At the end of the due date {due_date.isoformat()}"
        f"{_in_brackets(_day_note(due_date, calendar))}: {END_OF_DAY_LOCAL_TIME:%H:%M} on "
        f"{ends_on.isoformat()} {spec.time_zone}"
    )
    return _deadline("overdue", "R2", due_date, 0, "calendar_days", calendar, ends_on,
                     END_OF_DAY_LOCAL_TIME, (), explanation)


def escalation_deadline(due_date: date, calendar: BusinessCalendar) -> Deadline:
    """R3: write to the agency's program manager on the first business day on or after
    D + 28 calendar days, at 09:00 local.

    Four weeks after D is always the same weekday as D; when that day is a weekend or
    holiday the letter moves forward (never back), and the weekday holidays passed over
    are listed in the basis.
    """
    spec = calendar.spec
    four_weeks_on = due_date + timedelta(days=ESCALATION_CALENDAR_DAYS)
    letter_day = calendar.first_business_day_on_or_after(four_weeks_on)
    skipped = (calendar.holidays_between(four_weeks_on, letter_day - timedelta(days=1))
               if letter_day > four_weeks_on else ())
    head = f"{ESCALATION_CALENDAR_DAYS} calendar days after the due date {due_date.isoformat()}"
    if letter_day == four_weeks_on:
        reason = f"{head}: "
    else:
        # D + 28 is named in its own brackets; list only the later days passed over.
        later = tuple(s for s in skipped if s.day != four_weeks_on)
        reason = (f"{head} is {four_weeks_on.isoformat()}"
                  f"{_in_brackets(_day_note(four_weeks_on, calendar))}, so the first "
                  f"business day on or after it{_in_brackets(_skipping(later))}: ")
    explanation = f"{reason}{letter_day.isoformat()} at {NOTICE_LOCAL_TIME:%H:%M} {spec.time_zone}"
    return _deadline("escalation", "R3", due_date, ESCALATION_CALENDAR_DAYS, "calendar_days",
                     calendar, letter_day, NOTICE_LOCAL_TIME, skipped, explanation)


def _deadline(kind: str, rule: str, due_date: date, amount: int, unit: str,
              calendar: BusinessCalendar, local_date: date, local_time: time,
              skipped: tuple[SkippedDay, ...], explanation: str) -> Deadline:
    """The instant of `local_date` at `local_time` in the calendar's zone, with the basis
    that explains it (the same fields for R1, R2 and R3)."""
    time_zone = calendar.spec.time_zone
    basis = DeadlineBasis(
        rule=rule, counted_from=due_date, amount=amount, unit=unit,
        calendar=calendar.describe(), time_zone=time_zone, local_date=local_date,
        local_time=local_time, skipped=skipped, explanation=explanation,
    )
    return Deadline(kind=kind, at=local_instant(local_date, local_time, time_zone),
                    basis=basis)


def period_deadlines(due_date: date, calendar: BusinessCalendar) -> PeriodDeadlines:
    """R1, R2 and R3 for one due date, on one calendar."""
    return PeriodDeadlines(
        due_date=due_date,
        follow_up=follow_up_deadline(due_date, calendar),
        overdue=overdue_deadline(due_date, calendar),
        escalation=escalation_deadline(due_date, calendar),
    )
