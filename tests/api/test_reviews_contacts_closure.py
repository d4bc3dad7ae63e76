"""Issue 5 through the API: reviews (V3-V6), contacts (K1), the end (E1) and closure (E2)."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.api.conftest import (
    ApiClient,
    active_case,
    assert_problem,
    eventually,
    new_case_id,
    today,
)


async def test_k1_contacts_are_recorded_once(api: ApiClient) -> None:
    case_id = await active_case(api)
    contact = {"contact_id": "c-1", "occurred_on": today().isoformat(), "kind": "home_visit",
               "by_role": "practitioner", "by": "cp-1"}
    first = await api.post(f"/cases/{case_id}/contacts", json=contact)
    assert first.status_code == 201, first.text
    again = await api.post(f"/cases/{case_id}/contacts", json=contact)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    future = {**contact, "contact_id": "c-2",
              "occurred_on": (today() + timedelta(days=5)).isoformat()}
    assert_problem(await api.post(f"/cases/{case_id}/contacts", json=future), 422,
                   field="occurred_on", rule="K1")
    odd = {**contact, "contact_id": "c-3", "kind": "telepathy"}
    assert_problem(await api.post(f"/cases/{case_id}/contacts", json=odd), 422, field="kind",
                   rule="K1")
    contacts = (await api.get(f"/cases/{case_id}")).json()["contacts"]
    assert contacts == {"count": 1, "last_contact_on": contact["occurred_on"],
                        "last_practitioner_meeting_on": contact["occurred_on"]}
    # Issue 13: recorded in the read model -- the case's workflow was not woken for it
    # (it reads the latest when its K1 check falls due).
    assert api.temporal is not None
    history = await api.temporal.get_workflow_handle(f"case-contract-{case_id}").fetch_history()
    assert [e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
            for e in history.events
            if e.HasField("workflow_execution_update_accepted_event_attributes")] == ["endorse"]
    timeline = (await api.get(f"/cases/{case_id}/timeline", params={"limit": 200})).json()
    assert [e["kind"] for e in timeline["items"]].count("contact_recorded") == 1


async def test_v3_v6_a_review_is_requested_held_and_endorses_a_plan(
        api: httpx.AsyncClient) -> None:
    case_id = await active_case(api)
    review = {"review_id": "rev-1", "kind": "case_plan", "requested_by_role": "agency",
              "reason": "The child moved school.", "requested_by": "ag-rep-1"}
    requested = await api.post(f"/cases/{case_id}/reviews", json=review)
    assert requested.status_code == 201, requested.text
    assert requested.json()["rule"] == "V3" and requested.json()["reason_id"]
    assert (await api.post(f"/cases/{case_id}/reviews", json=review)).status_code == 200
    changed = {**review, "reason": "Another reason"}
    assert_problem(await api.post(f"/cases/{case_id}/reviews", json=changed), 409,
                   field="reason")
    wrong_role = {**review, "review_id": "rev-2", "requested_by_role": "neighbour"}
    assert_problem(await api.post(f"/cases/{case_id}/reviews", json=wrong_role), 422,
                   field="requested_by_role", rule="V3")

    outcome_path = f"/cases/{case_id}/reviews/rev-1/outcome"
    c2 = {"total_case_management": False, "new_functions": ["risk_assessment"]}
    assert_problem(await api.post(outcome_path, json=c2), 422, field="new_functions[0]",
                   rule="C2")
    outcome = {"decided_by": "tm-1", "draft_plan_version": "plan-2",
               "endorse_plan_version": "plan-2", "notes": "Plan 2 endorsed."}
    held = await api.post(outcome_path, json=outcome)
    assert held.status_code == 200, held.text
    assert held.json()["status"] == "held" and held.json()["contract_status"] == "active"
    assert "plan_endorsed" in held.json()["changed"]
    assert (await api.post(outcome_path, json=outcome)).json()["duplicate"] is True
    assert_problem(await api.post(f"/cases/{case_id}/reviews/rev-9/outcome", json={}), 404,
                   field="review_id")
    case = (await api.get(f"/cases/{case_id}")).json()
    assert case["plan_versions"][0]["version"] == "plan-2"
    assert case["plan_versions"][0]["status"] == "endorsed"


async def test_e1_e2_return_to_cp_then_closure_lists_and_carries_open_items(
        api: httpx.AsyncClient) -> None:
    case_id = await active_case(api)
    summary = {"summary": "Returned to CP.", "closed_by": "tm-1"}
    assert_problem(await api.post(f"/cases/{case_id}/closure", json=summary), 409,
                   field="status", rule="E1")
    await api.post(f"/cases/{case_id}/events",
                   json={"event_id": "evt-1", "kind": "case_plan_deviation"})
    await api.post(f"/cases/{case_id}/reviews", json={
        "review_id": "rev-end", "kind": "case_plan", "requested_by_role": "practitioner",
        "reason": "Placement stable with kin."})
    ended = await api.post(f"/cases/{case_id}/reviews/rev-end/outcome",
                           json={"return_to_cp": True, "decided_by": "tm-1"})
    assert ended.status_code == 200, ended.text
    assert ended.json()["contract_status"] == "closing"

    refused = assert_problem(await api.post(f"/cases/{case_id}/closure", json=summary), 409,
                             field="carried_over", rule="E2")
    open_items = refused["open_items"]
    assert "audit-1" in open_items and any(i.startswith("review-") for i in open_items)
    partial = {**summary, "carried_over": [{"item_id": "audit-1", "reason": "CP audits."}]}
    still = assert_problem(await api.post(f"/cases/{case_id}/closure", json=partial), 409)
    assert set(still["open_items"]) == set(open_items) - {"audit-1"}
    assert (await api.get(f"/cases/{case_id}/notes")).json()["items"][-1]["kind"] != (
        "closure_summary"), "a refused closure leaves no note"

    twice = {**summary, "carried_over": [{"item_id": "audit-1", "reason": "a"},
                                         {"item_id": "audit-1", "reason": "b"}]}
    assert_problem(await api.post(f"/cases/{case_id}/closure", json=twice), 422,
                   field="carried_over")
    complete = {**summary, "carried_over": [
        {"item_id": item, "reason": f"Handed to CP: {item}"} for item in open_items]}
    closed = await api.post(f"/cases/{case_id}/closure", json=complete)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["duplicate"] is False
    assert sorted(closed.json()["carried_over"]) == sorted(open_items)

    async def closed_in_read_model() -> dict[str, object]:
        case = (await api.get(f"/cases/{case_id}")).json()
        assert case["source"] == "read_model" and case["status"] == "closed", case
        return case

    case = await eventually(closed_in_read_model)
    assert case["closed_at"] and case["end_reason"] == "returned_to_cp"
    assert case["audits"][0]["audit_id"] == "audit-1"
    retry = await api.post(f"/cases/{case_id}/closure", json=complete)
    assert retry.status_code == 200 and retry.json()["duplicate"] is True
    assert retry.json()["closed_at"] == closed.json()["closed_at"]
    late = await api.post(f"/cases/{case_id}/reports", json={"report_id": "rep-late"})
    assert_problem(late, 409, field="status", rule="E2")
    listed = (await api.get("/cases", params={"status": "closed", "limit": 200})).json()
    assert case_id in [c["case_id"] for c in listed["items"]]
    notes = (await api.get(f"/cases/{case_id}/notes", params={"limit": 200})).json()["items"]
    assert "closure_summary" in {n["kind"] for n in notes}


async def test_unknown_case_for_issue_5_messages_is_404(api: httpx.AsyncClient) -> None:
    case_id = new_case_id("ghost")
    for path, body in (
        ("reviews", {"review_id": "r", "kind": "case_plan", "requested_by_role": "agency",
                     "reason": "x"}),
        ("contacts", {"contact_id": "c", "occurred_on": today().isoformat(),
                      "kind": "direct", "by_role": "agency"}),
        ("closure", {"summary": "x"}),
    ):
        assert_problem(await api.post(f"/cases/{case_id}/{path}", json=body), 404)
