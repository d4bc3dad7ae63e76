"""Working-day deadlines of requests between districts (DOMAIN T1-T4), with their basis.

Western Australia's procedure (seeds/003, 2.2.9) counts in *working days*: weekdays that
are not public holidays in the `AU-WA` calendar (Western Australia Day in June, the
King's Birthday in late September, ...), plus declared closure days. The day a request
or dispute is received never counts: "within two working days of receiving the request"
ends with the second working day after it. Instants are UTC; days are local to
`Australia/Perth` (DESIGN decision 2).

A deadline passes at the end of its last day (00:00 local the next calendar day); the
people who owe it are reminded at 09:00 local on that last working day. Pure: the
`district_deadlines` activity builds the calendar and calls these, so the results are
recorded in history (DESIGN decision 1).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from models.district import DeadlineSpec, RequestDeadline
from workflows.business_calendar import BusinessCalendar, SkippedDay
from workflows.deadlines import END_OF_DAY_LOCAL_TIME, NOTICE_LOCAL_TIME, local_instant
from workflows.policy import add_months


def local_day(instant: datetime, time_zone: str) -> date:
    """The local calendar date of an instant (the day a request was received)."""
    return instant.astimezone(ZoneInfo(time_zone)).date()


def _skipped_text(skipped: tuple[SkippedDay, ...]) -> str:
    if not skipped:
        return ""
    return " (skipping " + ", ".join(f"{s.name} {s.day.isoformat()}" for s in skipped) + ")"


def _basis(spec: DeadlineSpec, received: date, amount: int, unit: str,
           calendar: BusinessCalendar, last_day: date, remind_day: date,
           skipped: tuple[SkippedDay, ...], explanation: str) -> dict[str, Any]:
    """The deadline's reasons as plain data: what a person reads in the API."""
    return {
        "rule": spec.rule, "counted_from": received.isoformat(), "amount": amount,
        "unit": unit, "calendar": calendar.describe(), "time_zone": calendar.spec.time_zone,
        "last_day": last_day.isoformat(), "reminder_on": remind_day.isoformat(),
        "reminder_time": NOTICE_LOCAL_TIME.isoformat(),
        "skipped": [{k: (v.isoformat() if isinstance(v, date) else v)
                     for k, v in asdict(s).items()} for s in skipped],
        "explanation": explanation,
    }


def working_days_deadline(spec: DeadlineSpec, received_at: datetime,
                          calendar: BusinessCalendar) -> RequestDeadline:
    """T1, T2, T3: by the end of the `spec.working_days`-th working day after the day
    received (that day never counts, whatever time it arrived); reminder at 09:00 local
    on that last working day. Weekday holidays passed over are named in the basis."""
    time_zone = calendar.spec.time_zone
    received = local_day(received_at, time_zone)
    last_day = calendar.shift_business_days(received, spec.working_days)
    skipped = calendar.holidays_between(received + timedelta(days=1), last_day)
    explanation = (f"{spec.working_days} working day(s) after {received.isoformat()}"
                   f"{_skipped_text(skipped)}: by the end of {last_day.isoformat()} "
                   f"{time_zone}; reminder {last_day.isoformat()} at "
                   f"{NOTICE_LOCAL_TIME:%H:%M}")
    return RequestDeadline(
        key=spec.key, rule=spec.rule,
        due_at=local_instant(last_day + timedelta(days=1), END_OF_DAY_LOCAL_TIME, time_zone),
        remind_at=local_instant(last_day, NOTICE_LOCAL_TIME, time_zone),
        basis=_basis(spec, received, spec.working_days, "working_days", calendar, last_day,
                     last_day, skipped, explanation))


def calendar_days_deadline(spec: DeadlineSpec, received_at: datetime,
                           calendar: BusinessCalendar) -> RequestDeadline:
    """T1, child in care: transferred in *under* four weeks. The deadline is the start
    (00:00 local) of the day `spec.calendar_days` after the day received -- less than
    four weeks after any moment of that day; reminder at 09:00 on the last working day
    before it."""
    time_zone = calendar.spec.time_zone
    received = local_day(received_at, time_zone)
    limit_day = received + timedelta(days=spec.calendar_days)
    last_day = limit_day - timedelta(days=1)
    remind_day = calendar.shift_business_days(limit_day, -1)
    explanation = (f"under {spec.calendar_days} calendar days after {received.isoformat()}: "
                   f"by the end of {last_day.isoformat()} {time_zone}; reminder "
                   f"{remind_day.isoformat()} at {NOTICE_LOCAL_TIME:%H:%M} (the last "
                   f"working day before)")
    return RequestDeadline(
        key=spec.key, rule=spec.rule,
        due_at=local_instant(limit_day, END_OF_DAY_LOCAL_TIME, time_zone),
        remind_at=local_instant(remind_day, NOTICE_LOCAL_TIME, time_zone),
        basis=_basis(spec, received, spec.calendar_days, "calendar_days", calendar,
                     last_day, remind_day, (), explanation))


def months_deadline(spec: DeadlineSpec, received_at: datetime,
                    calendar: BusinessCalendar) -> RequestDeadline:
    """T4: reviewed every three months -- by the end of the day `spec.months` calendar
    months after the start or the last review (clamped to a shorter month's end:
    30 November -> 28/29 February), whatever day of the week that is; reminder at 09:00
    on the `spec.reminder_working_days`-th working day before it."""
    time_zone = calendar.spec.time_zone
    received = local_day(received_at, time_zone)
    last_day = add_months(received, spec.months)
    remind_day = calendar.shift_business_days(last_day, -spec.reminder_working_days)
    skipped = calendar.holidays_between(remind_day + timedelta(days=1),
                                        last_day - timedelta(days=1))
    explanation = (f"{spec.months} months after {received.isoformat()}: by the end of "
                   f"{last_day.isoformat()} {time_zone}; reminder "
                   f"{spec.reminder_working_days} working day(s) before"
                   f"{_skipped_text(skipped)}, {remind_day.isoformat()} at "
                   f"{NOTICE_LOCAL_TIME:%H:%M}")
    return RequestDeadline(
        key=spec.key, rule=spec.rule,
        due_at=local_instant(last_day + timedelta(days=1), END_OF_DAY_LOCAL_TIME, time_zone),
        remind_at=local_instant(remind_day, NOTICE_LOCAL_TIME, time_zone),
        basis=_basis(spec, received, spec.months, "months", calendar, last_day, remind_day,
                     skipped, explanation))


def deadline_for(spec: DeadlineSpec, received_at: datetime, calendar: BusinessCalendar
                 ) -> RequestDeadline:
    """The one rule a spec names, by which amount it sets."""
    if spec.working_days:
        return working_days_deadline(spec, received_at, calendar)
    if spec.calendar_days:
        return calendar_days_deadline(spec, received_at, calendar)
    if spec.months:
        return months_deadline(spec, received_at, calendar)
    raise ValueError(f"deadline {spec.key!r} sets no amount")



