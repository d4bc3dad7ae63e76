"""The business-day calendar of a case's jurisdiction (DOMAIN "Words": business day).

A *business day* is a weekday that is not a public holiday in the case's jurisdiction.
Public holidays come from the `holidays` package (observed days included, e.g. Boxing Day
observed on Monday 2026-12-28 because 26 December 2026 is a Saturday); a case may add
one-off closure days (a declared one-off public holiday) and remove holidays that do not
apply to it (regional differences: Melbourne Cup Day is not a holiday everywhere in
Victoria).

Pure: no clock, no I/O beyond the `holidays` package's built-in rules. The R1 and R3
deadlines in `workflows.deadlines` count on this calendar; the schedule activity builds
it, so a change in the `holidays` package never makes a recorded workflow replay
differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import holidays

COUNTRY = "AU"
# States and territories the `holidays` package knows for Australia and that the domain
# uses; "AU" alone means the national holidays only.
SUPPORTED_SUBDIVISIONS: tuple[str, ...] = ("ACT", "NSW", "NT", "QLD", "SA", "TAS", "VIC", "WA")
EXTRA_CLOSURE_NAME = "Extra closure"
_SATURDAY = 5  # date.weekday(): Monday is 0, Saturday 5, Sunday 6


@dataclass(frozen=True)
class CalendarSpec:
    """Everything that decides which days are business days for one case.

    Plain data (str, date, tuples) so it can travel in workflow inputs and activity
    results through Temporal's data converter.
    """

    jurisdiction: str = "AU-VIC"
    time_zone: str = "Australia/Melbourne"
    # One-off closure days added to the public holidays (e.g. a declared one-off holiday).
    extra_closures: tuple[date, ...] = ()
    # Public holidays that do not apply to this case (e.g. Melbourne Cup Day for a case
    # handled outside metropolitan Melbourne).
    removed_holidays: tuple[date, ...] = ()


class UnknownJurisdiction(ValueError):
    """The jurisdiction is not "AU" or "AU-<STATE>" for a supported state or territory.

    A ValueError so callers that validate input treat it as bad input, not a crash.
    """

    def __init__(self, jurisdiction: str) -> None:
        self.jurisdiction = jurisdiction
        supported = ", ".join(["AU", *(f"AU-{s}" for s in SUPPORTED_SUBDIVISIONS)])
        super().__init__(f"Unknown jurisdiction {jurisdiction!r}; expected one of {supported}")


@dataclass(frozen=True)
class SkippedDay:
    """A weekday that is not a business day, with the reason people recognise."""

    day: date
    name: str  # the holiday's name, or "Extra closure"


def _subdivision(jurisdiction: str) -> str | None:
    """The `holidays` subdivision code for a jurisdiction; None for national ("AU")."""
    if jurisdiction == COUNTRY:
        return None
    country, dash, state = jurisdiction.partition("-")
    if country == COUNTRY and dash and state in SUPPORTED_SUBDIVISIONS:
        return state
    raise UnknownJurisdiction(jurisdiction)


def closure_scopes(jurisdiction: str) -> tuple[str, ...]:
    """Whose declared closure days a case in `jurisdiction` observes: its own and its
    country's (a national day of mourning declared for "AU" closes Victoria too)."""
    country = jurisdiction.partition("-")[0]
    return (jurisdiction,) if country == jurisdiction else (jurisdiction, country)


class BusinessCalendar:
    """Answers "is this a business day?" and counts business days for one CalendarSpec.

    Holidays are looked up one calendar year at a time and cached, so counting across a
    year boundary (Christmas into January) asks the package for each year once.
    """

    def __init__(self, spec: CalendarSpec) -> None:
        """Validate the jurisdiction now, so a bad spec fails where it is built and not
        half-way through computing a schedule."""
        self.spec = spec
        self._subdivision = _subdivision(spec.jurisdiction)
        self._extra_closures = frozenset(spec.extra_closures)
        self._removed_holidays = frozenset(spec.removed_holidays)
        self._holidays_by_year: dict[int, dict[date, str]] = {}

    def describe(self) -> str:
        """Human text naming the calendar, recorded in each deadline's basis so a
        practitioner can see which holidays were applied."""
        return (
            f"{self.spec.jurisdiction} public holidays"
            f" + {len(self._extra_closures)} extra closure(s)"
            f" - {len(self._removed_holidays)} removed"
        )

    def _public_holidays(self, year: int) -> dict[date, str]:
        """The package's public holidays (observed days included) for one year, cached."""
        cached = self._holidays_by_year.get(year)
        if cached is None:
            found = holidays.country_holidays(
                COUNTRY, subdiv=self._subdivision, years=year, expand=False
            )
            cached = {day: str(name) for day, name in found.items()}
            self._holidays_by_year[year] = cached
        return cached

    def holiday_name(self, day: date) -> str | None:
        """The name of the public holiday or extra closure on `day`, or None.

        A removed holiday does not count (None), but an extra closure declared for the
        same day still does: the closure is an explicit decision about that very day.
        Weekends are not holidays by themselves; Easter Saturday still has a name.
        """
        if day not in self._removed_holidays:
            name = self._public_holidays(day.year).get(day)
            if name is not None:
                return name
        if day in self._extra_closures:
            return EXTRA_CLOSURE_NAME
        return None

    def is_business_day(self, day: date) -> bool:
        """A weekday that is neither a (non-removed) public holiday nor an extra closure."""
        return day.weekday() < _SATURDAY and self.holiday_name(day) is None

    def shift_business_days(self, start: date, count: int) -> date:
        """The `count`-th business day after `start` (before it when `count` < 0).

        `start` itself never counts, whether or not it is a business day: this is how
        R1 counts "the 10th business day before D" from a due date on a weekend or a
        holiday. `count` == 0 returns `start` unchanged.
        """
        step = timedelta(days=1 if count > 0 else -1)
        remaining = abs(count)
        day = start
        while remaining:
            day += step
            if self.is_business_day(day):
                remaining -= 1
        return day

    def first_business_day_on_or_after(self, day: date) -> date:
        """`day` if it is a business day, otherwise the next one (R3 moves forward)."""
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def holidays_between(self, start: date, end: date) -> tuple[SkippedDay, ...]:
        """Weekday holidays and closures in the closed range [min, max] of the two days,
        in date order.

        Weekend days are left out even when they carry a holiday name (Easter Saturday):
        they are never business days, so naming them explains nothing.
        """
        first, last = min(start, end), max(start, end)
        found: list[SkippedDay] = []
        day = first
        while day <= last:
            if day.weekday() < _SATURDAY:
                name = self.holiday_name(day)
                if name is not None:
                    found.append(SkippedDay(day=day, name=name))
            day += timedelta(days=1)
        return tuple(found)
