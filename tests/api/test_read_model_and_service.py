"""The read model agrees with each workflow after a sequence of calls; `reconcile`
finds and repairs drift; 503 when Temporal or the database is unreachable; OpenAPI and
CORS."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from casework.config import Settings
from casework.processes import free_port
from casework.reconcile import reconcile
from models.tables import CaseRow, PeriodRow
from tests.api.conftest import (
    active_case,
    assert_problem,
    eventually,
    new_case_id,
    registration,
    running_app,
    wait_idle,
)


async def _drift(env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession],
                 case_id: str) -> list[str]:
    report = await reconcile(env.client, sessions, repair=False, say=lambda _: None,
                             case_ids=[case_id])
    return [line for drift in report.drifted if drift.case_id == case_id
            for line in drift.differences]


async def _report_assess_and_raise(api: httpx.AsyncClient, case_id: str,
                                   spaced: bool) -> None:
    calls = [(f"/cases/{case_id}/reports", {"report_id": "rep-1"}),
             (f"/cases/{case_id}/reports/rep-1/assessment", {"assessment": "adequate"}),
             (f"/cases/{case_id}/events", {"event_id": "evt-1",
                                           "kind": "lack_of_client_contact"})]
    for path, body in calls:
        response = await api.post(path, json=body)
        assert response.status_code in (200, 201), response.text
        if spaced:
            await wait_idle(api, case_id)


async def test_read_model_agrees_with_the_workflow_after_a_quick_sequence_of_calls(
        api: httpx.AsyncClient, temporal_env: WorkflowEnvironment,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    case_id = await active_case(api, "agree")
    await _report_assess_and_raise(api, case_id, spaced=False)
    await eventually(lambda: _no_drift(temporal_env, sessions, case_id), 5)


async def test_read_model_agrees_with_the_workflow_after_a_sequence_of_calls(
        api: httpx.AsyncClient, temporal_env: WorkflowEnvironment,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    case_id = await active_case(api, "agree")
    await _report_assess_and_raise(api, case_id, spaced=True)

    async def agrees() -> None:
        assert await _drift(temporal_env, sessions, case_id) == []
        async with sessions() as session:
            period = await session.get(PeriodRow, (case_id, 0))
            assert period is not None and period.outcome == "success"

    await eventually(agrees)
    live = (await api.get(f"/cases/{case_id}")).json()
    async with sessions() as session:
        row = await session.get(CaseRow, case_id)
    assert row is not None
    assert (row.status, row.audit_open, row.consecutive_failures) == (
        live["status"], live["audit_open"], live["consecutive_failures"])


async def test_reconcile_finds_and_repairs_drift(
        api: httpx.AsyncClient, temporal_env: WorkflowEnvironment,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    case_id = await active_case(api, "drift")
    await eventually(lambda: _no_drift(temporal_env, sessions, case_id))
    async with sessions() as session:
        await session.execute(update(CaseRow).where(CaseRow.case_id == case_id).values(
            consecutive_failures=7, audit_open=True))
        await session.execute(update(PeriodRow).where(
            PeriodRow.case_id == case_id, PeriodRow.period_index == 1).values(outcome="late"))
        await session.commit()
    found = await _drift(temporal_env, sessions, case_id)
    assert any(line.startswith("cases.consecutive_failures") for line in found), found
    assert any(line.startswith("periods[1].outcome") for line in found), found
    said: list[str] = []
    report = await reconcile(temporal_env.client, sessions, say=said.append)
    assert case_id in [d.case_id for d in report.drifted if d.repaired]
    assert any("repaired" in line for line in said)
    assert await _drift(temporal_env, sessions, case_id) == []
    listed = (await api.get("/cases", params={"min_consecutive_failures": 7})).json()
    assert case_id not in [c["case_id"] for c in listed["items"]]


async def _no_drift(env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession],
                    case_id: str) -> None:
    assert await _drift(env, sessions, case_id) == []


async def test_503_when_temporal_is_unreachable(api_settings: Settings) -> None:
    nowhere = api_settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    async with running_app(nowhere) as client:
        registered = await client.post("/cases", json=registration(new_case_id()))
        assert assert_problem(registered, 503)["component"] == "temporal"
        assert_problem(await client.post("/cases/any/reports", json={"report_id": "r"}), 503)
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["failed"] == ["temporal"]


async def test_503_when_the_database_is_unreachable(api_settings: Settings,
                                                    tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "casework.db"
    broken = api_settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{missing}"})
    async with running_app(broken) as client:
        listed = await client.get("/cases")
        assert assert_problem(listed, 503)["component"] == "database"
        assert_problem(await client.get("/cases/any"), 503)


async def test_openapi_has_examples_and_problem_responses(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    for name in ("CaseRegistration", "EndorsementIn", "ReportIn", "FindingsIn", "ClosureIn"):
        assert schemas[name].get("examples"), name
    post_cases = spec["paths"]["/cases"]["post"]["responses"]
    assert {"201", "200", "409", "422", "503"} <= set(post_cases)
    assert "application/problem+json" in post_cases["409"]["content"]


async def test_cors_allows_the_configured_front_end(api: httpx.AsyncClient) -> None:
    preflight = await api.options("/cases", headers={
        "Origin": "https://front.example", "Access-Control-Request-Method": "POST"})
    assert preflight.headers["access-control-allow-origin"] == "https://front.example"
    other = await api.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
