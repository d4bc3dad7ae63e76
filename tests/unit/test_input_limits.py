"""Issue 9: input that must get a clear 4xx and change nothing -- the workflow's own
validation (`workflows/policy.py` with `models/limits.py`), so a direct Temporal start
is refused too, and what the limits cost in Temporal payloads."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from activities.schedule import schedule_for
from casework.temporal_client import make_data_converter
from models import limits
from models.errors import PolicyViolation
from models.schedule import ScheduleRequest
from models.terms import (
    ContractTerms,
    Endorsement,
    ReportingSchedule,
    Signatory,
    SignatoryRole,
)
from tests.unit.test_policy import QUARTERLY, make_terms
from workflows import policy

TEMPORAL_PAYLOAD_LIMIT_BYTES = 2 * 1024 * 1024
"""Temporal refuses a payload over 2 MB (and warns from 512 KB)."""


def refused(terms: ContractTerms, today: date | None = None) -> PolicyViolation:
    with pytest.raises(PolicyViolation) as caught:
        policy.validate_terms(terms, today=today)
    return caught.value


def test_order_expiry_9999_is_refused() -> None:
    error = refused(make_terms(order_expiry=date(9999, 12, 31)))
    assert (error.rule, error.field) == ("input", "order_expiry")


def test_interval_schedule_reaching_year_10000_is_refused_not_overflowing() -> None:
    # Without the window, add_months ran past date.max (ValueError -> 500).
    terms = make_terms(schedule=ReportingSchedule(interval_months=3),
                       contract_end=date(9999, 12, 31), order_expiry=date(9999, 12, 31))
    error = refused(terms)
    assert (error.rule, error.field) == ("input", "contract_end")


def test_1400_daily_due_dates_are_refused() -> None:
    start = date(2026, 1, 1)
    daily = [start + timedelta(days=i + 1) for i in range(1400)]
    error = refused(make_terms(schedule=ReportingSchedule(due_dates=daily),
                               contract_start=start, contract_end=daily[-1],
                               order_expiry=daily[-1]))
    assert (error.rule, error.field) == ("input", "schedule.due_dates")
    assert str(limits.MAX_PERIODS_PER_CONTRACT) in error.message


def test_70000_extra_closures_are_refused() -> None:
    closures = [date(2026, 2, 1)] * 70_000
    error = refused(make_terms(extra_closures=closures))
    assert (error.rule, error.field) == ("input", "extra_closures")
    error = refused(make_terms(removed_holidays=closures[:limits.MAX_CALENDAR_OVERRIDES + 1]))
    assert (error.rule, error.field) == ("input", "removed_holidays")


def test_contract_longer_than_max_contract_years_is_refused() -> None:
    start = date(2026, 1, 15)
    end = policy.add_months(start, 12 * limits.MAX_CONTRACT_YEARS)
    dates = [policy.add_months(start, 3 * (i + 1)) for i in range(4 * limits.MAX_CONTRACT_YEARS)]
    assert dates[-1] == end
    ok = make_terms(schedule=ReportingSchedule(due_dates=dates), contract_end=end,
                    order_expiry=end)
    assert policy.validate_terms(ok) == dates
    longer = dataclasses.replace(ok, contract_end=end + timedelta(days=1),
                                 order_expiry=end + timedelta(days=1))
    error = refused(longer)
    assert (error.rule, error.field) == ("input", "contract_end")


@pytest.mark.parametrize("zone", ["America", "Etc", "a" * 300, "posixrules", "Factory",
                                  "localtime", "Australia/Nowhere", "../etc/passwd"])
def test_time_zone_that_is_not_an_iana_zone_is_refused(zone: str) -> None:
    error = refused(make_terms(time_zone=zone))
    assert (error.rule, error.field) == ("input", "time_zone")


@pytest.mark.parametrize("zone", ["Australia/Melbourne", "UTC", "Etc/GMT-10",
                                  "America/New_York"])
def test_real_iana_time_zones_are_accepted(zone: str) -> None:
    assert policy.validate_terms(make_terms(time_zone=zone)) == QUARTERLY


@pytest.mark.parametrize("field", ["contract_start", "child_birth_date",
                                   "acsass_consulted_on"])
@pytest.mark.parametrize("year", [1, 1900])
def test_contract_dates_from_year_1_or_1900_are_refused(field: str, year: int) -> None:
    error = refused(make_terms(**{field: date(year, 1, 15)}))
    assert (error.rule, error.field) == ("input", field)


def test_schedule_start_and_closure_dates_outside_the_window_are_refused() -> None:
    error = refused(make_terms(schedule=ReportingSchedule(start_date=date(1900, 1, 1),
                                                          interval_months=3)))
    assert error.field == "schedule.start_date"
    error = refused(make_terms(extra_closures=[date(2026, 3, 2), date(1, 1, 1)]))
    assert error.field == "extra_closures[1]"


def test_e1_contract_already_ended_is_refused_given_today() -> None:
    terms = make_terms()  # case management ends 2027-01-15
    assert policy.validate_terms(terms, today=date(2027, 1, 15)) == QUARTERLY
    error = refused(terms, today=date(2027, 1, 16))
    assert (error.rule, error.field) == ("E1", "contract_end")
    expired = make_terms(order_expiry=date(2027, 1, 15), contract_end=date(2027, 1, 15))
    error = refused(dataclasses.replace(expired, contract_end=date(2027, 2, 1)),
                    today=date(2027, 1, 20))
    assert (error.rule, error.field) == ("E1", "order_expiry")


def test_limits_can_be_left_out_for_cases_registered_before_them() -> None:
    """The workflow replays a case started before the limits without them (patch
    `input-limits`), so the check must be separable."""
    terms = make_terms(order_expiry=date(9999, 12, 31))
    assert policy.validate_terms(terms, within_limits=False) == QUARTERLY


def test_c4_best_interests_decision_id_as_free_text_is_refused() -> None:
    """Ids go into history whether a rule needs them or not (DESIGN decision 6): even with
    no parent declining, a sentence is no id."""
    on = date(2026, 1, 10)
    endorsement = Endorsement(
        team_manager_id="tm-1", endorsed_on=on,
        signatories=[Signatory(SignatoryRole.CP_DECISION_MAKER, "cp-1", on),
                     Signatory(SignatoryRole.AGENCY_REPRESENTATIVE, "ag-1", on),
                     Signatory(SignatoryRole.PARENT_GUARDIAN, "pg-1", on)],
        best_interests_decision_id="The mother said she would rather not sign today.")
    with pytest.raises(PolicyViolation) as caught:
        policy.validate_endorsement(make_terms(), endorsement)
    assert caught.value.field == "best_interests_decision_id"


def test_c4_endorsement_dated_1900_is_refused() -> None:
    on = date(1900, 1, 1)
    endorsement = Endorsement(
        team_manager_id="tm-1", endorsed_on=on,
        signatories=[Signatory(SignatoryRole.CP_DECISION_MAKER, "cp-1", on)])
    with pytest.raises(PolicyViolation) as caught:
        policy.validate_endorsement(make_terms(), endorsement)
    assert caught.value.field == "endorsed_on"


def test_largest_allowed_case_stays_far_below_temporal_payload_limit() -> None:
    """The limits are chosen so that the biggest payloads of the biggest accepted case --
    its terms (workflow input, carried across continue-as-new) and its schedule (the
    activity's answer, also the bulk of the state and of `GET /cases/{id}`) -- stay
    under a tenth of Temporal's 2 MB."""
    start = date(2030, 1, 31)  # month ends: the longest basis texts
    months = 12 * limits.MAX_CONTRACT_YEARS
    due_dates = [policy.add_months(start, i + 1) for i in range(months)]
    assert len(due_dates) == limits.MAX_PERIODS_PER_CONTRACT
    closures = [start + timedelta(days=7 * i + 1) for i in range(limits.MAX_CALENDAR_OVERRIDES)]
    terms = make_terms(schedule=ReportingSchedule(due_dates=due_dates), contract_start=start,
                       contract_end=due_dates[-1], order_expiry=date(2099, 12, 31),
                       child_birth_date=date(2025, 1, 1), extra_closures=closures,
                       removed_holidays=list(closures))
    assert policy.validate_terms(terms) == due_dates
    request = ScheduleRequest(case_id="c" * 64, jurisdiction="AU-VIC",
                              time_zone="Australia/Melbourne", due_dates=due_dates,
                              ends_on=due_dates[-1], extra_closures=closures,
                              removed_holidays=list(closures), order_expiry=date(2099, 12, 31))
    converter = make_data_converter().payload_converter
    budget = TEMPORAL_PAYLOAD_LIMIT_BYTES // 10
    for value in (terms, schedule_for(request, [], 14)):
        size = len(converter.to_payloads([value])[0].SerializeToString())
        assert size < budget, (type(value).__name__, size)
