"""A write that took effect never answers 5xx (issue 18.3): it answers as a success, or
202 with the resource's address, on the real stack.

Database faults are injected at the one point that matters -- a COMMIT on the app's
own engine fails once, as it does when the database goes away mid-request -- and a
worker backlog is a case whose task queue no worker polls, so its status query cannot
be answered."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import delete, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from casework.config import Settings
from models.tables import CaseRow
from tests.api.conftest import (
    ApiClient,
    active_case,
    assert_problem,
    new_case_id,
    registration,
    running_app,
    wait_idle,
)
from workflows.case_contract import workflow_id_for


def _engine(api: httpx.AsyncClient) -> AsyncEngine:
    assert isinstance(api, ApiClient) and isinstance(api.transport, httpx.ASGITransport)
    sessions: async_sessionmaker[AsyncSession] = api.transport.app.state.casework.sessions
    bind = sessions.kw["bind"]
    assert isinstance(bind, AsyncEngine)
    return bind


@contextmanager
def next_commit_fails(api: httpx.AsyncClient) -> Iterator[list[bool]]:
    """The app's next COMMIT of the route's own work fails as if the database had gone
    (the access log's commits, before and after the route, are let through: its rows
    have their own fallback); the list holds True once it did (so a test knows the
    fault hit)."""
    engine = _engine(api).sync_engine
    failed: list[bool] = []

    def note(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "access_log" not in statement.lower():
            conn.info["route_work"] = True

    def fail(conn: Any) -> None:
        if conn.info.pop("route_work", False) and not failed:
            failed.append(True)
            raise OperationalError("COMMIT", {}, ConnectionError("database went away"))

    def forget(conn: Any) -> None:
        conn.info.pop("route_work", None)

    event.listen(engine, "before_cursor_execute", note)
    event.listen(engine, "commit", fail)
    event.listen(engine, "rollback", forget)
    try:
        yield failed
    finally:
        event.remove(engine, "before_cursor_execute", note)
        event.remove(engine, "commit", fail)
        event.remove(engine, "rollback", forget)


async def test_a_report_the_workflow_took_is_201_though_the_final_commit_fails(
    api: httpx.AsyncClient,
) -> None:
    """The route only read from the database; its commit failing after the workflow
    accepted the report loses nothing, so the answer is the workflow's (R4)."""
    case_id = await active_case(api, "commitfail")
    report = {"report_id": f"rep-{case_id}", "period_index": 0}
    with next_commit_fails(api) as failed:
        answer = await api.post(f"/cases/{case_id}/reports", json=report)
    assert failed, "the injected fault did not hit"
    assert answer.status_code == 201, answer.text
    again = await api.post(f"/cases/{case_id}/reports", json=report)
    assert again.status_code == 200 and again.json()["duplicate"]


async def test_registration_whose_listing_fails_to_commit_answers_202_then_repeats(
    api: httpx.AsyncClient,
) -> None:
    """The workflow started, the row's commit failed: 202 with Location (the case runs),
    and the same registration again answers 200 with the case."""
    case_id = new_case_id("listfail")
    body = registration(case_id)
    with next_commit_fails(api) as failed:
        answer = await api.post("/cases", json=body)
    assert failed, "the injected fault did not hit"
    assert answer.status_code == 202, answer.text
    assert answer.headers["location"] == f"/cases/{case_id}"
    assert answer.json()["status"] == "accepted" and answer.json()["case_id"] == case_id
    await wait_idle(api, case_id)
    again = await api.post("/cases", json=body)
    assert again.status_code == 200, again.text
    assert again.json()["case_id"] == case_id


async def test_registration_under_a_worker_backlog_is_201_and_repeats_idempotently(
    api_settings: Settings, temporal_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """No worker polls the case's task queue, so its status query cannot answer: the
    registration still answers 201 with Location (the listed row, `source:
    read_model`); the same body again 200, other terms 409 -- also when the row is
    missing and only the workflow's history can tell (no worker needed)."""
    settings = api_settings.model_copy(
        update={"temporal_task_queue": f"no-worker-{uuid.uuid4().hex[:8]}"})
    case_id = new_case_id("backlog")
    body = registration(case_id)
    other_terms = registration(case_id, periods=3)
    async with running_app(settings, temporal_env.client) as api:
        try:
            created = await api.post("/cases", json=body)
            assert created.status_code == 201, created.text
            assert created.headers["location"] == f"/cases/{case_id}"
            assert created.json()["source"] == "read_model"
            assert created.json()["status"] == "awaiting_endorsement"
            again = await api.post("/cases", json=body)
            assert again.status_code == 200, again.text
            assert (await api.post("/cases", json=other_terms)).status_code == 409
            async with sessions() as session:  # as if the first listing had been lost
                await session.execute(delete(CaseRow).where(CaseRow.case_id == case_id))
                await session.commit()
            assert (await api.post("/cases", json=other_terms)).status_code == 409
            relisted = await api.post("/cases", json=body)
            assert relisted.status_code == 200, relisted.text
            assert relisted.json()["case_id"] == case_id
        finally:
            await temporal_env.client.get_workflow_handle(
                workflow_id_for(case_id)).terminate("test over")


async def test_v3_review_reason_is_stored_before_the_workflow_hears_of_it(
    api: httpx.AsyncClient,
) -> None:
    """A note's commit failing answers 503 and the workflow has not heard of the review
    (nothing happened); the retry records both. A refused review leaves no note."""
    case_id = await active_case(api, "notefail")
    review = {"review_id": "rev-1", "kind": "case_plan", "requested_by_role": "agency",
              "reason": "The child moved school.", "requested_by": "ag-rep-1"}
    with next_commit_fails(api) as failed:
        answer = await api.post(f"/cases/{case_id}/reviews", json=review)
    assert failed, "the injected fault did not hit"
    assert answer.status_code == 503, answer.text
    reviews = (await api.get(f"/cases/{case_id}")).json()["reviews"]
    assert "rev-1" not in [r["review_id"] for r in reviews]
    retried = await api.post(f"/cases/{case_id}/reviews", json=review)
    assert retried.status_code == 201, retried.text
    refused = {**review, "review_id": "rev-2", "reason": "Another reason.",
               "requested_by_role": "neighbour"}  # the workflow refuses it (V3)
    assert_problem(await api.post(f"/cases/{case_id}/reviews", json=refused), 422,
                   field="requested_by_role", rule="V3")
    await wait_idle(api, case_id)
    notes = (await api.get(f"/cases/{case_id}/notes")).json()["items"]
    assert [n["text"] for n in notes] == [review["reason"]]
