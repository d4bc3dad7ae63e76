"""C7: an agency sees and acts on its own contracts in force, and nothing else.

Every case-scoped endpoint open to agency or integration accounts is tried on another
agency's case: the answer must be the unknown-case 404, body for body. Lists (cases,
tasks, notifications) leave other agencies' rows out. Once a review returns case
management to CP (E1), the agency loses the case too. Staff roles see every agency."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from api.permissions import PERMISSIONS, Action
from casework.tokens import AGENCY_SCOPED_ROLES, Role
from tests.api.conftest import (
    ApiClient,
    active_case,
    assert_problem,
    eventually,
    new_case_id,
    today,
    wait_idle,
)

AGENCY_A = f"agency-a-{uuid.uuid4().hex[:8]}"
AGENCY_B = f"agency-b-{uuid.uuid4().hex[:8]}"


def _unique() -> str:
    return uuid.uuid4().hex[:8]


VALID_BODIES: dict[Action, Callable[[], dict[str, Any] | None]] = {
    Action.READ_CASE: lambda: None,
    Action.READ_TIMELINE: lambda: None,
    Action.READ_NOTES: lambda: None,
    Action.SUBMIT_REPORT: lambda: {"report_id": f"rep-{_unique()}"},
    Action.RAISE_EVENT: lambda: {"event_id": f"evt-{_unique()}",
                                 "kind": "complaint_from_child_or_family"},
    Action.REQUEST_REVIEW: lambda: {"review_id": f"rev-{_unique()}", "kind": "case_plan",
                                    "requested_by_role": "agency", "reason": "School change."},
    Action.RECORD_CONTACT: lambda: {"contact_id": f"c-{_unique()}",
                                    "occurred_on": today().isoformat(), "kind": "home_visit",
                                    "by_role": "agency"},
}
"""A valid request for each case-scoped action an agency-scoped role may call."""

AGENCY_CASE_ACTIONS = [
    action for action, permission in PERMISSIONS.items()
    if "{case_id}" in permission.path and permission.roles & AGENCY_SCOPED_ROLES
]


def _agency_role(action: Action) -> Role:
    return Role.AGENCY if Role.AGENCY in PERMISSIONS[action].roles else Role.INTEGRATION


@pytest.fixture(scope="module")
async def case_of_a(api: httpx.AsyncClient) -> str:
    return await active_case(api, "c7", agency_id=AGENCY_A)


def test_every_agency_case_action_has_a_request_here() -> None:
    """A new case-scoped action open to agencies must join the cross-agency tests."""
    assert set(AGENCY_CASE_ACTIONS) == set(VALID_BODIES)


def _same_problem(hidden: dict[str, Any], unknown: dict[str, Any], hidden_id: str,
                  unknown_id: str) -> None:
    """The two 404 bodies are the same once the ids the caller itself sent are swapped."""
    normalised = {k: (v.replace(hidden_id, unknown_id) if isinstance(v, str) else v)
                  for k, v in hidden.items()}
    assert normalised == unknown


@pytest.mark.parametrize("action", AGENCY_CASE_ACTIONS, ids=[a.value for a in AGENCY_CASE_ACTIONS])
async def test_c7_another_agencys_case_answers_like_an_unknown_case(
        api: ApiClient, case_of_a: str, action: Action) -> None:
    role = _agency_role(action)
    permission = PERMISSIONS[action]
    outsider = api.as_role(role, agency=AGENCY_B)
    owner = api.as_role(role, agency=AGENCY_A)
    ghost = new_case_id("ghost")

    hidden = await outsider.request(permission.method, permission.path.format(case_id=case_of_a),
                                    json=VALID_BODIES[action]())
    unknown = await outsider.request(permission.method, permission.path.format(case_id=ghost),
                                     json=VALID_BODIES[action]())
    _same_problem(assert_problem(hidden, 404), assert_problem(unknown, 404), case_of_a, ghost)

    mine = await owner.request(permission.method, permission.path.format(case_id=case_of_a),
                               json=VALID_BODIES[action]())
    assert mine.status_code in (200, 201), mine.text
    await wait_idle(api, case_of_a)


async def test_c7_lists_leave_out_other_agencies_cases(api: ApiClient, case_of_a: str) -> None:
    await api.as_role(Role.AGENCY, agency=AGENCY_A).post(
        f"/cases/{case_of_a}/reports", json={"report_id": f"rep-{_unique()}"})
    await wait_idle(api, case_of_a)
    outsider = api.as_role(Role.AGENCY, agency=AGENCY_B)
    owner = api.as_role(Role.AGENCY, agency=AGENCY_A)

    for path in ("/cases", "/tasks", "/notifications"):
        for params in ({}, {"agency_id": AGENCY_A}, {"case_id": case_of_a}):
            listed = (await outsider.get(path, params={**params, "limit": 200})).json()
            assert case_of_a not in [row["case_id"] for row in listed["items"]], (path, params)
            assert all(row["agency_id"] == AGENCY_B for row in listed["items"]), (path, params)

    async def owner_sees_them() -> None:
        for path in ("/cases", "/notifications"):
            listed = (await owner.get(path, params={"limit": 200})).json()["items"]
            assert case_of_a in [row["case_id"] for row in listed], path
            assert {row["agency_id"] for row in listed} == {AGENCY_A}, path

    await eventually(owner_sees_them)


async def test_c7_an_agency_sees_only_what_is_addressed_to_it(
        api: ApiClient, case_of_a: str) -> None:
    """CP's own work on the case -- the practitioner's tasks, notices to the family, the
    program manager or the LEO -- stays CP's; the agency sees the notices sent to it."""
    await api.post(f"/cases/{case_of_a}/events", json={
        "event_id": f"ev-{_unique()}", "kind": "complaint_from_child_or_family"})
    await wait_idle(api, case_of_a)
    staff_notices = (await api.as_role(Role.PRACTITIONER).get(
        "/notifications", params={"case_id": case_of_a, "limit": 200})).json()["items"]
    assert {"agency", "parent", "leo"} <= {row["recipient"] for row in staff_notices}
    staff_tasks = (await api.as_role(Role.PRACTITIONER).get(
        "/tasks", params={"case_id": case_of_a, "limit": 200})).json()["items"]
    assert staff_tasks, "the workflow opened CP tasks on this case"

    owner = api.as_role(Role.AGENCY, agency=AGENCY_A)
    notices = (await owner.get("/notifications",
                               params={"case_id": case_of_a, "limit": 200})).json()["items"]
    assert notices and {row["recipient"] for row in notices} == {"agency"}
    tasks = (await owner.get("/tasks", params={"case_id": case_of_a, "limit": 200})).json()
    assert tasks["items"] == []
    # The same on the case itself: its open tasks, and their entries on the timeline.
    staff = api.as_role(Role.PRACTITIONER)
    assert (await staff.get(f"/cases/{case_of_a}")).json()["open_tasks"]
    assert (await owner.get(f"/cases/{case_of_a}")).json()["open_tasks"] == []

    async def kinds(client: ApiClient) -> set[str]:
        page = (await client.get(f"/cases/{case_of_a}/timeline",
                                 params={"limit": 200})).json()
        return {entry["kind"] for entry in page["items"]}

    assert "task_opened" in await kinds(staff)
    owner_kinds = await kinds(owner)
    assert "audit_opened" in owner_kinds and not any(k.startswith("task_")
                                                      for k in owner_kinds)


