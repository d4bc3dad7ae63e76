"""The pure contract rules (workflows/policy.py), one rule id per test name."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from models.errors import PolicyViolation
from models.terms import (
    CONTRACTABLE_FUNCTIONS,
    NON_CONTRACTABLE_FUNCTIONS,
    ContractTerms,
    Endorsement,
    Phase,
    ReportingSchedule,
    Signatory,
    SignatoryRole,
)
from workflows import policy
from workflows.policy import Assessment, Outcome, StreakState

START = date(2026, 1, 15)
QUARTERLY = [date(2026, 4, 15), date(2026, 7, 15), date(2026, 10, 15), date(2027, 1, 15)]


def make_terms(**overrides: object) -> ContractTerms:
    values: dict[str, object] = {
        "case_id": "case-1",
        "agency_id": "agency-7",
        "phase": Phase.PROTECTION_ORDER,
        "total_case_management": True,
        "functions": [],
        "aboriginal_child": False,
        "acsass_consulted_on": None,
        "child_birth_date": date(2018, 5, 1),
        "schedule": ReportingSchedule(due_dates=list(QUARTERLY)),
        "contract_start": START,
        "contract_end": date(2027, 1, 15),
        "order_expiry": date(2027, 6, 30),
    }
    values.update(overrides)
    return ContractTerms(**values)  # type: ignore[arg-type]


def violation(terms: ContractTerms) -> PolicyViolation:
    with pytest.raises(PolicyViolation) as caught:
        policy.validate_terms(terms)
    return caught.value


def schedule_violation(due_dates: list[date], **overrides: object) -> PolicyViolation:
    return violation(make_terms(schedule=ReportingSchedule(due_dates=due_dates), **overrides))


# ----------------------------------------------------------------------- errors
def test_policy_violation_str_and_dict() -> None:
    error = PolicyViolation("C2", "functions[2]", "'placement_change' can never be contracted.")
    assert str(error) == "C2 functions[2]: 'placement_change' can never be contracted."
    assert error.to_dict() == {"rule": "C2", "field": "functions[2]",
                               "message": "'placement_change' can never be contracted."}


def test_valid_terms_return_sorted_due_dates() -> None:
    assert policy.validate_terms(make_terms()) == QUARTERLY


# --------------------------------------------------------------------------- C1
def test_c1_refuses_investigation_phase() -> None:
    error = violation(make_terms(phase=Phase.INVESTIGATION))
    assert (error.rule, error.field) == ("C1", "phase")
    assert "investigation phase cannot be contracted" in error.message


def test_c1_refuses_intake_phase() -> None:
    error = violation(make_terms(phase=Phase.INTAKE))
    assert (error.rule, error.field) == ("C1", "phase")


def test_c1_is_checked_before_the_other_rules() -> None:
    error = violation(make_terms(phase=Phase.INTAKE, total_case_management=False,
                                 functions=["risk_assessment"], case_id=""))
    assert error.rule == "C1"


# --------------------------------------------------------------------------- C2
def test_c2_refuses_non_contractable_function_by_position() -> None:
    functions = ["direct_work_with_child", "progress_reporting", "placement_change"]
    error = violation(make_terms(total_case_management=False, functions=functions))
    assert (error.rule, error.field) == ("C2", "functions[2]")
    assert "'placement_change'" in error.message


@pytest.mark.parametrize("code", sorted(NON_CONTRACTABLE_FUNCTIONS))
def test_c2_refuses_every_non_contractable_function(code: str) -> None:
    error = violation(make_terms(total_case_management=False, functions=[code]))
    assert (error.rule, error.field) == ("C2", "functions[0]")
    assert "can never be contracted" in error.message


def test_c2_lists_one_code_per_domain_item_and_do_not_overlap() -> None:
    assert len(NON_CONTRACTABLE_FUNCTIONS) == 13
    assert not CONTRACTABLE_FUNCTIONS & NON_CONTRACTABLE_FUNCTIONS


def test_c2_refuses_unknown_function_code() -> None:
    error = violation(make_terms(total_case_management=False,
                                 functions=["progress_reporting", "babysitting"]))
    assert (error.rule, error.field) == ("C2", "functions[1]")
    assert "Unknown function 'babysitting'" in error.message


def test_c2_refuses_duplicate_function() -> None:
    error = violation(make_terms(total_case_management=False, functions=[
        "progress_reporting", "direct_work_with_child", "progress_reporting"]))
    assert (error.rule, error.field) == ("C2", "functions[2]")
    assert "twice" in error.message


def test_c2_refuses_function_list_with_total_case_management() -> None:
    error = violation(make_terms(total_case_management=True, functions=["progress_reporting"]))
    assert (error.rule, error.field) == ("C2", "functions")


def test_c2_refuses_no_functions_without_total_case_management() -> None:
    error = violation(make_terms(total_case_management=False, functions=[]))
    assert (error.rule, error.field) == ("C2", "functions")


def test_c2_accepts_specified_functions() -> None:
    terms = make_terms(total_case_management=False, functions=[
        "case_management_coordination", "family_contact_supervision", "referrals_to_services",
        "review_risk_assessment_contribution"])
    assert policy.validate_terms(terms) == QUARTERLY


# --------------------------------------------------------------------------- C3
def test_c3_requires_acsass_consultation_for_aboriginal_child() -> None:
    error = violation(make_terms(aboriginal_child=True, acsass_consulted_on=None))
    assert (error.rule, error.field) == ("C3", "acsass_consulted_on")


def test_c3_refuses_consultation_after_contract_start() -> None:
    error = violation(make_terms(aboriginal_child=True, acsass_consulted_on=date(2026, 1, 16)))
    assert (error.rule, error.field) == ("C3", "acsass_consulted_on")
    assert "2026-01-16" in error.message


def test_c3_accepts_consultation_on_contract_start() -> None:
    terms = make_terms(aboriginal_child=True, acsass_consulted_on=START)
    assert policy.validate_terms(terms) == QUARTERLY


# ------------------------------------------------------------- input shape, E1
def test_input_refuses_empty_case_id() -> None:
    error = violation(make_terms(case_id="  "))
    assert (error.rule, error.field) == ("input", "case_id")


def test_input_refuses_free_text_agency_id() -> None:
    error = violation(make_terms(agency_id="Smith Family Services"))
    assert (error.rule, error.field) == ("input", "agency_id")


@pytest.mark.parametrize("days", [0, 366])
def test_k1_refuses_contact_frequency_outside_one_day_to_a_year(days: int) -> None:
    error = violation(make_terms(contact_frequency_days=days))
    assert (error.rule, error.field) == ("K1", "contact_frequency_days")


def test_k1_accepts_a_yearly_contact_frequency() -> None:
    policy.validate_terms(make_terms(contact_frequency_days=365))


def test_e1_refuses_contract_end_on_start() -> None:
    error = violation(make_terms(contract_end=START))
    assert (error.rule, error.field) == ("E1", "contract_end")


def test_e1_refuses_order_expiry_before_start() -> None:
    error = violation(make_terms(order_expiry=date(2026, 1, 1)))
    assert (error.rule, error.field) == ("E1", "order_expiry")


# --------------------------------------------------------------------------- C5
def test_c5_refuses_gap_longer_than_three_months() -> None:
    error = schedule_violation([date(2026, 4, 15), date(2026, 7, 16), date(2026, 10, 15),
                                date(2027, 1, 15)])
    assert (error.rule, error.field) == ("C5", "schedule.due_dates[1]")
    assert "more than three months after 2026-04-15" in error.message


def test_c5_accepts_gap_of_exactly_three_months() -> None:
    due_dates = [date(2026, 4, 15), date(2026, 7, 15), date(2026, 10, 15), date(2027, 1, 15)]
    assert policy.validate_terms(make_terms(
        schedule=ReportingSchedule(due_dates=due_dates))) == due_dates


def test_c5_refuses_first_report_more_than_three_months_after_start() -> None:
    error = schedule_violation([date(2026, 4, 16), date(2026, 7, 15), date(2026, 10, 15),
                                date(2027, 1, 15)])
    assert (error.rule, error.field) == ("C5", "schedule.due_dates[0]")


def test_c5_refuses_gap_from_last_report_to_contract_end() -> None:
    error = schedule_violation(QUARTERLY[:3], contract_end=date(2027, 1, 16))
    assert (error.rule, error.field) == ("C5", "schedule.due_dates")
    assert "2026-10-15" in error.message


def test_c5_end_is_the_order_expiry_when_it_comes_first() -> None:
    # The order expires before the contract ends (E1): the last report is owed by then.
    assert policy.validate_terms(make_terms(
        schedule=ReportingSchedule(due_dates=QUARTERLY[:3]), contract_end=date(2027, 6, 30),
        order_expiry=date(2026, 12, 1))) == QUARTERLY[:3]
    error = schedule_violation(QUARTERLY, order_expiry=date(2026, 12, 1))
    assert (error.rule, error.field) == ("C5", "schedule.due_dates[3]")
    assert "after the end of case management on 2026-12-01" in error.message


def test_c5_accepts_report_due_on_contract_end() -> None:
    assert policy.validate_terms(make_terms(contract_end=QUARTERLY[-1]))[-1] == QUARTERLY[-1]


def test_c5_refuses_due_dates_out_of_order() -> None:
    error = schedule_violation([date(2026, 4, 15), date(2026, 6, 15), date(2026, 5, 15),
                                date(2026, 7, 15), date(2026, 10, 15), date(2027, 1, 15)])
    assert (error.rule, error.field) == ("C5", "schedule.due_dates[2]")


def test_c5_refuses_duplicate_due_date() -> None:
    error = schedule_violation([date(2026, 4, 15), date(2026, 4, 15), date(2026, 7, 15),
                                date(2026, 10, 15), date(2027, 1, 15)])
    assert (error.rule, error.field) == ("C5", "schedule.due_dates[1]")


def test_c5_refuses_due_date_on_contract_start() -> None:
    error = schedule_violation([START, *QUARTERLY])
    assert (error.rule, error.field) == ("C5", "schedule.due_dates[0]")


def test_c5_refuses_both_explicit_dates_and_interval() -> None:
    error = violation(make_terms(schedule=ReportingSchedule(due_dates=QUARTERLY,
                                                            interval_months=3)))
    assert (error.rule, error.field) == ("C5", "schedule")


def test_c5_refuses_missing_schedule() -> None:
    error = violation(make_terms(schedule=ReportingSchedule()))
    assert (error.rule, error.field) == ("C5", "schedule")


def test_c5_refuses_start_date_without_interval() -> None:
    error = violation(make_terms(schedule=ReportingSchedule(start_date=START)))
    assert (error.rule, error.field) == ("C5", "schedule.interval_months")


@pytest.mark.parametrize("interval", [0, 4, 6])
def test_c5_refuses_interval_outside_one_to_three_months(interval: int) -> None:
    error = violation(make_terms(schedule=ReportingSchedule(interval_months=interval)))
    assert (error.rule, error.field) == ("C5", "schedule.interval_months")


def test_c5_interval_schedule_resolves_from_contract_start() -> None:
    terms = make_terms(schedule=ReportingSchedule(interval_months=3))
    assert policy.validate_terms(terms) == QUARTERLY


def test_c5_interval_schedule_from_later_start_date() -> None:
    terms = make_terms(schedule=ReportingSchedule(start_date=date(2026, 2, 1),
                                                  interval_months=2),
                       contract_end=date(2026, 12, 31))
    assert policy.validate_terms(terms) == [
        date(2026, 4, 1), date(2026, 6, 1), date(2026, 8, 1), date(2026, 10, 1),
        date(2026, 12, 1)]


def test_c5_refuses_interval_start_date_before_contract_start() -> None:
    error = violation(make_terms(schedule=ReportingSchedule(start_date=date(2026, 1, 1),
                                                            interval_months=3)))
    assert (error.rule, error.field) == ("C5", "schedule.start_date")


def test_c5_refuses_interval_start_date_leaving_first_gap_too_long() -> None:
    error = violation(make_terms(schedule=ReportingSchedule(start_date=date(2026, 2, 1),
                                                            interval_months=3)))
    assert (error.rule, error.field) == ("C5", "schedule.start_date")


def test_c5_refuses_schedule_with_no_report_before_the_end() -> None:
    error = violation(make_terms(schedule=ReportingSchedule(interval_months=3),
                                 contract_end=date(2026, 3, 15)))
    assert (error.rule, error.field) == ("C5", "schedule")


def test_c5_month_end_schedule_clamped_to_february_is_not_a_gap() -> None:
    # 30 Nov + 3 months clamps to 28 Feb; returning to the 30th in May is still quarterly.
    terms = make_terms(contract_start=date(2025, 11, 30), contract_end=date(2026, 11, 30),
                       schedule=ReportingSchedule(interval_months=3))
    assert policy.validate_terms(terms) == [
        date(2026, 2, 28), date(2026, 5, 30), date(2026, 8, 30), date(2026, 11, 30)]


def test_c5_gap_from_mid_month_is_measured_without_the_month_end_rule() -> None:
    error = schedule_violation([date(2026, 2, 27), date(2026, 5, 28)],
                               contract_start=date(2025, 11, 27),
                               contract_end=date(2026, 5, 28))
    assert (error.rule, error.field) == ("C5", "schedule.due_dates[1]")


# ------------------------------------------------------- add_months, resolution
@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2025, 11, 30), 3, date(2026, 2, 28)),
    (date(2023, 11, 30), 3, date(2024, 2, 29)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2026, 11, 15), 3, date(2027, 2, 15)),
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
    (date(2026, 5, 15), 0, date(2026, 5, 15)),
])
def test_add_months_clamps_to_month_end(day: date, months: int, expected: date) -> None:
    assert policy.add_months(day, months) == expected


def test_resolve_due_dates_every_interval_up_to_and_including_end() -> None:
    schedule = ReportingSchedule(start_date=date(2026, 1, 31), interval_months=1)
    assert policy.resolve_due_dates(schedule, date(2026, 1, 31), date(2026, 5, 31)) == [
        date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)]


def test_resolve_due_dates_stops_before_a_date_after_the_end() -> None:
    schedule = ReportingSchedule(interval_months=3)
    assert policy.resolve_due_dates(schedule, START, date(2027, 1, 14)) == QUARTERLY[:3]


def test_resolve_due_dates_sorts_explicit_dates() -> None:
    schedule = ReportingSchedule(due_dates=[QUARTERLY[1], QUARTERLY[0]])
    assert policy.resolve_due_dates(schedule, START, QUARTERLY[-1]) == QUARTERLY[:2]


# --------------------------------------------------------------------------- C4
@pytest.mark.parametrize(("on", "expected"), [
    (date(2026, 3, 9), False),
    (date(2026, 3, 10), True),
    (date(2030, 1, 1), True),
])
def test_c4_child_signs_from_tenth_birthday(on: date, expected: bool) -> None:
    assert policy.child_must_sign(date(2016, 3, 10), on) is expected


def test_c4_child_born_29_february_turns_ten_on_1_march() -> None:
    assert policy.child_must_sign(date(2016, 2, 29), date(2026, 2, 28)) is False
    assert policy.child_must_sign(date(2016, 2, 29), date(2026, 3, 1)) is True


def test_c4_child_signature_age_can_be_changed_and_unknown_birth_date_does_not_require() -> None:
    assert policy.child_must_sign(date(2014, 6, 1), date(2026, 6, 1), min_age_years=12) is True
    assert policy.child_must_sign(date(2014, 6, 2), date(2026, 6, 1), min_age_years=12) is False
    assert policy.child_must_sign(None, date(2026, 6, 1)) is False


def signed(role: SignatoryRole, person_id: str, on: date = START) -> Signatory:
    return Signatory(role, person_id, on)


def make_endorsement(*signatories: Signatory, on: date = START,
                     **overrides: object) -> Endorsement:
    if not signatories:
        signatories = (signed(SignatoryRole.CP_DECISION_MAKER, "cp-1", on),
                       signed(SignatoryRole.AGENCY_REPRESENTATIVE, "ag-rep-1", on),
                       signed(SignatoryRole.PARENT_GUARDIAN, "parent-1", on))
    values: dict[str, object] = {"team_manager_id": "tm-1", "endorsed_on": on,
                                 "signatories": list(signatories)}
    values.update(overrides)
    return Endorsement(**values)  # type: ignore[arg-type]


def endorsement_violation(terms: ContractTerms, endorsement: Endorsement) -> PolicyViolation:
    with pytest.raises(PolicyViolation) as caught:
        policy.validate_endorsement(terms, endorsement)
    return caught.value


def test_c4_accepts_complete_endorsement() -> None:
    policy.validate_endorsement(make_terms(), make_endorsement())


def test_c4_requires_team_manager() -> None:
    error = endorsement_violation(make_terms(), make_endorsement(team_manager_id=""))
    assert (error.rule, error.field) == ("C4", "team_manager_id")


def test_c4_requires_cp_decision_maker_signature() -> None:
    error = endorsement_violation(make_terms(), make_endorsement(
        signed(SignatoryRole.AGENCY_REPRESENTATIVE, "ag-rep-1"),
        signed(SignatoryRole.PARENT_GUARDIAN, "parent-1")))
    assert (error.rule, error.field) == ("C4", "signatories")
    assert error.message == "Missing signatures: cp_decision_maker."


def test_c4_requires_child_signature_from_age_ten() -> None:
    terms = make_terms(child_birth_date=date(2015, 12, 1))
    error = endorsement_violation(terms, make_endorsement())
    assert (error.rule, error.field) == ("C4", "signatories")
    assert error.message == "Missing signatures: child."
    policy.validate_endorsement(terms, make_endorsement(
        signed(SignatoryRole.CP_DECISION_MAKER, "cp-1"),
        signed(SignatoryRole.AGENCY_REPRESENTATIVE, "ag-rep-1"),
        signed(SignatoryRole.CHILD, "child-1"),
        signed(SignatoryRole.PARENT_GUARDIAN, "parent-1")))


def test_c4_requires_a_parent_or_guardian() -> None:
    error = endorsement_violation(make_terms(), make_endorsement(
        signed(SignatoryRole.CP_DECISION_MAKER, "cp-1"),
        signed(SignatoryRole.AGENCY_REPRESENTATIVE, "ag-rep-1")))
    assert error.message == "Missing signatures: parent_guardian."


def test_c4_parent_declining_needs_best_interests_decision() -> None:
    declined = Signatory(SignatoryRole.PARENT_GUARDIAN, "parent-1", declined=True)
    signatories = (signed(SignatoryRole.CP_DECISION_MAKER, "cp-1"),
                   signed(SignatoryRole.AGENCY_REPRESENTATIVE, "ag-rep-1"), declined)
    error = endorsement_violation(make_terms(), make_endorsement(*signatories))
    assert (error.rule, error.field) == ("C4", "best_interests_decision_id")
    policy.validate_endorsement(make_terms(), make_endorsement(
        *signatories, best_interests_decision_id="bid-1"))


def test_c4_only_a_parent_may_decline() -> None:
    error = endorsement_violation(make_terms(), make_endorsement(
        signed(SignatoryRole.CP_DECISION_MAKER, "cp-1"),
        Signatory(SignatoryRole.AGENCY_REPRESENTATIVE, "ag-rep-1", declined=True),
        signed(SignatoryRole.PARENT_GUARDIAN, "parent-1"), best_interests_decision_id="bid-1"))
    assert (error.rule, error.field) == ("C4", "signatories[1].declined")


def test_c4_refuses_unsigned_signatory() -> None:
    error = endorsement_violation(make_terms(), make_endorsement(
        signed(SignatoryRole.CP_DECISION_MAKER, "cp-1"),
        Signatory(SignatoryRole.AGENCY_REPRESENTATIVE, "ag-rep-1"),
        signed(SignatoryRole.PARENT_GUARDIAN, "parent-1")))
    assert (error.rule, error.field) == ("C4", "signatories[1].signed_on")


def test_c4_refuses_signature_after_endorsement() -> None:
    error = endorsement_violation(make_terms(), make_endorsement(
        signed(SignatoryRole.CP_DECISION_MAKER, "cp-1"),
        signed(SignatoryRole.AGENCY_REPRESENTATIVE, "ag-rep-1"),
        signed(SignatoryRole.PARENT_GUARDIAN, "parent-1", START + timedelta(days=1))))
    assert (error.rule, error.field) == ("C4", "signatories[2].signed_on")


def test_c4_refuses_person_name_as_signatory_id() -> None:
    error = endorsement_violation(make_terms(), make_endorsement(
        signed(SignatoryRole.CP_DECISION_MAKER, "Jane Citizen"),
        signed(SignatoryRole.AGENCY_REPRESENTATIVE, "ag-rep-1"),
        signed(SignatoryRole.PARENT_GUARDIAN, "parent-1")))
    assert (error.rule, error.field) == ("input", "signatories[0].person_id")


def test_c4_accepts_endorsement_signed_in_advance_of_start() -> None:
    policy.validate_endorsement(make_terms(), make_endorsement(on=date(2026, 1, 5)))


def test_c4_refuses_endorsement_once_case_management_has_ended() -> None:
    terms = make_terms(order_expiry=date(2026, 12, 1))
    error = endorsement_violation(terms, make_endorsement(on=date(2026, 12, 1)))
    assert (error.rule, error.field) == ("C4", "endorsed_on")


def test_c3_refuses_endorsement_before_acsass_consultation() -> None:
    terms = make_terms(aboriginal_child=True, acsass_consulted_on=date(2026, 1, 10))
    error = endorsement_violation(terms, make_endorsement(on=date(2026, 1, 9)))
    assert (error.rule, error.field) == ("C3", "endorsed_on")
    policy.validate_endorsement(terms, make_endorsement(on=date(2026, 1, 10)))


# --------------------------------------------------------------------------- R5
OVERDUE_AT = datetime(2026, 4, 15, 14, 0, tzinfo=UTC)  # end of 15 April in Melbourne
ON_TIME = OVERDUE_AT - timedelta(seconds=1)


@pytest.mark.parametrize(("first_report_at", "final", "ended", "expected"), [
    (ON_TIME, Assessment.ADEQUATE, False, Outcome.SUCCESS),
    (ON_TIME, Assessment.ADEQUATE, True, Outcome.SUCCESS),
    (ON_TIME, Assessment.INADEQUATE_QUALITY, False, Outcome.INADEQUATE),
    (ON_TIME, None, False, Outcome.PENDING),
    (ON_TIME, None, True, Outcome.PENDING),  # awaiting the practitioner's assessment
    (ON_TIME, Assessment.HOLD_MEETING, True, Outcome.PENDING),
    (OVERDUE_AT, None, False, Outcome.LATE),  # the instant D ends is already late
    (OVERDUE_AT + timedelta(days=3), Assessment.ADEQUATE, False, Outcome.LATE),
    (None, None, False, Outcome.PENDING),
    (None, None, True, Outcome.MISSING),
])
def test_r5_period_outcome(first_report_at: datetime | None, final: Assessment | None,
                           ended: bool, expected: Outcome) -> None:
    assert policy.period_outcome(overdue_at=OVERDUE_AT, first_report_at=first_report_at,
                                 final_assessment=final, period_ended=ended) == expected


@pytest.mark.parametrize(("first_report_at", "final", "ended", "expected"), [
    (ON_TIME, None, False, Outcome.PENDING),  # the new report can still arrive
    (ON_TIME, None, True, Outcome.MISSING),  # it never arrived before the next due date
    (OVERDUE_AT, None, True, Outcome.LATE),  # the first report was late: late it stays
])
def test_r5_requested_resubmission_not_arrived_by_period_end_is_missing(
        first_report_at: datetime, final: Assessment | None, ended: bool,
        expected: Outcome) -> None:
    assert policy.period_outcome(overdue_at=OVERDUE_AT, first_report_at=first_report_at,
                                 final_assessment=final, period_ended=ended,
                                 awaiting_resubmission=True) == expected


def test_r5_r6_missing_resubmission_counts_in_the_streak() -> None:
    """A period left PENDING would hold the R6 count for good; MISSING feeds it."""
    outcome = policy.period_outcome(overdue_at=OVERDUE_AT, first_report_at=ON_TIME,
                                    final_assessment=None, period_ended=True,
                                    awaiting_resubmission=True)
    fired, state = feed([Outcome.LATE, outcome, Outcome.MISSING])
    assert fired == [False, False, True]
    assert state.consecutive_failures == 3


def test_r5_failures_are_late_missing_and_inadequate() -> None:
    assert [o for o in Outcome if policy.is_failure(o)] == [
        Outcome.LATE, Outcome.MISSING, Outcome.INADEQUATE]


def test_r4_final_assessments() -> None:
    assert policy.FINAL_ASSESSMENTS == {Assessment.ADEQUATE, Assessment.INADEQUATE_QUALITY}


# --------------------------------------------------------------------------- R6
def feed(outcomes: list[Outcome]) -> tuple[list[bool], StreakState]:
    state, fired = StreakState(), []
    for outcome in outcomes:
        state, triggers = policy.advance_streak(state, outcome)
        fired.append(triggers)
    return fired, state


F, S, P = Outcome.MISSING, Outcome.SUCCESS, Outcome.PENDING


def test_r6_late_missing_inadequate_in_a_row_trigger_once() -> None:
    fired, state = feed([Outcome.LATE, Outcome.MISSING, Outcome.INADEQUATE])
    assert fired == [False, False, True]
    assert state == StreakState(consecutive_failures=3, triggered=True)


def test_r6_one_trigger_per_streak() -> None:
    fired, state = feed([F, F, F, F])
    assert fired == [False, False, True, False]
    assert state == StreakState(consecutive_failures=4, triggered=True)


def test_r6_success_resets() -> None:
    fired, state = feed([F, F, S, F, F])
    assert fired == [False] * 5
    assert state == StreakState(consecutive_failures=2, triggered=False)


def test_r6_new_streak_after_success_triggers_again() -> None:
    fired, _ = feed([F, F, F, S, F, F, F])
    assert fired == [False, False, True, False, False, False, True]
    assert sum(fired) == 2


def test_r6_pending_leaves_streak_unchanged() -> None:
    before = StreakState(consecutive_failures=2, triggered=False)
    after, fired = policy.advance_streak(before, P)
    assert (after, fired) == (before, False)
    fired_list, _ = feed([F, F, P, F])
    assert fired_list == [False, False, False, True]


def test_r6_does_not_modify_the_given_state() -> None:
    before = StreakState(consecutive_failures=2)
    snapshot = dataclasses.replace(before)
    after, fired = policy.advance_streak(before, F)
    assert before == snapshot
    assert (after, fired) == (StreakState(3, True), True)


# ---------------------------------------------------------------------- R7, V4
def test_r7_and_v4_codes() -> None:
    assert policy.R7_TRIGGERS == {"lack_of_client_contact", "case_plan_deviation",
                                  "failure_to_report_significant_events",
                                  "complaint_from_child_or_family"}
    assert policy.V4_CONCERNS == {"child_or_family", "agency", "child_protection",
                                  "escalated_risk", "placement_ended_unexpectedly",
                                  "conflict_of_interest"}
