"""The schedule activity: a case's period instants from its holiday calendar.

Runs outside the workflow sandbox because it reads the `holidays` package and the
jurisdiction's declared closure days from the database; the answer is recorded in the
workflow's history (DESIGN decision 1).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.case_listing import list_new_case
from models.schedule import ScheduledPeriod, ScheduleRequest, ScheduleResult
from models.tables import CalendarClosureRow
from workflows.business_calendar import BusinessCalendar, CalendarSpec, closure_scopes
from workflows.deadlines import local_instant, period_deadlines

PLAN_REVIEW_WEEKS_BEFORE_EXPIRY = 6  # V2


def plan_review_instants(order_expiry: date, time_zone: str, reminder_lead_days: int
                         ) -> tuple[datetime, datetime, dict[str, Any]]:
    """V2: a case plan review is due no later than six weeks before the protection order
    expires: the deadline is the end of that local day; the reminder goes at 09:00 local
    `reminder_lead_days` earlier."""
    review_day = order_expiry - timedelta(weeks=PLAN_REVIEW_WEEKS_BEFORE_EXPIRY)
    due_at = local_instant(review_day + timedelta(days=1), time(0, 0), time_zone)
    reminder_day = review_day - timedelta(days=reminder_lead_days)
    reminder_at = local_instant(reminder_day, time(9, 0), time_zone)
    basis = {
        "rule": "V2", "counted_from": order_expiry.isoformat(), "amount": 42,
        "unit": "calendar_days", "review_by": review_day.isoformat(),
        "reminder_on": reminder_day.isoformat(), "time_zone": time_zone,
        "explanation": f"Six weeks before the order expires on {order_expiry.isoformat()}: "
                       f"review by the end of {review_day.isoformat()}; reminder "
                       f"{reminder_lead_days} days earlier at 09:00 {time_zone}",
    }
    return due_at, reminder_at, basis


def schedule_for(request: ScheduleRequest, declared_closures: list[date],
                 reminder_lead_days: int) -> ScheduleResult:
    """Periods plus the V2 plan review instants."""
    periods = schedule_periods_for(request, declared_closures)
    expiry = request.order_expiry or request.ends_on
    due_at, reminder_at, basis = plan_review_instants(expiry, request.time_zone,
                                                      reminder_lead_days)
    return ScheduleResult(periods=periods, plan_review_due_at=due_at,
                          plan_review_reminder_at=reminder_at, plan_review_basis=basis)


def schedule_periods_for(request: ScheduleRequest, declared_closures: list[date]
                         ) -> list[ScheduledPeriod]:
    """Pure part: instants for each due date. A period ends (R5 "never arrived") when the
    next due date begins, the last one when the contract ends (E1)."""
    spec = CalendarSpec(
        jurisdiction=request.jurisdiction,
        time_zone=request.time_zone,
        extra_closures=tuple(sorted(set(request.extra_closures) | set(declared_closures))),
        removed_holidays=tuple(sorted(set(request.removed_holidays))),
    )
    calendar = BusinessCalendar(spec)
    due_dates = sorted(request.due_dates)
    periods: list[ScheduledPeriod] = []
    for position, due in enumerate(due_dates):
        deadlines = period_deadlines(due, calendar)
        if position + 1 < len(due_dates):
            ends_at = local_instant(due_dates[position + 1], time(0, 0), request.time_zone)
        else:
            last_day = max(request.ends_on, due)
            ends_at = local_instant(last_day + timedelta(days=1), time(0, 0), request.time_zone)
        basis: dict[str, dict[str, Any]] = {
            d.kind: _plain(asdict(d.basis))
            for d in (deadlines.follow_up, deadlines.overdue, deadlines.escalation)
        }
        periods.append(
            ScheduledPeriod(
                due_date=due,
                follow_up_at=deadlines.follow_up.at,
                overdue_at=deadlines.overdue.at,
                escalation_at=deadlines.escalation.at,
                ends_at=ends_at,
                basis=basis,
            )
        )
    return periods


def _plain(value: Any) -> Any:
    """Dates and times as ISO strings, tuples as lists: the basis is for people to read."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class ScheduleActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 review_reminder_lead_days: int = 14) -> None:
        self._sessions = sessions
        self._lead_days = review_reminder_lead_days

    @activity.defn(name="schedule_periods")
    async def schedule_periods(self, request: ScheduleRequest) -> ScheduleResult:
        if request.listing is not None:
            # Listed, and committed, before the closures are read: a closure declared
            # meanwhile is then either seen here or told by its route
            # (activities/case_listing.py). Insert-only, so a retry changes nothing.
            async with self._sessions() as session:
                await list_new_case(session, request.case_id, request.jurisdiction,
                                    request.listing)
                await session.commit()
        async with self._sessions() as session:
            rows = await session.scalars(
                select(CalendarClosureRow.day).where(
                    CalendarClosureRow.jurisdiction.in_(closure_scopes(request.jurisdiction))
                )
            )
            declared = sorted(set(rows))
        return schedule_for(request, declared, self._lead_days)
