"""The request examples of /openapi.json, sent in order, succeed (issue 12): a front-end
developer pasting them into /docs one after the other gets a case registered, endorsed,
reported on, assessed, visited, audited, reviewed, ended and closed -- on any day: the
dated examples are computed from the day the document is served
(api/openapi_dated_examples.py). This test sends them on the day it runs; a unit test
(tests/unit/test_openapi_examples_dates.py) checks every other day against the rules.

Each is sent by the role that would send it (README permission table), so actor ids
and domain roles come from the token as in real use. Ids in paths come from the
examples themselves or from earlier answers, never made up here.
"""

from __future__ import annotations

from typing import Any

from casework.tokens import Role
from tests.api.conftest import ApiClient, wait_idle
from tests.polling import eventually


def _examples(document: dict[str, Any], schema: str) -> list[dict[str, Any]]:
    examples: list[dict[str, Any]] = document["components"]["schemas"][schema]["examples"]
    assert examples, schema
    return examples


async def test_the_request_examples_sent_in_order_succeed(api: ApiClient) -> None:
    document = (await api.get("/openapi.json")).json()

    def example(schema: str, index: int = 0) -> dict[str, Any]:
        return _examples(document, schema)[index]

    registration = example("CaseRegistration")
    case_id, agency = registration["case_id"], registration["agency_id"]
    practitioner = api.as_role(Role.PRACTITIONER)
    sent: list[str] = []

    async def send(client: ApiClient, path: str, schema: str, index: int = 0,
                   status: tuple[int, ...] = (200, 201)) -> dict[str, Any]:
        response = await client.post(path, json=example(schema, index))
        assert response.status_code in status, (schema, index, response.text)
        sent.append(f"{schema}[{index}]")
        await wait_idle(api, case_id)
        answer: dict[str, Any] = response.json()
        return answer

    case = f"/cases/{case_id}"
    await send(practitioner, "/cases", "CaseRegistration", status=(201,))
    endorsed = await send(api.as_role(Role.TEAM_MANAGER), f"{case}/endorsement", "EndorsementIn")
    assert endorsed["status"] == "active"
    report = await send(api.as_role(Role.AGENCY, agency=agency), f"{case}/reports", "ReportIn")
    assert report["on_time"] is True
    assessed = await send(practitioner, f"{case}/reports/{report['report_id']}/assessment",
                          "AssessmentIn")
    assert assessed["outcome"] == "success"
    visited = await send(practitioner, f"{case}/contacts", "ContactIn")
    assert visited["contact_id"] == example("ContactIn")["contact_id"]
    complaint = await send(practitioner, f"{case}/events", "EventIn", 0)
    concern = await send(practitioner, f"{case}/events", "EventIn", 1)
    audit = f"{case}/audits/{complaint['audit_id']}"
    await send(practitioner, f"{audit}/findings", "FindingsIn")
    planner = api.as_role(Role.CASE_PLANNER)
    extended = await send(planner, f"{case}/reviews/{concern['review_id']}/outcome",
                          "ReviewOutcomeIn", 0)
    assert "contract_end" in extended["changed"]
    review = await send(practitioner, f"{case}/reviews", "ReviewIn")
    ended = await send(planner, f"{case}/reviews/{review['review_id']}/outcome",
                       "ReviewOutcomeIn", 1)
    assert ended["contract_status"] == "closing"
    closed = await send(practitioner, f"{case}/closure", "ClosureIn")
    assert closed["status"] == "closed"
    await send(api, "/calendar/closures", "ClosureDayIn")
    assert (await api.get(case)).json()["status"] == "closed"
    # T1-T4 (issue 14): the district examples, in the order the districts would send them.
    transfer = example("TransferIn")
    await send(api, "/transfers", "TransferIn", status=(201, 202))
    rejected = await send(api, f"/transfers/{transfer['request_id']}/decision", "DecisionIn", 1)
    dispute = f"/disputes/{rejected['dispute_id']}"

    async def dispute_recorded() -> None:
        assert (await api.get(dispute)).status_code == 200

    await eventually(dispute_recorded)
    await send(api, f"{dispute}/referral", "ReferralIn")
    await send(api, f"{dispute}/resolution", "ResolutionIn")
    service = example("ServiceRequestIn")
    await send(api, "/service-requests", "ServiceRequestIn", status=(201, 202))
    await send(api, f"/service-requests/{service['request_id']}/decision", "DecisionIn", 0)
    arrangement = f"/coworking/{example('CoworkingIn')['arrangement_id']}"
    await send(api, "/coworking", "CoworkingIn", status=(201, 202))
    await send(api, f"{arrangement}/reviews", "CoworkingReviewIn")
    await send(api, f"{arrangement}/end", "EndCoworkingIn")
    requests = {name for name, schema in document["components"]["schemas"].items()
                if name.endswith("In") and schema.get("examples")}
    assert requests - {s.split("[")[0] for s in sent} == set()
