"""The registration and endorsement examples of the OpenAPI document agree with each
other and with C1-C5 on every day from the endorsement's to the contract's end (issue
12): the API test (tests/api/test_openapi_examples.py) sends them on the real today; this
checks every other day, through the same request models and policy checks, plus the
workflow's own C4 checks (not a day still to come; before the first due date)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from api.schemas.inputs import CaseRegistration, EndorsementIn
from models.errors import PolicyViolation
from workflows.policy import child_must_sign, validate_endorsement, validate_terms


def _example(model: type[CaseRegistration] | type[EndorsementIn]) -> dict[str, Any]:
    extra = model.model_config.get("json_schema_extra")
    assert isinstance(extra, dict)
    examples = extra["examples"]
    assert isinstance(examples, list) and isinstance(examples[0], dict)
    return examples[0]


def test_c4_c5_the_examples_hold_on_every_day_until_the_contract_ends() -> None:
    terms = CaseRegistration.model_validate(_example(CaseRegistration)).to_terms(
        "AU-VIC", "Australia/Melbourne")
    endorsement = EndorsementIn.model_validate(_example(EndorsementIn)).to_endorsement("tm-1")
    endorsed_on, first_due = endorsement.endorsed_on, min(terms.schedule.due_dates)
    assert endorsed_on < first_due, "C5: endorsed before the first report is due"
    assert child_must_sign(terms.child_birth_date, endorsed_on), "the example child signs"
    validate_endorsement(terms, endorsement)
    day, days = endorsed_on, 0
    while day <= terms.contract_end:
        validate_terms(terms, today=day)  # E1: not over on any of these days
        day += timedelta(days=1)
        days += 1
    assert date(2026, 6, 1) == endorsed_on and days > 365 * 70


def test_c4_an_endorsement_without_the_childs_signature_is_refused() -> None:
    """The fault issue 12 found: the example child (born 2016) must sign."""
    terms = CaseRegistration.model_validate(_example(CaseRegistration)).to_terms(
        "AU-VIC", "Australia/Melbourne")
    body = _example(EndorsementIn)
    unsigned = dict(body, signatories=[s for s in body["signatories"] if s["role"] != "child"])
    with pytest.raises(PolicyViolation) as refused:
        validate_endorsement(terms, EndorsementIn.model_validate(unsigned).to_endorsement("tm"))
    assert refused.value.rule == "C4" and "child" in str(refused.value)