async def test_c7_staff_roles_see_every_agency(api: ApiClient, case_of_a: str) -> None:
    for role in (Role.PRACTITIONER, Role.TEAM_MANAGER, Role.CASE_PLANNER, Role.OPERATIONS):
        client = api.as_role(role)
        assert (await client.get(f"/cases/{case_of_a}")).status_code == 200, role
        listed = (await client.get("/cases", params={"agency_id": AGENCY_A})).json()
        assert case_of_a in [row["case_id"] for row in listed["items"]], role


async def test_c7_scope_follows_the_role_that_allows_the_action(
        api: ApiClient, case_of_a: str) -> None:
    """A token with both `agency` (of B) and `operations`: operations reads every case,
    but recording a contact is allowed by the agency role alone, so only on B's cases."""
    both = api.as_role(Role.AGENCY, Role.OPERATIONS, agency=AGENCY_B)
    assert (await both.get(f"/cases/{case_of_a}")).status_code == 200
    contact = VALID_BODIES[Action.RECORD_CONTACT]()
    assert_problem(await both.post(f"/cases/{case_of_a}/contacts", json=contact), 404)


async def test_c7_e1_the_agency_loses_the_case_when_it_returns_to_cp(api: ApiClient) -> None:
    case_id = await active_case(api, "c7-end", agency_id=AGENCY_A)
    agency = api.as_role(Role.AGENCY, agency=AGENCY_A)
    review = VALID_BODIES[Action.REQUEST_REVIEW]()
    assert (await agency.post(f"/cases/{case_id}/reviews", json=review)).status_code == 201
    assert (await agency.get(f"/cases/{case_id}")).status_code == 200
    await wait_idle(api, case_id)

    planner = api.as_role(Role.CASE_PLANNER, subject="cp-planner")  # decided_by (issue 9)
    ended = await planner.post(f"/cases/{case_id}/reviews/{review['review_id']}/outcome",
                               json={"return_to_cp": True, "decided_by": "cp-planner"})
    assert ended.status_code == 200 and ended.json()["contract_status"] == "closing", ended.text

    async def gone_for_the_agency() -> None:
        assert_problem(await agency.get(f"/cases/{case_id}"), 404)

    await eventually(gone_for_the_agency)
    for action in (Action.READ_TIMELINE, Action.READ_NOTES, Action.SUBMIT_REPORT,
                   Action.RECORD_CONTACT, Action.REQUEST_REVIEW):
        permission = PERMISSIONS[action]
        response = await agency.request(permission.method, permission.path.format(
            case_id=case_id), json=VALID_BODIES[action]())
        assert_problem(response, 404)
    for path in ("/cases", "/tasks", "/notifications"):
        listed = (await agency.get(path, params={"case_id": case_id, "limit": 200})).json()
        assert case_id not in [row["case_id"] for row in listed["items"]], path
    # CP still holds the case.
    practitioner = api.as_role(Role.PRACTITIONER)
    assert (await practitioner.get(f"/cases/{case_id}")).json()["status"] == "closing"
