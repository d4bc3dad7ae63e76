"""The API tests' dates hold whatever day the suite runs on (issue 9).

API tests cannot pin the clock (their Temporal server runs in real time), so the bodies
they send are built from the real today by tests/api/dates.py. Here those builders are
evaluated for every day of a common year and a leap year, through the same request
model and policy checks as `POST /cases` and `POST /cases/{id}/endorsement`: C4 and C5
accept each body, C5 refuses the deliberate gap, and no deadline comes near a test run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from api.schemas.inputs import CaseRegistration, EndorsementIn
from models.errors import PolicyViolation
from models.terms import ContractTerms
from tests.api.dates import (
    behind_endorsed_on,
    behind_registration_body,
    contract_dates,
    endorsement_body,
    gap_too_long,
    registration_body,
)
from workflows.business_calendar import BusinessCalendar, CalendarSpec
from workflows.deadlines import period_deadlines
from workflows.policy import validate_endorsement, validate_terms

COMMON_YEAR, LEAP_YEAR = 2027, 2028
NOTHING_DUE_WITHIN_DAYS = 30
"""No R1-R3 deadline of a test's contract falls this close to its start: far beyond
any test run, even one that starts just before midnight."""


def every_day(year: int) -> Iterator[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


def _terms(body: dict[str, object]) -> ContractTerms:
    """The terms the API would start a workflow with (JSON in, as over HTTP)."""
    registration = CaseRegistration.model_validate_json(json.dumps(body))
    return registration.to_terms("AU-VIC", "Australia/Melbourne")


@pytest.mark.parametrize("year", [COMMON_YEAR, LEAP_YEAR])
def test_c5_c4_api_test_contracts_are_valid_from_every_start_day(year: int) -> None:
    days = list(every_day(year))
    assert len(days) == (366 if year == LEAP_YEAR else 365)
    calendar = BusinessCalendar(CalendarSpec())
    for today in days:
        terms = _terms(registration_body("case-dates", today))
        endorsement = EndorsementIn.model_validate_json(json.dumps(endorsement_body(today)))
        try:
            due_dates = validate_terms(terms)  # C1-C5
            validate_endorsement(terms, endorsement.to_endorsement("tm-1"))  # C4
        except PolicyViolation as exc:
            pytest.fail(f"starting on {today}: {exc.rule} {exc.field}: {exc.message}")
        assert due_dates == list(contract_dates(today).due_dates), today
        # C5 (engine): an endorsement on or after the first due date is refused.
        assert endorsement.endorsed_on < due_dates[0], today
        first = period_deadlines(due_dates[0], calendar)
        assert first.follow_up.basis.local_date > today + timedelta(
            days=NOTHING_DUE_WITHIN_DAYS), today


@pytest.mark.parametrize("year", [COMMON_YEAR, LEAP_YEAR])
def test_c5_api_test_gap_is_refused_from_every_start_day(year: int) -> None:
    for today in every_day(year):
        gap = gap_too_long(today)
        body = registration_body("case-gap", today,
                                 schedule={"due_dates": [d.isoformat() for d in gap]},
                                 contract_end=gap[-1].isoformat())
        with pytest.raises(PolicyViolation) as refused:
            validate_terms(_terms(body))
        assert (refused.value.rule, refused.value.field) == ("C5", "schedule.due_dates[1]")



@pytest.mark.parametrize("year", [COMMON_YEAR, LEAP_YEAR])
def test_c5_c4_r5_a_contract_two_periods_behind_is_valid_from_every_day(year: int) -> None:
    """Issue 17's browser test: a contract begun ten weeks ago passes C1-C5 and C4 on
    any day, its second period has ended (its report is late, R5) and the third is due
    far enough ahead for a report sent now to be on time."""
    calendar = BusinessCalendar(CalendarSpec())
    for today in every_day(year):
        terms = _terms(behind_registration_body("case-behind", today))
        endorsement = EndorsementIn.model_validate_json(
            json.dumps(endorsement_body(behind_endorsed_on(today))))
        try:
            due_dates = validate_terms(terms)
            validate_endorsement(terms, endorsement.to_endorsement("tm-1"))
        except PolicyViolation as exc:
            pytest.fail(f"on {today}: {exc.rule} {exc.field}: {exc.message}")
        assert endorsement.endorsed_on < due_dates[0] < today, today
        assert terms.contract_end >= today  # E1: not over at registration
        assert period_deadlines(due_dates[1], calendar).overdue.basis.local_date <= today
        assert period_deadlines(due_dates[2], calendar).follow_up.basis.local_date > (
            today + timedelta(days=7)), today
