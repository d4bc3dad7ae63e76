"""The pure rules of requests between districts (workflows/district_policy.py): what a
decision may follow (T1, T2), how a dispute climbs its ladder and ends (T3), and that a
district never requests itself."""

from __future__ import annotations

import pytest

from models.errors import PolicyViolation
from workflows import district_policy as policy
from workflows.errors import CONFLICT, INVALID, CaseError


def refused(call: object, *args: object) -> CaseError:
    with pytest.raises(CaseError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def test_t1_a_district_does_not_request_itself() -> None:
    with pytest.raises(PolicyViolation) as caught:
        policy.check_districts("perth", "perth")
    assert (caught.value.rule, caught.value.field) == ("T1", "to_district")
    policy.check_districts("perth", "joondalup")


def test_t1_accept_reject_an_open_request_complete_an_open_or_accepted_one() -> None:
    policy.check_decision("transfer", policy.OPEN, "accept", None)
    policy.check_decision("transfer", policy.OPEN, "reject", "note-1")
    policy.check_decision("transfer", policy.OPEN, "complete", None)
    policy.check_decision("transfer", policy.ACCEPTED, "complete", None)
    late = refused(policy.check_decision, "transfer", policy.ACCEPTED, "accept", None)
    assert (late.kind, late.field, late.rule) == (CONFLICT, "status", "T1")
    for status in (policy.COMPLETED, policy.DISPUTED, policy.DECLINED):
        assert refused(policy.check_decision, "transfer", status, "reject", "n").kind == CONFLICT


def test_t3_a_rejection_states_its_reason() -> None:
    error = refused(policy.check_decision, "transfer", policy.OPEN, "reject", None)
    assert (error.kind, error.field, error.rule) == (INVALID, "reason", "T3")


def test_t2_a_service_request_is_never_completed() -> None:
    error = refused(policy.check_decision, "service", policy.ACCEPTED, "complete", None)
    assert (error.kind, error.field, error.rule) == (INVALID, "decision", "T2")
    assert refused(policy.check_decision, "service", policy.ACCEPTED, "accept", None
                   ).rule == "T2"


def test_t3_referral_names_the_level_it_leaves_and_stops_at_the_director() -> None:
    policy.check_referral(policy.ASSISTANT_DIRECTORS, policy.OPEN, policy.ASSISTANT_DIRECTORS)
    stale = refused(policy.check_referral, policy.DISTRICT_DIRECTORS, policy.OPEN,
                    policy.ASSISTANT_DIRECTORS)
    assert (stale.kind, stale.field, stale.rule) == (CONFLICT, "from_stage", "T3")
    final = refused(policy.check_referral, policy.DIRECTOR, policy.OPEN, policy.DIRECTOR)
    assert final.field == "from_stage" and "final" in final.message
    decided = refused(policy.check_referral, policy.ASSISTANT_DIRECTORS, policy.RESOLVED,
                      policy.ASSISTANT_DIRECTORS)
    assert decided.field == "status"


def test_t3_resolution_is_proceed_or_withdraw_once() -> None:
    policy.check_resolution(policy.OPEN, "proceed")
    policy.check_resolution(policy.OPEN, "withdraw")
    unknown = refused(policy.check_resolution, policy.OPEN, "split")
    assert (unknown.kind, unknown.field, unknown.rule) == (INVALID, "outcome", "T3")
    assert refused(policy.check_resolution, policy.RESOLVED, "proceed").kind == CONFLICT


def test_t4_review_every_three_months_reminded_five_working_days_before() -> None:
    review = policy.coworking_review()
    assert (review.key, review.rule, review.months, review.reminder_working_days,
            review.working_days, review.calendar_days) == ("review", "T4", 3, 5, 0, 0)
