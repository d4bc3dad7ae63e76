"""Issue 17, pure parts: which of the caseload page's controls a role gets (from the one
permission table), the R6 streak warning it shows, and the vocabularies of its forms."""

from __future__ import annotations

from api.caseload import allowed_actions, page_session, streak_warning
from api.schemas.inputs import AssessmentIn, EventIn, ReviewIn
from models.roles import Role
from workflows import policy

WRITES = {"assess_report", "raise_event", "request_review", "complete_task"}


def test_r4_the_practitioner_gets_every_control_of_the_page() -> None:
    assert set(allowed_actions([Role.PRACTITIONER])) == {
        "assess_report", "raise_event", "request_review", "complete_task", "list_cases",
        "read_case"}


def test_r4_only_practitioner_and_admin_may_assess_a_report_on_the_page() -> None:
    assessing = {role for role in Role if "assess_report" in allowed_actions([role])}
    assert assessing == {Role.PRACTITIONER, Role.ADMIN}


def test_c7_v3_an_agency_may_request_a_review_and_nothing_else_it_writes_here() -> None:
    assert set(allowed_actions([Role.AGENCY])) & WRITES == {"request_review"}


def test_operations_reads_the_page_and_gets_no_control() -> None:
    assert allowed_actions([Role.OPERATIONS]) == ["list_cases", "read_case"]


def test_integration_has_no_page_to_read_but_may_raise_events() -> None:
    """An agency's service account writes only (it may not list cases): the page would
    show it nothing, and says so through the API's 403 on the caseload."""
    assert allowed_actions([Role.INTEGRATION]) == ["raise_event"]


def test_roles_add_up() -> None:
    together = allowed_actions([Role.CASE_PLANNER, Role.AGENCY])
    assert set(together) == set(allowed_actions([Role.CASE_PLANNER])) | set(
        allowed_actions([Role.AGENCY]))


def test_r6_no_warning_below_two_failures() -> None:
    assert streak_warning(0) is None and streak_warning(1) is None


def test_r6_warning_at_two_failures_says_one_more_recommends_an_audit() -> None:
    assert streak_warning(2) == ("2 consecutive failures: one more recommends an exception "
                                 "audit (R6)")


def test_r6_at_three_and_beyond_the_audit_is_recommended() -> None:
    assert streak_warning(3) == "3 consecutive failures: exception audit recommended (R6)"
    assert streak_warning(5) == "5 consecutive failures: exception audit recommended (R6)"


def test_r6_the_warning_follows_the_threshold() -> None:
    assert streak_warning(3, threshold=4) is not None and "one more" in str(
        streak_warning(3, threshold=4))
    assert streak_warning(2, threshold=4) is None


def test_r4_r7_v4_the_forms_offer_exactly_what_the_api_accepts() -> None:
    choices = page_session("pr-1", [Role.PRACTITIONER], None)["choices"]
    for assessment in choices["assessment"]:
        AssessmentIn.model_validate({"assessment": assessment})
    for kind in choices["event_kind"]:
        concern = "agency" if kind == "contract_concern" else None
        EventIn.model_validate({"event_id": "evt-1", "kind": kind, "concern": concern})
    for kind in choices["review_kind"]:
        ReviewIn.model_validate({"review_id": "rev-1", "kind": kind, "reason": "x"})
    assert set(choices["assessment"]) == {a.value for a in policy.Assessment}
    assert set(choices["event_kind"]) == {*policy.R7_TRIGGERS, "contract_concern"}
    assert set(choices["concern"]) == policy.V4_CONCERNS


def test_the_session_says_who_and_the_threshold() -> None:
    answer = page_session("ag-1", [Role.AGENCY], "agency-7")
    assert (answer["subject"], answer["roles"], answer["agency_id"]) == (
        "ag-1", ["agency"], "agency-7")
    assert answer["streak_threshold"] == policy.STREAK_THRESHOLD == 3
