"""T1/T2 over HTTP against the real stack: open a transfer (repeat-safe, 409 for
another request under the same id), decide it, reject with a reason (T3 dispute
started, the reason a note), and district scoping. No dates are named."""

from __future__ import annotations

import uuid

from tests.api.conftest import ApiClient, assert_problem, token_for
from tests.polling import eventually


def body(request_id: str, **overrides: object) -> dict[str, object]:
    return {"request_id": request_id, "case_id": "case-wa-api", "from_district": "perth",
            "to_district": "joondalup", "child_in_care": False, **overrides}


async def test_t1_transfer_opened_repeat_safe_and_rejected_into_a_t3_dispute(
        api: ApiClient) -> None:
    request_id = f"tr-{uuid.uuid4().hex[:8]}"
    created = await api.post("/transfers", json=body(request_id))
    assert created.status_code == 201, created.text
    view = created.json()
    assert view["status"] == "open" and view["next_deadline_kind"] == "resolve"
    assert view["detail"]["deadlines"][0]["basis"]["rule"] == "T1"
    again = await api.post("/transfers", json=body(request_id))
    assert again.status_code == 200, again.text
    assert_problem(await api.post("/transfers", json=body(request_id, child_in_care=True)),
                   409, field="child_in_care")
    rejected = await api.post(f"/transfers/{request_id}/decision",
                              json={"decision": "reject", "reason": "Short-term housing."})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["dispute_id"] == f"transfer-{request_id}"

    async def disputed() -> None:
        found = (await api.get(f"/transfers/{request_id}")).json()
        assert found["status"] == "disputed" and found["detail"]["dispute_id"]

    await eventually(disputed)
    assert_problem(await api.post(f"/transfers/{request_id}/decision",
                                  json={"decision": "accept"}), 409, field="status")


async def test_t1_same_districts_refused_and_district_scoping(api: ApiClient) -> None:
    request_id = f"tr-{uuid.uuid4().hex[:8]}"
    assert_problem(await api.post("/transfers", json=body(request_id, to_district="perth")),
                   422, field="to_district", rule="T1")
    assert (await api.post("/transfers", json=body(request_id))).status_code == 201
    assert api.settings is not None
    other = api.with_token(token_for(api.settings, "practitioner", district_id="kimberley"))
    assert_problem(await other.get(f"/transfers/{request_id}"), 404)
    listed = (await other.get("/transfers")).json()
    assert request_id not in {r["request_id"] for r in listed["items"]}
    own = api.with_token(token_for(api.settings, "team_manager", district_id="joondalup"))
    assert (await own.get(f"/transfers/{request_id}")).status_code == 200
    assert_problem(await other.post("/transfers", json=body(f"{request_id}-x")), 403,
                   field="from_district")


async def test_t2_service_request_accepted(api: ApiClient) -> None:
    request_id = f"sr-{uuid.uuid4().hex[:8]}"
    created = await api.post("/service-requests", json={
        "request_id": request_id, "case_id": "case-wa-api", "from_district": "kimberley",
        "to_district": "joondalup"})
    assert created.status_code == 201, created.text
    assert created.json()["next_deadline_kind"] == "accept"
    accepted = await api.post(f"/service-requests/{request_id}/decision",
                              json={"decision": "accept"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"


async def test_t1_who_decided_comes_from_the_token(api: ApiClient) -> None:
    """README *Who did it comes from the token*: `decided_by` is the caller's subject;
    naming someone else is 403 on the field, and nothing is decided."""
    request_id = f"tr-{uuid.uuid4().hex[:8]}"
    assert (await api.post("/transfers", json=body(request_id))).status_code == 201
    manager = api.as_role("team_manager", subject="tm-joondalup")
    assert_problem(await manager.post(f"/transfers/{request_id}/decision", json={
        "decision": "accept", "decided_by": "someone-else"}), 403, field="decided_by")
    assert (await api.get(f"/transfers/{request_id}")).json()["status"] == "open"
    accepted = await manager.post(f"/transfers/{request_id}/decision",
                                  json={"decision": "accept"})
    assert accepted.status_code == 200, accepted.text

    async def recorded() -> None:
        timeline = (await api.get(f"/transfers/{request_id}")).json()["timeline"]
        accepts = [e for e in timeline if e["event"] == "transfer_accepted"]
        assert [e["detail"]["decided_by"] for e in accepts] == ["tm-joondalup"]

    await eventually(recorded)
