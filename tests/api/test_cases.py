"""Registering (C1-C5), endorsing (C4), reading and listing cases, end to end."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from temporalio.common import SearchAttributeKey

from tests.api.conftest import (
    ApiClient,
    active_case,
    assert_problem,
    endorsement,
    eventually,
    new_case_id,
    registration,
    today,
)
from tests.api.dates import contract_dates, gap_too_long


async def test_register_starts_the_case_and_lists_it_at_once(api: httpx.AsyncClient) -> None:
    agency = f"agency-{new_case_id('reg')}"
    case_id = new_case_id()
    response = await api.post("/cases", json=registration(case_id, agency))
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/cases/{case_id}"
    case = response.json()
    assert case["case_id"] == case_id and case["status"] == "awaiting_endorsement"
    assert case["phase"] == "protection_order" and case["time_zone"] == "Australia/Melbourne"
    # Issue 13: the answer is what the registration knows; it does not wait on the
    # workflow, whose first schedule computes the periods (R1-R3) that GET then shows.
    assert case["source"] == "read_model" and case["periods"] == []

    async def scheduled() -> None:
        live = (await api.get(f"/cases/{case_id}")).json()
        assert live["source"] == "workflow" and len(live["periods"]) == 4, live

    await eventually(scheduled)
    listed = (await api.get("/cases", params={"agency_id": agency})).json()
    assert [row["case_id"] for row in listed["items"]] == [case_id]
    assert listed["items"][0]["status"] == "awaiting_endorsement"
    assert listed["next_cursor"] is None
    assert isinstance(api, ApiClient) and api.temporal is not None
    described = await api.temporal.get_workflow_handle(f"case-contract-{case_id}").describe()
    attributes = described.typed_search_attributes
    assert attributes.get(SearchAttributeKey.for_keyword("CaseId")) == case_id
    assert attributes.get(SearchAttributeKey.for_keyword("AgencyId")) == agency
    assert attributes.get(SearchAttributeKey.for_keyword("ContractStatus")) == (
        "awaiting_endorsement")


async def test_register_again_with_the_same_body_answers_200_and_starts_nothing_new(
        api: httpx.AsyncClient) -> None:
    case_id = new_case_id()
    body = registration(case_id)
    first = await api.post("/cases", json=body)
    again = await api.post("/cases", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["case_id"] == case_id
    assert again.headers["location"] == f"/cases/{case_id}"


async def test_register_the_same_case_id_with_other_terms_is_a_conflict(
        api: httpx.AsyncClient) -> None:
    case_id = new_case_id()
    assert (await api.post("/cases", json=registration(case_id))).status_code == 201
    other = registration(case_id, agency_id="agency-other")
    assert_problem(await api.post("/cases", json=other), 409, field="case_id")


async def test_c1_a_case_in_investigation_cannot_be_contracted(api: httpx.AsyncClient) -> None:
    case_id = new_case_id()
    response = await api.post("/cases", json=registration(case_id, phase="investigation"))
    assert_problem(response, 422, field="phase", rule="C1")
    assert_problem(await api.get(f"/cases/{case_id}"), 404)


async def test_c2_and_c5_refusals_name_the_rule_and_field(api: httpx.AsyncClient) -> None:
    body = registration(new_case_id(), total_case_management=False,
                        functions=["support_and_monitoring", "risk_assessment"])
    assert_problem(await api.post("/cases", json=body), 422, field="functions[1]", rule="C2")
    gap = gap_too_long(today())
    body = registration(new_case_id(), schedule={"due_dates": [d.isoformat() for d in gap]},
                        contract_end=gap[-1].isoformat())
    assert_problem(await api.post("/cases", json=body), 422, field="schedule.due_dates[1]",
                   rule="C5")


async def test_malformed_registrations_name_the_field(api: httpx.AsyncClient) -> None:
    body = registration(new_case_id())
    del body["contract_start"]
    assert_problem(await api.post("/cases", json=body), 422, field="contract_start")
    body = registration(new_case_id(), time_zone="Mars/Olympus_Mons")
    assert_problem(await api.post("/cases", json=body), 422, field="time_zone", rule="input")
    body = registration(new_case_id(), jurisdiction="XX-NOPE")
    assert_problem(await api.post("/cases", json=body), 422, field="jurisdiction")
    # `holidays` knows New Zealand, but the schedule activity's calendar does not: a
    # case accepted here would never get its deadlines.
    body = registration(new_case_id(), jurisdiction="NZ")
    assert_problem(await api.post("/cases", json=body), 422, field="jurisdiction")
    body = registration("no spaces allowed")
    assert_problem(await api.post("/cases", json=body), 422, field="case_id", rule="input")
    # K1: a contact frequency beyond a year would overflow the workflow's date arithmetic
    # and stall the case; the child is seen at least once a year anyway.
    for days in (0, 366, 3_000_000):
        body = registration(new_case_id(), contact_frequency_days=days)
        assert_problem(await api.post("/cases", json=body), 422,
                       field="contact_frequency_days")


async def test_unknown_cases_are_404_with_the_same_answer(api: httpx.AsyncClient) -> None:
    answers = []
    for path in ("/cases/nope-1", "/cases/nope-1/timeline", "/cases/nope-1/notes"):
        answers.append(assert_problem(await api.get(path), 404))
    assert len({a["detail"] for a in answers}) == 1
    posted = await api.post("/cases/nope-1/endorsement", json=endorsement())
    assert assert_problem(posted, 404)["detail"] == answers[0]["detail"]


async def test_c4_endorsement_activates_the_contract_once(api: httpx.AsyncClient) -> None:
    case_id = new_case_id()
    await api.post("/cases", json=registration(case_id))
    unsigned = endorsement()
    unsigned["signatories"] = unsigned["signatories"][:1]
    assert_problem(await api.post(f"/cases/{case_id}/endorsement", json=unsigned), 422,
                   field="signatories", rule="C4")
    signed = endorsement()  # today, once: a run across midnight repeats the same body
    first = await api.post(f"/cases/{case_id}/endorsement", json=signed)
    again = await api.post(f"/cases/{case_id}/endorsement", json=signed)
    assert first.status_code == again.status_code == 200
    assert first.json() == {"status": "active", "endorsed_on": signed["endorsed_on"],
                            "duplicate": False}
    assert again.json()["duplicate"] is True
    later = endorsement(today() + timedelta(days=1))
    assert_problem(await api.post(f"/cases/{case_id}/endorsement", json=later), 409,
                   field="status", rule="C4")


async def test_the_full_status_shows_every_period_in_utc(api: httpx.AsyncClient) -> None:
    case_id = await active_case(api)
    case = (await api.get(f"/cases/{case_id}")).json()
    assert case["status"] == "active" and case["source"] == "workflow"
    assert len(case["periods"]) == 4
    first = case["periods"][0]
    started = date.fromisoformat(case["contract_start"])  # today when registered
    assert date.fromisoformat(first["due_date"]) == contract_dates(started).due_dates[0]
    for instant in ("follow_up_at", "overdue_at", "escalation_at"):
        assert first[instant].endswith("Z"), first[instant]
    assert first["follow_up_at"] < first["overdue_at"] < first["escalation_at"]
    assert first["report_state"] == "awaited" and first["outcome"] == "pending"
    assert first["basis"], "the deadline basis explains each instant"
    assert case["next_deadline"] and case["next_deadline"].endswith("Z")
    assert case["consecutive_failures"] == 0 and case["audit_open"] is False
    assert [r["rule"] for r in case["reviews"]] == ["V2"]
    assert [t["kind"] for t in case["open_tasks"]] == ["case_plan_review"]


async def test_list_filters_sorts_and_pages_without_duplicates(api: httpx.AsyncClient) -> None:
    agency = f"agency-{new_case_id('list')}"
    created = [await active_case(api, "list", agency) for _ in range(3)]
    pending = new_case_id("list")
    await api.post("/cases", json=registration(pending, agency))

    async def listed_in_order() -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        cursor = None
        while True:
            params: dict[str, object] = {"agency_id": agency, "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (await api.get("/cases", params=params)).json()
            rows.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return rows

    async def deadlines_recorded() -> list[dict[str, object]]:
        rows = await listed_in_order()
        assert sum(1 for r in rows if r["next_deadline"]) == len(created), rows
        return rows

    rows = await eventually(deadlines_recorded)
    assert [r["case_id"] for r in rows][-1] == pending, "no deadline sorts last"
    assert sorted(r["case_id"] for r in rows) == sorted([*created, pending])
    keys = [(r["next_deadline"], r["case_id"]) for r in rows[:-1]]
    assert keys == sorted(keys)
    active = (await api.get("/cases", params={"agency_id": agency, "status": "active"})).json()
    assert sorted(r["case_id"] for r in active["items"]) == sorted(created)
    soon = (await api.get("/cases", params={
        "agency_id": agency, "deadline_before": "2000-01-01T00:00:00Z"})).json()
    assert soon["items"] == []
    later = (await api.get("/cases", params={
        "agency_id": agency, "deadline_before": "2100-01-01T00:00:00Z"})).json()
    assert sorted(r["case_id"] for r in later["items"]) == sorted(created)
    healthy = (await api.get("/cases", params={
        "agency_id": agency, "overdue": "false", "audit_open": "false",
        "min_consecutive_failures": 0})).json()
    assert len(healthy["items"]) == 4
    for flags in ({"overdue": "true"}, {"audit_open": "true"},
                  {"min_consecutive_failures": 1}):
        assert (await api.get("/cases", params={"agency_id": agency, **flags})
                ).json()["items"] == []


async def test_bad_list_parameters_are_422_naming_the_parameter(
        api: httpx.AsyncClient) -> None:
    assert_problem(await api.get("/cases", params={"limit": 0}), 422, field="limit")
    assert_problem(await api.get("/cases", params={"limit": 201}), 422, field="limit")
    assert_problem(await api.get("/cases", params={"cursor": "garbage"}), 422, field="cursor")
    assert_problem(await api.get("/cases", params={"deadline_before": "soon"}), 422,
                   field="deadline_before")
    assert_problem(await api.get("/cases", params={"status": "asleep"}), 422, field="status")
