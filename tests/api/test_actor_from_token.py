"""Issue 9, part 5: who did it comes from the token, not the body (api/actors.py).

For each actor field: the wrong role or subject is 403 problem+json naming the field and
changes nothing (no timeline entry, no note, the workflow never sees it); the caller's
own works; left out, it is filled from the token. What the workflow recorded is read
back from its history (the update's input, decrypted by the test stack's codec); a
contact, recorded in the read model since issue 13, from its `contacts` row.

Dates: only today and fixed day offsets, valid on any day."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.tables import ContactRow
from tests.api.conftest import (
    ApiClient,
    active_case,
    assert_problem,
    endorsement,
    new_case_id,
    registration,
    today,
    wait_idle,
)
from workflows.case_contract import workflow_id_for

AGENCY = "agency-actors"


async def recorded(api: ApiClient, case_id: str, update: str) -> list[dict[str, Any]]:
    """The inputs of every `update` the case's workflow accepted, oldest first."""
    assert api.temporal is not None
    handle = api.temporal.get_workflow_handle(workflow_id_for(case_id))
    inputs: list[dict[str, Any]] = []
    async for event in handle.fetch_history_events():
        if not event.HasField("workflow_execution_update_accepted_event_attributes"):
            continue
        request = event.workflow_execution_update_accepted_event_attributes.accepted_request
        if request.input.name == update:
            inputs.extend(await api.temporal.data_converter.decode(
                request.input.args.payloads))
    return inputs


async def recorded_contacts(sessions: async_sessionmaker[AsyncSession], case_id: str
                            ) -> list[tuple[str, str | None]]:
    """(by_role, recorded_by) of each contact recorded for the case (issue 13: in the
    read model, not sent to the workflow), oldest first."""
    async with sessions() as session:
        rows = await session.scalars(select(ContactRow).where(ContactRow.case_id == case_id)
                                     .order_by(ContactRow.recorded_at, ContactRow.contact_id))
        return [(row.by_role, row.recorded_by) for row in rows]


async def timeline(api: ApiClient, case_id: str) -> list[dict[str, Any]]:
    """The case's timeline once its workflow is idle (every record written)."""
    await wait_idle(api, case_id)
    page = (await api.get(f"/cases/{case_id}/timeline", params={"limit": 200})).json()
    entries: list[dict[str, Any]] = page["items"]
    return entries


