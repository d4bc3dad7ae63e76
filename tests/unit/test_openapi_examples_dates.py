"""The dated request examples of the OpenAPI document hold on every day (issue 12): the
API test (tests/api/test_openapi_examples.py) sends them on the day it runs; this checks
every day of a leap year and of a common year, through the same request models and the
same rules the service applies -- C1-C5 and E1 for the registration, C4 for the
endorsement (a day that has come, before the first due date, the child's signature), R5
for the report sent that day (due ahead), K1 for the contact (a day that has come, within
the contract, before the first contact gap), V5 for the review's new end -- with a day to
spare for the time zones between the server's UTC date and the case's."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest

from api.openapi_dated_examples import dated_examples, example_case_id
from api.schemas.inputs import (
    CaseRegistration,
    ClosureDayIn,
    ClosureIn,
    ContactIn,
    EndorsementIn,
    ReviewOutcomeIn,
)
from models.errors import PolicyViolation
from models.terms import ContractTerms
from workflows.policy import child_must_sign, validate_endorsement, validate_terms

SWEPT_YEARS = (2028, 2031)
"""A leap year and a common year: every month end, 29 February, both DST changes."""
TIME_ZONE_SPARE = timedelta(days=1)


def _days(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


def _terms(examples: dict[str, list[dict[str, Any]]]) -> ContractTerms:
    return CaseRegistration.model_validate(examples["CaseRegistration"][0]).to_terms(
        "AU-VIC", "Australia/Melbourne")


@pytest.mark.parametrize("year", SWEPT_YEARS)
def test_c4_c5_k1_r5_the_dated_examples_hold_on_every_day(year: int) -> None:
    for today in _days(year):
        examples = dated_examples(today)
        terms = _terms(examples)
        for day in (today - TIME_ZONE_SPARE, today, today + TIME_ZONE_SPARE):
            validate_terms(terms, today=day)  # C1-C5, and E1: not over on the day
        endorsement = EndorsementIn.model_validate(
            examples["EndorsementIn"][0]).to_endorsement("tm-1")
        first_due = min(terms.schedule.due_dates)
        assert endorsement.endorsed_on < today - TIME_ZONE_SPARE, "C4: a day that has come"
        assert endorsement.endorsed_on < first_due, "C5: endorsed before the first due date"
        assert child_must_sign(terms.child_birth_date, endorsement.endorsed_on)
        validate_endorsement(terms, endorsement)
        assert first_due > today + TIME_ZONE_SPARE, "R5: a report sent today is on time"

        contact = ContactIn.model_validate(examples["ContactIn"][0])
        assert terms.contract_start <= contact.occurred_on < today - TIME_ZONE_SPARE, "K1"
        first_gap = max(terms.contract_start, endorsement.endorsed_on) + timedelta(
            days=terms.contact_frequency_days)
        assert first_gap > today + TIME_ZONE_SPARE, "K1: no lack-of-contact audit yet"

        extended = ReviewOutcomeIn.model_validate(examples["ReviewOutcomeIn"][0])
        assert extended.new_contract_end is not None
        longer = dataclasses.replace(terms, contract_end=extended.new_contract_end)
        validate_terms(longer, today=today)  # V5: the new end keeps C5's gaps

        closure = ClosureIn.model_validate(examples["ClosureIn"][0])
        assert any(item.item_id.startswith(f"{terms.case_id}:")
                   for item in closure.carried_over)
        assert ClosureDayIn.model_validate(examples["ClosureDayIn"][0]).day > today


def test_the_example_case_is_a_new_one_each_day() -> None:
    day = date(2031, 3, 1)
    assert example_case_id(day) != example_case_id(day + timedelta(days=1))
    assert dated_examples(day)["CaseRegistration"][0]["case_id"] == example_case_id(day)


def test_c4_an_endorsement_without_the_childs_signature_is_refused() -> None:
    """The fault issue 12 found: the example child (ten and a half) must sign."""
    examples = dated_examples(date(2028, 2, 29))
    body = examples["EndorsementIn"][0]
    unsigned = dict(body, signatories=[s for s in body["signatories"] if s["role"] != "child"])
    with pytest.raises(PolicyViolation) as refused:
        validate_endorsement(_terms(examples),
                             EndorsementIn.model_validate(unsigned).to_endorsement("tm"))
    assert refused.value.rule == "C4" and "child" in str(refused.value)
