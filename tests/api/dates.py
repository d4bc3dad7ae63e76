"""The dates API tests put in their requests, as pure functions of `today` (issue 9).

API tests run against a real Temporal dev server in real time, so they cannot pin the
clock as the time-skipping scenarios do (tests/workflows/conftest.py `begin_on`): their
contracts start on the real today. Everything here is therefore built by fixed day
offsets, never by month arithmetic, so that a body valid on 14 March is valid on
31 January, 29 February and 30 November too. tests/unit/test_api_test_dates.py checks
that against C4/C5 for every day of a leap year and a common one.

The offsets also keep every deadline far from a test run: the first report is due
twelve weeks ahead, so its R1 follow-up is weeks away, and nothing falls due while the
tests run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

REPORT_INTERVAL_DAYS = 84
"""Twelve weeks between reports (and from the start to the first): shorter than any
three calendar months (at least 89 days), so C5's quarterly minimum holds from any day."""

GAP_TOO_LONG_DAYS = 120
"""Longer than any three calendar months (at most 92 days): a gap C5 always refuses."""

ORDER_AFTER_CONTRACT_DAYS = 120
"""The protection order outlives the contract by this much, so E1 ends case management
at the contract's end and the V2 review (six weeks before expiry) is months away."""

CHILD_AGE_YEARS = 8
"""Under 10: the child need not sign (C4), so an endorsement needs three signatures."""


@dataclass(frozen=True)
class ContractDates:
    """The dates of a registration that starts on `contract_start`."""

    contract_start: date
    due_dates: tuple[date, ...]
    contract_end: date
    order_expiry: date
    child_birth_date: date


def contract_dates(today: date, periods: int = 4) -> ContractDates:
    """A contract starting `today`, reports every REPORT_INTERVAL_DAYS, ending on the
    last due date (C5: no gap over three months at either end)."""
    due = tuple(today + timedelta(days=REPORT_INTERVAL_DAYS * (i + 1)) for i in range(periods))
    return ContractDates(
        contract_start=today, due_dates=due, contract_end=due[-1],
        order_expiry=due[-1] + timedelta(days=ORDER_AFTER_CONTRACT_DAYS),
        # The 1st of today's month: a day every month has, whatever today is.
        child_birth_date=today.replace(year=today.year - CHILD_AGE_YEARS, day=1),
    )


def gap_too_long(today: date) -> list[date]:
    """Two due dates from `today` whose second comes more than three months after the
    first: C5 refuses it (at `schedule.due_dates[1]`) on any day."""
    first = today + timedelta(days=REPORT_INTERVAL_DAYS)
    return [first, first + timedelta(days=GAP_TOO_LONG_DAYS)]


def registration_body(case_id: str, today: date, agency_id: str = "agency-api",
                      periods: int = 4, **overrides: Any) -> dict[str, Any]:
    """The JSON body of `POST /cases` for a contract starting `today`; `overrides`
    replace top-level fields."""
    dates = contract_dates(today, periods)
    body: dict[str, Any] = {
        "case_id": case_id, "agency_id": agency_id, "phase": "protection_order",
        "total_case_management": True, "functions": [], "aboriginal_child": False,
        "child_birth_date": dates.child_birth_date.isoformat(),
        "schedule": {"due_dates": [d.isoformat() for d in dates.due_dates]},
        "contract_start": dates.contract_start.isoformat(),
        "contract_end": dates.contract_end.isoformat(),
        "order_expiry": dates.order_expiry.isoformat(),
    }
    body.update(overrides)
    return body


def endorsement_body(on: date) -> dict[str, Any]:
    """The JSON body of `POST /cases/{id}/endorsement`: endorsed and signed on `on`
    (C4). Tests pass today: never a day still to come, and before the first due date."""
    day = on.isoformat()
    return {"team_manager_id": "tm-1", "endorsed_on": day, "signatories": [
        {"role": "cp_decision_maker", "person_id": "cp-1", "signed_on": day},
        {"role": "agency_representative", "person_id": "ag-rep-1", "signed_on": day},
        {"role": "parent_guardian", "person_id": "parent-1", "signed_on": day}]}


BEHIND_START_DAYS = 70
"""Issue 17's browser test needs a case already two failures in (R6) on the day it runs:
a contract that started ten weeks ago, its first two reports due eight and four weeks
ago. Nothing refuses a past start: C5 wants no gap over three months, E1 an end not yet
passed, C4/C5 an endorsement before the first due date."""
BEHIND_DUE_OFFSETS_DAYS = (-56, -28, 28, 112)
"""Due dates from today: two passed (the first period ended when the second came due:
missing; the second is late), then one four weeks ahead (a report sent now is on
time, its R1 follow-up two weeks away at least) and a last one twelve weeks later.
Every gap is at most 84 days, shorter than any three calendar months."""


def behind_contract_dates(today: date) -> ContractDates:
    """A contract that started BEHIND_START_DAYS ago with two due dates passed."""
    due = tuple(today + timedelta(days=offset) for offset in BEHIND_DUE_OFFSETS_DAYS)
    return ContractDates(
        contract_start=today - timedelta(days=BEHIND_START_DAYS), due_dates=due,
        contract_end=due[-1], order_expiry=due[-1] + timedelta(days=ORDER_AFTER_CONTRACT_DAYS),
        child_birth_date=today.replace(year=today.year - CHILD_AGE_YEARS, day=1))


def behind_registration_body(case_id: str, today: date, agency_id: str = "agency-api"
                             ) -> dict[str, Any]:
    """`registration_body` for `behind_contract_dates(today)`; endorse it with
    `endorsement_body(behind_endorsed_on(today))`."""
    dates = behind_contract_dates(today)
    return registration_body(
        case_id, today, agency_id,
        schedule={"due_dates": [d.isoformat() for d in dates.due_dates]},
        contract_start=dates.contract_start.isoformat(),
        contract_end=dates.contract_end.isoformat(),
        order_expiry=dates.order_expiry.isoformat())


def behind_endorsed_on(today: date) -> date:
    """The day after the contract began: in the past, and before the first due date."""
    return behind_contract_dates(today).contract_start + timedelta(days=1)