async def test_k1_agency_cannot_record_a_practitioner_meeting(
        api: ApiClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    case_id = await active_case(api, "actor-k1", agency_id=AGENCY)
    agency = api.as_role("agency", agency=AGENCY, subject="ag-9")
    path = f"/cases/{case_id}/contacts"
    visit = {"contact_id": "c-1", "occurred_on": today().isoformat(), "kind": "home_visit"}

    refused = await agency.post(path, json={**visit, "by_role": "practitioner"})
    assert_problem(refused, 403, field="by_role", rule="K1")
    assert_problem(await agency.post(path, json={**visit, "by": "cp-3"}), 403, field="by")
    assert "contact_recorded" not in [e["kind"] for e in await timeline(api, case_id)]
    assert (await api.get(f"/cases/{case_id}")).json()["contacts"] == {
        "count": 0, "last_contact_on": None, "last_practitioner_meeting_on": None}
    assert await recorded(api, case_id, "record_contact") == []
    assert await recorded_contacts(sessions, case_id) == []

    filled = await agency.post(path, json=visit)
    assert filled.status_code == 201, filled.text
    named = await agency.post(path, json={**visit, "contact_id": "c-2", "by_role": "agency",
                                          "by": "ag-9"})
    assert named.status_code == 201, named.text
    contacts = (await api.get(f"/cases/{case_id}")).json()["contacts"]
    assert contacts == {"count": 2, "last_contact_on": today().isoformat(),
                        "last_practitioner_meeting_on": None}, "K1 meeting not satisfied"
    assert await recorded_contacts(sessions, case_id) == [("agency", "ag-9"),
                                                          ("agency", "ag-9")]
    assert await recorded(api, case_id, "record_contact") == []  # issue 13: not sent


async def test_k1_a_practitioners_contact_is_the_meeting_without_naming_its_role(
        api: ApiClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    case_id = await active_case(api, "actor-k1p", agency_id=AGENCY)
    practitioner = api.as_role("practitioner", subject="cp-3")
    visit = {"contact_id": "c-1", "occurred_on": today().isoformat(), "kind": "home_visit"}
    assert_problem(await practitioner.post(f"/cases/{case_id}/contacts",
                                           json={**visit, "by_role": "agency"}),
                   403, field="by_role", rule="K1")
    met = await practitioner.post(f"/cases/{case_id}/contacts", json=visit)
    assert met.status_code == 201, met.text
    contacts = (await api.get(f"/cases/{case_id}")).json()["contacts"]
    assert contacts["last_practitioner_meeting_on"] == today().isoformat()
    assert await recorded_contacts(sessions, case_id) == [("practitioner", "cp-3")]
    # An admin holds no domain role of its own: it must say which (422), then may.
    admin_visit = {**visit, "contact_id": "c-2"}
    assert_problem(await api.post(f"/cases/{case_id}/contacts", json=admin_visit), 422,
                   field="by_role", rule="K1")


async def test_v3_agency_cannot_request_a_review_as_child_protection(
        api: ApiClient) -> None:
    case_id = await active_case(api, "actor-v3", agency_id=AGENCY)
    agency = api.as_role("agency", agency=AGENCY, subject="ag-9")
    path = f"/cases/{case_id}/reviews"
    review = {"review_id": "rev-1", "kind": "case_plan", "reason": "The child moved school."}

    refused = await agency.post(path, json={**review, "requested_by_role": "child_protection"})
    assert_problem(refused, 403, field="requested_by_role", rule="V3")
    assert_problem(await agency.post(path, json={**review, "requested_by": "cp-3"}), 403,
                   field="requested_by")
    case = (await api.get(f"/cases/{case_id}")).json()
    assert "rev-1" not in [r["review_id"] for r in case["reviews"]]
    assert (await api.get(f"/cases/{case_id}/notes")).json()["items"] == [], "no reason kept"
    assert await recorded(api, case_id, "request_review") == []

    filled = await agency.post(path, json=review)
    assert filled.status_code == 201, filled.text
    named = await agency.post(path, json={**review, "review_id": "rev-2",
                                          "requested_by_role": "agency", "requested_by": "ag-9"})
    assert named.status_code == 201, named.text
    assert [(m["requested_by_role"], m["requested_by"])
            for m in await recorded(api, case_id, "request_review")
            ] == [("agency", "ag-9"), ("agency", "ag-9")]
    notes = (await api.get(f"/cases/{case_id}/notes")).json()["items"]
    assert {n["author"] for n in notes} == {"ag-9"}


async def test_v4_integration_cannot_raise_a_concern_as_practitioner(
        api: ApiClient) -> None:
    case_id = await active_case(api, "actor-v4", agency_id=AGENCY)
    integration = api.as_role("integration", agency=AGENCY, subject="svc-agency-7")
    path = f"/cases/{case_id}/events"
    concern = {"event_id": "con-1", "kind": "contract_concern", "concern": "escalated_risk"}

    refused = await integration.post(path, json={**concern, "raised_by_role": "practitioner"})
    assert_problem(refused, 403, field="raised_by_role", rule="V4")
    assert_problem(await integration.post(path, json={**concern, "raised_by": "cp-3"}), 403,
                   field="raised_by")
    complaint = {"event_id": "evt-1", "kind": "complaint_from_child_or_family"}
    assert_problem(await integration.post(path, json={**complaint, "raised_by": "cp-3"}), 403,
                   field="raised_by")
    assert_problem(await integration.post(
        path, json={**complaint, "raised_by_role": "child_protection"}), 403,
        field="raised_by_role")
    assert not [e for e in await timeline(api, case_id)
                if "con-1" in e["event_key"] or "evt-1" in e["event_key"]]
    case = (await api.get(f"/cases/{case_id}")).json()
    assert "con-1" not in [r["review_id"] for r in case["reviews"]] and case["audits"] == []
    assert await recorded(api, case_id, "request_review") == []

    opened = await integration.post(path, json=concern)
    assert opened.status_code == 201, opened.text
    raised = await integration.post(path, json={**complaint, "raised_by": "svc-agency-7"})
    assert raised.status_code == 201, raised.text
    [review] = await recorded(api, case_id, "request_review")
    assert (review["requested_by_role"], review["requested_by"]) == ("agency", "svc-agency-7")
    [event] = await recorded(api, case_id, "raise_event")
    assert event["raised_by"] == "svc-agency-7"


async def test_r4_submitted_by_and_assessed_by_are_the_callers(api: ApiClient) -> None:
    case_id = await active_case(api, "actor-r4", agency_id=AGENCY)
    agency = api.as_role("agency", agency=AGENCY, subject="ag-9")
    practitioner = api.as_role("practitioner", subject="cp-3")
    reports = f"/cases/{case_id}/reports"

    assert_problem(await agency.post(reports, json={"report_id": "rep-1",
                                                    "submitted_by": "ag-1"}),
                   403, field="submitted_by")
    assert (await api.get(f"/cases/{case_id}")).json()["periods"][0]["reports"] == []
    submitted = await agency.post(reports, json={"report_id": "rep-1"})
    assert submitted.status_code == 201, submitted.text
    [report] = await recorded(api, case_id, "submit_report")
    assert report["submitted_by"] == "ag-9"

    assessment = f"{reports}/rep-1/assessment"
    assert_problem(await practitioner.post(assessment, json={"assessment": "adequate",
                                                             "assessed_by": "cp-1"}),
                   403, field="assessed_by")
    assert (await api.get(f"/cases/{case_id}")).json()["periods"][0]["assessment"] is None
    assessed = await practitioner.post(assessment, json={"assessment": "adequate",
                                                         "assessed_by": "cp-3"})
    assert assessed.status_code == 200, assessed.text
    [message] = await recorded(api, case_id, "assess_report")
    assert message["assessed_by"] == "cp-3"


async def test_r8_audit_findings_and_closing_are_recorded_as_the_caller(
        api: ApiClient) -> None:
    case_id = await active_case(api, "actor-r8", agency_id=AGENCY)
    practitioner = api.as_role("practitioner", subject="cp-3")
    raised = await practitioner.post(f"/cases/{case_id}/events", json={
        "event_id": "evt-1", "kind": "case_plan_deviation"})
    assert raised.status_code == 201, raised.text
    audits = f"/cases/{case_id}/audits/{raised.json()['audit_id']}"
    findings = {"findings_id": "fnd-1", "findings": "Two visits were missed.",
                "recommendations": "Weekly visits."}

    assert_problem(await practitioner.post(f"{audits}/findings",
                                           json={**findings, "recorded_by": "leo-1"}),
                   403, field="recorded_by")
    assert (await api.get(f"/cases/{case_id}/notes")).json()["items"] == []
    recorded_findings = await practitioner.post(f"{audits}/findings", json=findings)
    assert recorded_findings.status_code == 201, recorded_findings.text
    notes = (await api.get(f"/cases/{case_id}/notes")).json()["items"]
    assert {n["author"] for n in notes} == {"cp-3"}

    assert_problem(await practitioner.post(f"{audits}/close", json={"closed_by": "leo-1"}),
                   403, field="closed_by")
    assert (await api.get(f"/cases/{case_id}")).json()["audit_open"] is True
    closed = await practitioner.post(f"{audits}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed", closed.text
    assert [m["raised_by"] for m in await recorded(api, case_id, "raise_event")] == ["cp-3"]
    assert [m["recorded_by"] for m in await recorded(api, case_id, "record_audit_findings")
            ] == ["cp-3"]
    assert [m["closed_by"] for m in await recorded(api, case_id, "close_audit")] == ["cp-3"]


async def test_c4_the_endorsing_team_manager_is_the_token_subject(api: ApiClient) -> None:
    case_id = new_case_id("actor-c4")
    created = await api.post("/cases", json=registration(case_id, AGENCY))
    assert created.status_code == 201, created.text
    manager = api.as_role("team_manager", subject="tm-7")
    body = endorsement()
    assert body["team_manager_id"] == "tm-1"

    refused = await manager.post(f"/cases/{case_id}/endorsement", json=body)
    assert_problem(refused, 403, field="team_manager_id")
    assert (await api.get(f"/cases/{case_id}")).json()["status"] == "awaiting_endorsement"
    del body["team_manager_id"]
    endorsed = await manager.post(f"/cases/{case_id}/endorsement", json=body)
    assert endorsed.status_code == 200, endorsed.text
    assert endorsed.json()["status"] == "active"
    [message] = await recorded(api, case_id, "endorse")
    assert message["endorsement"]["team_manager_id"] == "tm-7"


async def test_v5_e2_tasks_outcomes_and_closure_are_recorded_as_the_caller(
        api: ApiClient) -> None:
    case_id = await active_case(api, "actor-e2", agency_id=AGENCY)
    practitioner = api.as_role("practitioner", subject="cp-3")
    planner = api.as_role("case_planner", subject="planner-2")
    requested = await planner.post(f"/cases/{case_id}/reviews", json={
        "review_id": "rev-1", "kind": "case_plan", "reason": "Placement stable with kin."})
    assert requested.status_code == 201, requested.text
    await wait_idle(api, case_id)

    task = f"/tasks/{case_id}:review-rev-1/complete"
    assert_problem(await practitioner.post(task, json={"completed_by": "cp-1"}), 403,
                   field="completed_by")
    done = await practitioner.post(task)
    assert done.status_code == 200, done.text
    await wait_idle(api, case_id)
    tasks = (await api.get("/tasks", params={"case_id": case_id, "status": "closed"})).json()
    assert [(t["task_id"], t["completed_by"]) for t in tasks["items"]] == [
        (f"{case_id}:review-rev-1", "cp-3")]

    outcome = f"/cases/{case_id}/reviews/rev-1/outcome"
    assert_problem(await planner.post(outcome, json={"return_to_cp": True,
                                                     "decided_by": "tm-1"}),
                   403, field="decided_by")
    assert (await api.get(f"/cases/{case_id}")).json()["status"] == "active"
    ended = await planner.post(outcome, json={"return_to_cp": True})
    assert ended.json()["contract_status"] == "closing", ended.text

    closure = f"/cases/{case_id}/closure"
    open_items = assert_problem(await practitioner.post(closure, json={"summary": "Done."}),
                                409, field="carried_over")["open_items"]
    summary = {"summary": "Returned to CP.", "carried_over": [
        {"item_id": item, "reason": "Handed to CP."} for item in open_items]}
    assert_problem(await practitioner.post(closure, json={**summary, "closed_by": "tm-1"}),
                   403, field="closed_by")
    assert (await api.get(f"/cases/{case_id}")).json()["status"] == "closing"
    closed = await practitioner.post(closure, json=summary)
    assert closed.status_code == 200 and closed.json()["status"] == "closed", closed.text

    [request] = await recorded(api, case_id, "request_review")
    assert (request["requested_by_role"], request["requested_by"]) == (
        "child_protection", "planner-2")
    assert [m["completed_by"] for m in await recorded(api, case_id, "complete_task")
            ] == ["cp-3"]
    assert [m["decided_by"] for m in await recorded(api, case_id, "record_review_outcome")
            ] == ["planner-2"]
    assert [m["closed_by"] for m in await recorded(api, case_id, "close_case")] == ["cp-3"]
