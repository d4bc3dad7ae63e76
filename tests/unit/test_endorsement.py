"""C4 and C6 at endorsement, on the pure engine (workflows/engine_messages.py): the day
of the endorsement, the first due date before the schedule exists, the child's signature
where it is not age-appropriate, and who gets a copy."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from models.messages import EndorseContract
from models.terms import Endorsement, Signatory, SignatoryRole
from tests.unit.test_policy import QUARTERLY, START, make_terms
from workflows import engine_messages as messages
from workflows import policy
from workflows.engine import CaseEngine
from workflows.errors import CaseError
from workflows.state import CaseState

# The endorsement day of these tests: after the start, before the first report is due.
ENDORSED = date(2026, 2, 2)
NOW = datetime(2026, 2, 2, 3, 0, tzinfo=UTC)  # 14:00 in Melbourne


def endorsement(on: date = ENDORSED, *, child: bool = False,
                child_decision: str | None = None) -> EndorseContract:
    signatories = [Signatory(SignatoryRole.CP_DECISION_MAKER, "cp-1", on),
                   Signatory(SignatoryRole.AGENCY_REPRESENTATIVE, "ag-1", on),
                   Signatory(SignatoryRole.PARENT_GUARDIAN, "pg-1", on)]
    if child:
        signatories.append(Signatory(SignatoryRole.CHILD, "child-1", on))
    return EndorseContract(Endorsement("tm-1", on, signatories,
                                       child_not_signing_decision_id=child_decision))


def refusal(state: CaseState, message: EndorseContract, now: datetime = NOW) -> CaseError:
    with pytest.raises(CaseError) as caught:
        messages.validate_endorsement(state, message, now)
    return caught.value


def test_c4_an_endorsement_dated_ahead_is_refused() -> None:
    """Active from the endorsement: one dated next week would be active before anyone
    has signed (or, for an Aboriginal child, before ACSASS was consulted, C3)."""
    state = CaseState(terms=make_terms())
    error = refusal(state, endorsement(date(2026, 2, 9)))
    assert (error.field, error.rule) == ("endorsement.endorsed_on", "C4")
    messages.validate_endorsement(state, endorsement(), NOW)  # today is fine


def test_c5_endorsed_after_the_first_due_date_is_refused_before_the_schedule_exists() -> None:
    """The first run may still be scheduling the periods: the contract's own due dates
    decide, as they will once the periods exist."""
    state = CaseState(terms=make_terms())
    assert state.periods == []
    late = date(2026, 4, 20)
    assert late > QUARTERLY[0]
    error = refusal(state, endorsement(late), datetime(2026, 4, 20, 3, tzinfo=UTC))
    assert (error.field, error.rule) == ("endorsement.endorsed_on", "C5")


def test_c4_a_child_of_ten_may_be_excused_by_a_recorded_decision() -> None:
    """"Where age-appropriate": a twelve-year-old must sign unless a decision says
    signing is not appropriate for them."""
    terms = make_terms(child_birth_date=date(2013, 6, 1))
    assert policy.child_must_sign(terms.child_birth_date, ENDORSED)
    state = CaseState(terms=terms)
    error = refusal(state, endorsement())
    assert (error.field, error.rule) == ("endorsement.signatories", "C4")
    messages.validate_endorsement(state, endorsement(child_decision="dec-4"), NOW)
    error = refusal(state, endorsement(child_decision=" "))
    assert (error.field, error.rule) == ("endorsement.child_not_signing_decision_id", "C4")


@pytest.mark.parametrize(("birth", "child_signs", "excused", "copy_to_child"), [
    (date(2018, 5, 1), False, False, False),  # seven, did not sign: no copy
    (date(2018, 5, 1), True, False, True),    # seven and signed: age permits
    (date(2013, 6, 1), True, False, True),    # twelve: signs and gets a copy
    (date(2013, 6, 1), False, True, False),   # twelve, excused: not age-appropriate
])
def test_c6_copies_go_to_the_child_who_is_old_enough_or_signed(
        birth: date, child_signs: bool, excused: bool, copy_to_child: bool) -> None:
    engine = CaseEngine(CaseState(terms=make_terms(child_birth_date=birth)))
    messages.apply_endorsement(engine, endorsement(
        child=child_signs, child_decision="dec-4" if excused else None), NOW)
    copies = {n.recipient for n in engine.pending.notifications if n.kind == "contract_copy"}
    assert copies == ({"agency", "parent", "child"} if copy_to_child else {"agency", "parent"})
    assert START < ENDORSED < QUARTERLY[0]
