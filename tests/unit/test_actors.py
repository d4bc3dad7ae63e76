"""Issue 9, part 5: who did it comes from the token (api/actors.py), as pure rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.actors import (
    DOMAIN_ROLES,
    ON_BEHALF,
    ROLE_FIELD_ACTIONS,
    actor_id,
    domain_role,
    markdown_table,
)
from api.errors import Forbidden, Unprocessable
from api.permissions import PERMISSIONS, Action, Caller
from casework.tokens import Principal, Role

README = Path(__file__).resolve().parents[2] / "README.md"


def caller(action: Action, *roles: Role, subject: str = "sub-1",
           agency: str | None = None) -> Caller:
    """The caller as `permitted` builds it: granted by the token roles the table allows."""
    principal = Principal(subject=subject, roles=frozenset(roles), agency_id=agency)
    return Caller(principal, action, principal.roles & PERMISSIONS[action].roles)


AGENCY = caller(Action.RECORD_CONTACT, Role.AGENCY, subject="ag-9", agency="agency-7")
PRACTITIONER = caller(Action.RECORD_CONTACT, Role.PRACTITIONER, subject="cp-3")
ADMIN = caller(Action.RECORD_CONTACT, Role.ADMIN, subject="admin-1")


def test_an_absent_actor_id_is_the_token_subject() -> None:
    assert actor_id(AGENCY, "", "by") == "ag-9"
    assert actor_id(AGENCY, None, "by") == "ag-9"


def test_an_actor_id_naming_the_caller_is_accepted() -> None:
    assert actor_id(PRACTITIONER, "cp-3", "assessed_by") == "cp-3"


def test_an_actor_id_naming_someone_else_is_403_on_the_field() -> None:
    with pytest.raises(Forbidden) as refused:
        actor_id(AGENCY, "cp-3", "submitted_by")
    assert refused.value.status == 403
    assert refused.value.extra["field"] == "submitted_by"


def test_an_admin_may_record_on_someones_behalf() -> None:
    assert actor_id(ADMIN, "cp-3", "by") == "cp-3"
    assert actor_id(ADMIN, "", "by") == "admin-1"


def test_a_subject_that_is_no_id_is_never_recorded() -> None:
    """DESIGN decision 6: history carries ids, never free text."""
    odd = caller(Action.RECORD_CONTACT, Role.PRACTITIONER, subject="Jane Citizen")
    with pytest.raises(Forbidden) as refused:
        actor_id(odd, "", "by")
    assert refused.value.extra["field"] == "by"


def test_k1_an_agency_cannot_state_the_practitioner_role() -> None:
    with pytest.raises(Forbidden) as refused:
        domain_role(AGENCY, "practitioner", "by_role", rule="K1")
    assert refused.value.extra["field"] == "by_role"
    assert refused.value.extra["rule"] == "K1"


def test_k1_by_role_is_derived_from_the_token() -> None:
    assert domain_role(AGENCY, None, "by_role", rule="K1") == "agency"
    assert domain_role(PRACTITIONER, None, "by_role", rule="K1") == "practitioner"
    assert domain_role(PRACTITIONER, "practitioner", "by_role", rule="K1") == "practitioner"


def test_k1_an_agency_also_holding_operations_is_still_the_agency() -> None:
    """The role that allowed the call decides: operations cannot record contacts."""
    both = caller(Action.RECORD_CONTACT, Role.AGENCY, Role.OPERATIONS, subject="ag-9",
                  agency="agency-7")
    assert domain_role(both, None, "by_role", rule="K1") == "agency"
    with pytest.raises(Forbidden):
        domain_role(both, "practitioner", "by_role", rule="K1")


def test_an_admin_must_name_the_domain_role_and_may_name_any() -> None:
    with pytest.raises(Unprocessable) as missing:
        domain_role(ADMIN, None, "by_role", rule="K1")
    assert missing.value.extra == {"field": "by_role", "rule": "K1"}
    assert domain_role(ADMIN, "practitioner", "by_role", rule="K1") == "practitioner"
    admin_practitioner = caller(Action.RECORD_CONTACT, Role.ADMIN, Role.PRACTITIONER)
    assert domain_role(admin_practitioner, None, "by_role", rule="K1") == "practitioner"


def test_v3_an_agency_cannot_request_a_review_as_child_protection() -> None:
    agency = caller(Action.REQUEST_REVIEW, Role.AGENCY, agency="agency-7")
    with pytest.raises(Forbidden) as refused:
        domain_role(agency, "child_protection", "requested_by_role", rule="V3")
    assert refused.value.extra["field"] == "requested_by_role"
    assert domain_role(agency, None, "requested_by_role", rule="V3") == "agency"


def test_v3_cp_staff_relay_the_child_or_familys_request() -> None:
    practitioner = caller(Action.REQUEST_REVIEW, Role.PRACTITIONER)
    planner = caller(Action.REQUEST_REVIEW, Role.CASE_PLANNER)
    for cp in (practitioner, planner):
        assert domain_role(cp, "child_or_family", "requested_by_role",
                           rule="V3") == "child_or_family"
        assert domain_role(cp, "child_protection", "requested_by_role",
                           rule="V3") == "child_protection"
    assert domain_role(planner, None, "requested_by_role", rule="V3") == "child_protection"
    with pytest.raises(Forbidden):
        domain_role(planner, "practitioner", "requested_by_role", rule="V3")


def test_v3_roles_that_disagree_on_a_default_must_name_one() -> None:
    both = caller(Action.REQUEST_REVIEW, Role.PRACTITIONER, Role.CASE_PLANNER)
    with pytest.raises(Unprocessable):
        domain_role(both, None, "requested_by_role", rule="V3")


def test_v4_an_integration_cannot_raise_a_concern_as_practitioner() -> None:
    integration = caller(Action.RAISE_EVENT, Role.INTEGRATION, agency="agency-7")
    with pytest.raises(Forbidden) as refused:
        domain_role(integration, "practitioner", "raised_by_role", rule="V4")
    assert refused.value.extra["field"] == "raised_by_role"
    assert domain_role(integration, None, "raised_by_role", rule="V4") == "agency"


def test_a_value_that_is_no_domain_role_is_left_to_the_workflows_rule() -> None:
    """'neighbour' is not a role anyone holds: the workflow's 422 (V3) says so."""
    agency = caller(Action.REQUEST_REVIEW, Role.AGENCY, agency="agency-7")
    assert domain_role(agency, "neighbour", "requested_by_role", rule="V3") == "neighbour"


def test_readme_role_mapping_is_the_code_table() -> None:
    """Regenerate with `python -c 'from api.actors import markdown_table as t;
    print(t())'` after changing DOMAIN_ROLES."""
    assert markdown_table() in README.read_text(encoding="utf-8")


def test_every_role_allowed_to_send_a_role_field_has_its_domain_roles() -> None:
    """A token role newly allowed on one of these endpoints must say which domain roles
    it speaks for, or its callers could never leave the field out."""
    for field, action in ROLE_FIELD_ACTIONS.items():
        for role in PERMISSIONS[action].roles - ON_BEHALF:
            assert DOMAIN_ROLES[field].get(role), (field, role)
