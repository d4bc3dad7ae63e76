"""T3 disputes and T4 co-working over HTTP against the real stack: a rejection's
dispute listed, referred up the ladder and resolved with its rationale as a note
(repeat-safe, 409 for another resolution); a co-working arrangement started, reviewed
(notes as a note), and ended, each repeat-safe; a start answers 202 with `Location`
while no worker has recorded it (issue 18.3); `casework token --district`. Dates are
today in Perth plus or minus a few days, valid on any day."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.routes.coworking import perth_today
from casework import cli
from casework.config import Settings
from models.tables import AccessLogRow, NoteRow
from tests.api.conftest import ApiClient, assert_problem, running_app, token_for
from tests.polling import eventually
from worker import build_worker


def transfer(request_id: str, **overrides: object) -> dict[str, object]:
    return {"request_id": request_id, "case_id": "case-wa-t3", "from_district": "perth",
            "to_district": "joondalup", "child_in_care": False, **overrides}


async def disputed_transfer(api: ApiClient) -> tuple[str, str]:
    """A transfer rejected by the receiving district: its dispute, once recorded."""
    request_id = f"tr-{uuid.uuid4().hex[:8]}"
    assert (await api.post("/transfers", json=transfer(request_id))).status_code == 201
    rejected = await api.post(f"/transfers/{request_id}/decision",
                              json={"decision": "reject", "reason": "No placement here."})
    assert rejected.status_code == 200, rejected.text
    dispute_id = rejected.json()["dispute_id"]

    async def recorded() -> None:
        found = await api.get(f"/disputes/{dispute_id}")
        assert found.status_code == 200, found.text
        assert found.json()["stage"] == "assistant_directors"

    await eventually(recorded)
    return request_id, dispute_id


async def test_t3_dispute_listed_referred_up_and_resolved_with_its_rationale_as_a_note(
        api: ApiClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    request_id, dispute_id = await disputed_transfer(api)
    view = (await api.get(f"/disputes/{dispute_id}")).json()
    assert view["kind"] == "dispute" and view["status"] == "open"
    assert view["detail"]["request_id"] == request_id
    assert {d["key"] for d in view["detail"]["deadlines"]} >= {"disagreement",
                                                              "whole_process"}
    assert view["timeline"][0]["event"] == "dispute_opened"
    listed = (await api.get("/disputes", params={"stage": "assistant_directors",
                                                 "district": "joondalup"})).json()
    assert dispute_id in {d["request_id"] for d in listed["items"]}

    referred = await api.post(f"/disputes/{dispute_id}/referral",
                              json={"from_stage": "assistant_directors"})
    assert referred.status_code == 200, referred.text
    assert referred.json()["stage"] == "district_directors"
    assert not referred.json()["duplicate"]
    again = await api.post(f"/disputes/{dispute_id}/referral",
                           json={"from_stage": "assistant_directors"})
    assert again.status_code == 200 and again.json()["duplicate"], again.text
    assert_problem(await api.post(f"/disputes/{dispute_id}/referral",
                                  json={"from_stage": "director"}), 422, field="from_stage")

    rationale = "Both districts agree the receiving district takes the case."
    resolved = await api.post(f"/disputes/{dispute_id}/resolution",
                              json={"outcome": "proceed", "rationale": rationale})
    assert resolved.status_code == 200, resolved.text
    answer = resolved.json()
    assert answer["status"] == "resolved" and answer["outcome"] == "proceed"
    async with sessions() as session:
        note = await session.get(NoteRow, answer["note_id"])
        assert note is not None and note.text == rationale and note.case_id == "case-wa-t3"
        [logged] = (await session.scalars(select(AccessLogRow).where(
            AccessLogRow.path == f"/disputes/{dispute_id}/resolution"))).all()
        assert (logged.action, logged.case_id, logged.outcome) == (
            "resolve_dispute", "case-wa-t3", "allowed")

    async def closed() -> None:
        found = (await api.get(f"/disputes/{dispute_id}")).json()
        assert found["closed_at"] and found["detail"]["rationale_id"] == answer["note_id"]
        owner = (await api.get(f"/transfers/{request_id}")).json()
        assert owner["status"] == "accepted"
        assert owner["next_deadline_kind"] == "complete_after_dispute"

    await eventually(closed)
    # The workflow has finished: the same resolution is answered from the record.
    repeat = await api.post(f"/disputes/{dispute_id}/resolution",
                            json={"outcome": "proceed", "rationale": rationale})
    assert repeat.status_code == 200 and repeat.json()["duplicate"], repeat.text
    assert_problem(await api.post(f"/disputes/{dispute_id}/resolution",
                                  json={"outcome": "withdraw", "rationale": rationale}),
                   409, field="outcome", rule="T3")
    assert_problem(await api.post(f"/disputes/{dispute_id}/resolution",
                                  json={"outcome": "proceed", "rationale": "Other."}),
                   409, field="rationale")


async def test_t3_dispute_scoped_to_its_districts_and_refused_to_workers(
        api: ApiClient) -> None:
    _, dispute_id = await disputed_transfer(api)
    assert api.settings is not None
    outsider = api.with_token(token_for(api.settings, "team_manager",
                                        district_id="kimberley"))
    assert_problem(await outsider.get(f"/disputes/{dispute_id}"), 404)
    assert_problem(await outsider.post(f"/disputes/{dispute_id}/referral",
                                       json={"from_stage": "assistant_directors"}), 404)
    listed = (await outsider.get("/disputes")).json()["items"]
    assert dispute_id not in {d["request_id"] for d in listed}
    party = api.with_token(token_for(api.settings, "team_manager", district_id="perth"))
    assert (await party.get(f"/disputes/{dispute_id}")).status_code == 200
    worker = api.as_role("practitioner")
    assert_problem(await worker.post(f"/disputes/{dispute_id}/resolution",
                                     json={"outcome": "withdraw", "rationale": "No."}), 403)
    assert_problem(await api.get("/disputes/transfer-no-such"), 404)


def arrangement(arrangement_id: str, **overrides: object) -> dict[str, object]:
    return {"arrangement_id": arrangement_id, "case_id": "case-wa-t4",
            "from_district": "perth", "to_district": "midland", **overrides}


async def test_t4_coworking_started_reviewed_and_ended_each_repeat_safe(
        api: ApiClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    arrangement_id = f"cw-{uuid.uuid4().hex[:8]}"
    today = perth_today()
    started_on = today - timedelta(days=10)
    assert_problem(await api.post("/coworking", json=arrangement(
        arrangement_id, started_on=(today + timedelta(days=1)).isoformat())),
        422, field="started_on", rule="T4")
    assert_problem(await api.post("/coworking", json=arrangement(
        arrangement_id, to_district="perth")), 422, field="to_district", rule="T4")
    body = arrangement(arrangement_id, started_on=started_on.isoformat())
    created = await api.post("/coworking", json=body)
    assert created.status_code == 201, created.text
    view = created.json()
    assert view["kind"] == "coworking" and view["status"] == "active"
    assert view["next_deadline_kind"] == "review"
    [review] = view["detail"]["deadlines"]
    assert review["basis"]["rule"] == "T4"
    assert review["basis"]["counted_from"] == started_on.isoformat()
    assert (await api.post("/coworking", json=body)).status_code == 200
    assert (await api.post("/coworking", json=arrangement(arrangement_id))).status_code == 200
    assert_problem(await api.post("/coworking", json=arrangement(
        arrangement_id, started_on=(started_on - timedelta(days=1)).isoformat())),
        409, field="started_on")
    assert_problem(await api.post("/coworking", json=arrangement(
        arrangement_id, to_district="kimberley")), 409, field="to_district")

    assert_problem(await api.post(f"/coworking/{arrangement_id}/reviews", json={
        "review_id": "r-early", "notes": "Too early.",
        "reviewed_on": (started_on - timedelta(days=1)).isoformat()}),
        422, field="reviewed_on", rule="T4")
    notes = "Both districts agree the arrangement continues."
    reviewed = await api.post(f"/coworking/{arrangement_id}/reviews",
                              json={"review_id": "r-1", "notes": notes})
    assert reviewed.status_code == 201, reviewed.text
    note_id = reviewed.json()["note_id"]
    async with sessions() as session:
        note = await session.get(NoteRow, note_id)
        assert note is not None and note.text == notes

    async def next_cycle() -> None:
        found = (await api.get(f"/coworking/{arrangement_id}")).json()
        assert found["detail"]["reviews"] == ["r-1"]
        assert found["detail"]["last_reviewed_on"] == today.isoformat()
        assert found["detail"]["deadlines"][0]["basis"]["counted_from"] == today.isoformat()

    await eventually(next_cycle)
    repeat = await api.post(f"/coworking/{arrangement_id}/reviews",
                            json={"review_id": "r-1", "notes": notes})
    assert repeat.status_code == 200 and repeat.json()["duplicate"], repeat.text
    assert_problem(await api.post(f"/coworking/{arrangement_id}/reviews",
                                  json={"review_id": "r-1", "notes": "Changed."}),
                   409, field="notes")

    ended = await api.post(f"/coworking/{arrangement_id}/end", json={})
    assert ended.status_code == 200 and ended.json()["status"] == "ended", ended.text

    async def closed() -> None:
        found = (await api.get(f"/coworking/{arrangement_id}")).json()
        assert found["status"] == "ended" and found["closed_at"]

    await eventually(closed)
    again = await api.post(f"/coworking/{arrangement_id}/end", json={})
    assert again.status_code == 200 and again.json()["duplicate"], again.text
    # Ended, the same start again is a repeat of that arrangement, not a new one.
    restarted = await api.post("/coworking", json=body)
    assert restarted.status_code == 200, restarted.text
    assert restarted.json()["status"] == "ended"
    assert_problem(await api.post(f"/coworking/{arrangement_id}/reviews",
                                  json={"review_id": "r-2", "notes": "After the end."}),
                   409, field="status")
    active = (await api.get("/coworking", params={"status": "active"})).json()["items"]
    assert arrangement_id not in {a["request_id"] for a in active}
    ended_list = (await api.get("/coworking", params={"status": "ended"})).json()["items"]
    assert arrangement_id in {a["request_id"] for a in ended_list}


async def test_t1_a_start_not_yet_recorded_answers_202_with_location_never_404(
        api_settings: Settings, service_client: Client,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """Issue 18.3: no worker polls this app's task queue, so the workflows start but
    record nothing within the wait: 202 with `Location`, and the request is applied once
    a worker runs (the repeat then answers 200 with its deadlines)."""
    idle_queue = f"api-idle-{uuid.uuid4().hex[:8]}"
    settings = api_settings.model_copy(update={"temporal_task_queue": idle_queue})
    request_id = f"tr-{uuid.uuid4().hex[:8]}"
    arrangement_id = f"cw-{uuid.uuid4().hex[:8]}"
    async with running_app(settings) as api:
        pending = await api.post("/transfers", json=transfer(request_id))
        assert pending.status_code == 202, pending.text
        assert pending.headers["Location"] == f"/transfers/{request_id}"
        assert pending.json()["status"] == "accepted"
        cw = await api.post("/coworking", json=arrangement(arrangement_id))
        assert cw.status_code == 202 and cw.headers["Location"] == f"/coworking/{arrangement_id}"
        # A repeat is told from another arrangement by the workflow's history: no worker
        # needed, so still 202 (not a 503 after a query nobody answers), and a 409 for
        # other facts.
        assert (await api.post("/coworking", json=arrangement(arrangement_id))
                ).status_code == 202
        assert_problem(await api.post("/coworking", json=arrangement(
            arrangement_id, to_district="kimberley")), 409, field="to_district")
        # A decision right after the 202 is sent to the workflow (found by its start in
        # history), not answered 404; it is applied once a worker runs.
        decision = asyncio.create_task(api.post(f"/transfers/{request_id}/decision",
                                                json={"decision": "accept"}))
        await asyncio.sleep(1)
        assert not decision.done(), (await decision).text
        assert_problem(await api.post("/transfers/tr-never-started/decision",
                                      json={"decision": "accept"}), 404)
        async with build_worker(service_client, idle_queue, sessions, strict_sandbox=True):
            decided = await decision
            assert decided.status_code == 200, decided.text
            assert decided.json()["status"] == "accepted"
            again = await api.post("/transfers", json=transfer(request_id))
            assert again.status_code == 200, again.text
            assert again.json()["next_deadline_kind"] == "resolve"

            async def listed() -> None:
                found = await api.get(f"/coworking/{arrangement_id}")
                assert found.status_code == 200, found.text

            await eventually(listed)
            # Ended, so this test leaves no arrangement waiting for its review.
            assert (await api.post(f"/coworking/{arrangement_id}/end", json={})
                    ).status_code == 200


async def test_t1_casework_token_district_claim_scopes_requests(
        api: ApiClient, api_settings: Settings, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    request_id = f"tr-{uuid.uuid4().hex[:8]}"
    assert (await api.post("/transfers", json=transfer(request_id))).status_code == 201
    monkeypatch.setattr(cli, "get_settings", lambda: api_settings)
    tokens = {}
    for district in ("joondalup", "kimberley"):
        cli.main(["token", "--role", "team_manager", "--district", district])
        tokens[district] = capsys.readouterr().out.strip()
    claims = jwt.decode(tokens["joondalup"], options={"verify_signature": False})
    assert claims["district_id"] == "joondalup" and claims["roles"] == ["team_manager"]
    assert (await api.with_token(tokens["joondalup"]).get(f"/transfers/{request_id}")
            ).status_code == 200
    assert_problem(await api.with_token(tokens["kimberley"]).get(f"/transfers/{request_id}"),
                   404)
    cli.main(["token", "--role", "team_manager"])
    assert "district_id" not in jwt.decode(capsys.readouterr().out.strip(),
                                           options={"verify_signature": False})
    with pytest.raises(SystemExit):
        cli.main(["token", "--role", "team_manager", "--district", "not a district"])


async def test_t1_t4_every_request_body_has_an_example_valid_on_any_day(
        api: ApiClient) -> None:
    """The OpenAPI examples of the district routes validate against their own schemas,
    and name no dates (so they are valid whatever today is)."""
    from api.schemas import district

    spec = (await api.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    for model in (district.TransferIn, district.ServiceRequestIn, district.DecisionIn,
                  district.ReferralIn, district.ResolutionIn, district.CoworkingIn,
                  district.CoworkingReviewIn, district.EndCoworkingIn):
        examples = schemas[model.__name__].get("examples")
        assert examples, model.__name__
        for example in examples:
            model.model_validate(example)
            assert not any(k.endswith("_on") for k in example), (model.__name__, example)
    for path in ("/disputes/{dispute_id}/resolution", "/coworking",
                 "/coworking/{arrangement_id}/reviews"):
        assert "application/problem+json" in spec["paths"][path]["post"]["responses"]["409"][
            "content"], path
    assert "202" in spec["paths"]["/transfers"]["post"]["responses"]
