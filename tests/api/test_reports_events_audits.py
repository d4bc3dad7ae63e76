"""Reports (R4, R5), R7 events, V4 concerns and exception audits (R8), end to end."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import httpx

from tests.api.conftest import (
    active_case,
    assert_problem,
    endorsement,
    new_case_id,
    registration,
    today,
)
from tests.polling import eventually


async def test_r4_a_report_is_accepted_once_whatever_the_retries(
        api: httpx.AsyncClient) -> None:
    case_id = await active_case(api)
    first = await api.post(f"/cases/{case_id}/reports", json={"report_id": "rep-1"})
    assert first.status_code == 201, first.text
    retries = await asyncio.gather(*(
        api.post(f"/cases/{case_id}/reports", json={"report_id": "rep-1"}) for _ in range(3)))
    assert {r.status_code for r in retries} == {200}
    body = first.json()
    assert body["period_index"] == 0 and body["on_time"] is True
    assert all(r.json() == {**body, "duplicate": True} for r in retries)
    case = (await api.get(f"/cases/{case_id}")).json()
    assert [r["report_id"] for r in case["periods"][0]["reports"]] == ["rep-1"]
    assert case["periods"][0]["report_state"] == "received"


async def test_r4_r5_an_adequate_on_time_report_succeeds(api: httpx.AsyncClient) -> None:
    case_id = await active_case(api)
    await api.post(f"/cases/{case_id}/reports", json={"report_id": "rep-1"})
    path = f"/cases/{case_id}/reports/rep-1/assessment"
    bad = await api.post(path, json={"assessment": "splendid"})
    assert_problem(bad, 422, field="assessment", rule="R4")
    assessed = await api.post(path, json={"assessment": "adequate", "assessed_by": "cp-1"})
    assert assessed.status_code == 200, assessed.text
    assert assessed.json() == {"report_id": "rep-1", "period_index": 0,
                               "assessment": "adequate", "outcome": "success",
                               "duplicate": False}
    again = await api.post(path, json={"assessment": "adequate"})
    assert again.status_code == 200 and again.json()["duplicate"] is True
    other = await api.post(path, json={"assessment": "inadequate_quality"})
    assert_problem(other, 409, field="assessment", rule="R4")
    assert_problem(await api.post(f"/cases/{case_id}/reports/rep-404/assessment",
                                  json={"assessment": "adequate"}), 404, field="report_id")


async def test_r4_a_second_round_of_the_same_follow_up_needs_its_own_id(
        api: httpx.AsyncClient) -> None:
    """Seek further information twice on one report: two notices to the agency. Without
    an assessment_id a repeat is a retry, answered once."""
    case_id = await active_case(api)
    await api.post(f"/cases/{case_id}/reports", json={"report_id": "rep-1"})
    path = f"/cases/{case_id}/reports/rep-1/assessment"
    ask = {"assessment": "seek_further_information"}
    first = await api.post(path, json=ask)
    retry = await api.post(path, json=ask)
    assert (first.json()["duplicate"], retry.json()["duplicate"]) == (False, True)
    rounds = [await api.post(path, json={**ask, "assessment_id": "round-2"}),
              await api.post(path, json={**ask, "assessment_id": "round-2"}),
              await api.post(path, json={**ask, "assessment_id": "round-3"})]
    assert [r.json()["duplicate"] for r in rounds] == [False, True, False]

    async def three_notices() -> None:
        notices = (await api.get("/notifications", params={"case_id": case_id})).json()
        assert sum(n["kind"] == "seek_further_information" for n in notices["items"]) == 3

    await eventually(three_notices)


async def test_reports_are_refused_before_endorsement_and_for_unknown_periods(
        api: httpx.AsyncClient) -> None:
    case_id = new_case_id()
    await api.post("/cases", json=registration(case_id))
    refused = await api.post(f"/cases/{case_id}/reports", json={"report_id": "rep-1"})
    assert_problem(refused, 409, field="status", rule="C4")
    case_id = await active_case(api)
    unknown = await api.post(f"/cases/{case_id}/reports",
                             json={"report_id": "rep-9", "period_index": 9})
    assert_problem(unknown, 422, field="period_index", rule="R4")
    assert_problem(await api.post(f"/cases/{case_id}/reports", json={"report_id": "a b"}),
                   422, field="report_id")
    assert_problem(await api.post("/cases/nope/reports", json={"report_id": "r"}), 404)


async def test_r7_r8_an_event_opens_an_audit_that_records_findings_and_closes(
        api: httpx.AsyncClient) -> None:
    case_id = await active_case(api)
    event = {"event_id": "evt-1", "kind": "complaint_from_child_or_family",
             "raised_by": "cp-1"}
    raised = await api.post(f"/cases/{case_id}/events", json=event)
    assert raised.status_code == 201, raised.text
    audit_id = raised.json()["audit_id"]
    assert audit_id == "audit-1"
    repeat = await api.post(f"/cases/{case_id}/events", json=event)
    assert repeat.status_code == 200 and repeat.json()["audit_id"] == audit_id
    bad = await api.post(f"/cases/{case_id}/events", json={"event_id": "e2", "kind": "gossip"})
    assert_problem(bad, 422, field="kind", rule="R7")

    audits = f"/cases/{case_id}/audits/{audit_id}"
    early_close = await api.post(f"{audits}/close", json={})
    assert_problem(early_close, 409, field="audit_id", rule="R8")
    findings = {"findings_id": "fnd-1", "findings": "Two visits were missed.",
                "recommendations": "Weekly visits until the review.", "recorded_by": "leo-1"}
    recorded = await api.post(f"{audits}/findings", json=findings)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["status"] == "findings_recorded"
    assert (await api.post(f"{audits}/findings", json=findings)).status_code == 200
    changed = {**findings, "findings": "Something else entirely."}
    assert_problem(await api.post(f"{audits}/findings", json=changed), 409, field="findings")
    assert_problem(await api.post(f"/cases/{case_id}/audits/audit-9/findings", json=findings),
                   404, field="audit_id")

    notes = (await api.get(f"/cases/{case_id}/notes")).json()["items"]
    assert {n["kind"]: n["text"] for n in notes} == {
        "audit_findings": "Two visits were missed.",
        "audit_recommendations": "Weekly visits until the review."}
    case = (await api.get(f"/cases/{case_id}")).json()
    assert case["audit_open"] is True
    assert case["audits"][0]["findings_ids"] == [recorded.json()["note_ids"][0]]
    assert "Two visits" not in str(case), "free text never enters the workflow"

    closed = await api.post(f"{audits}/close", json={"closed_by": "leo-1"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert (await api.post(f"{audits}/close", json={})).json()["duplicate"] is True
    assert (await api.get(f"/cases/{case_id}")).json()["audit_open"] is False


async def test_v4_a_contract_concern_opens_a_contract_review(api: httpx.AsyncClient) -> None:
    case_id = await active_case(api)
    concern = {"event_id": "con-1", "kind": "contract_concern", "concern": "escalated_risk",
               "raised_by_role": "agency"}
    opened = await api.post(f"/cases/{case_id}/events", json=concern)
    assert opened.status_code == 201, opened.text
    assert opened.json()["review_id"] == "con-1" and opened.json()["review_due_at"]
    missing = {**concern, "event_id": "con-2", "concern": None}
    assert_problem(await api.post(f"/cases/{case_id}/events", json=missing), 422,
                   field="concern", rule="V4")
    reviews = (await api.get(f"/cases/{case_id}")).json()["reviews"]
    assert {r["review_id"]: r["rule"] for r in reviews}["con-1"] == "V4"


async def test_v4_a_concern_counts_from_the_day_it_was_raised(
        api: httpx.AsyncClient) -> None:
    """Through /events (`occurred_on`) and /reviews (`raised_on`): the two weeks run
    from the day the concern was raised; a day still to come, or a raised day on a case
    plan review (V3), is refused naming the request's own field."""
    case_id = new_case_id()
    started = today() - timedelta(days=20)
    due = [started + timedelta(days=80 * (i + 1)) for i in range(3)]
    created = await api.post("/cases", json=registration(
        case_id, contract_start=started.isoformat(), contract_end=due[-1].isoformat(),
        schedule={"due_dates": [day.isoformat() for day in due]}))
    assert created.status_code == 201, created.text
    endorsed = await api.post(f"/cases/{case_id}/endorsement", json=endorsement())
    assert endorsed.status_code == 200, endorsed.text

    def end_of(day: date) -> str:  # the review deadline: the end of that UTC day
        return f"{(day + timedelta(days=1)).isoformat()}T00:00:00Z"

    concern = {"event_id": f"ev-{new_case_id()}", "kind": "contract_concern",
               "concern": "escalated_risk", "raised_by_role": "practitioner"}
    ahead = {**concern, "occurred_on": (today() + timedelta(days=5)).isoformat()}
    assert_problem(await api.post(f"/cases/{case_id}/events", json=ahead), 422,
                   field="occurred_on", rule="V4")
    raised = today() - timedelta(days=10)
    accepted = await api.post(f"/cases/{case_id}/events",
                              json={**concern, "occurred_on": raised.isoformat()})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["review_due_at"] == end_of(raised + timedelta(days=14))

    review = {"review_id": f"rv-{new_case_id()}", "kind": "contract", "concern": "agency",
              "requested_by_role": "agency", "reason": "Raised at the last home visit.",
              "raised_on": (today() - timedelta(days=12)).isoformat()}
    requested = await api.post(f"/cases/{case_id}/reviews", json=review)
    assert requested.status_code == 201, requested.text
    assert requested.json()["due_at"] == end_of(
        date.fromisoformat(review["raised_on"]) + timedelta(days=14))
    plan_review = {**review, "review_id": f"rv-{new_case_id()}", "kind": "case_plan",
                   "concern": None}
    assert_problem(await api.post(f"/cases/{case_id}/reviews", json=plan_review), 422,
                   field="raised_on", rule="V3")
