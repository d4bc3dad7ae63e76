"""A write that took effect never answers 5xx (issue 18.3): it answers as a success, or
202 with the resource's address, on the real stack.

Database faults are injected at the one point that matters -- a COMMIT on the app's
own engine fails once, as it does when the database goes away mid-request -- and a
worker backlog is a case whose task queue no worker polls, so its status query cannot
be answered and no update is accepted; a slow worker is one whose schedule activity
waits until the test lets it go, so the endorsement is accepted but not answered."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    WorkflowHandle,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.read_model import ReadModelActivities
from activities.schedule import ScheduleActivities
from api import case_gateway
from casework import temporal_client
from casework.codec import EncryptionCodec
from casework.config import Settings
from models.envelope import install_keys
from models.schedule import ScheduleRequest, ScheduleResult
from models.tables import CaseRow
from tests.api.conftest import (
    ApiClient,
    active_case,
    assert_problem,
    endorsement,
    new_case_id,
    registration,
    running_app,
    wait_idle,
)
from tests.polling import eventually
from worker import build_worker, sandbox_runner
from workflows.case_contract import CaseContractWorkflow, workflow_id_for
from workflows.doors import DoorsInterceptor


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


def assert_pending(answer: httpx.Response, case_id: str, message: str,
                   message_id: str | None, stage: str) -> None:
    """202 with the case's address: the write took effect (issue 18.3)."""
    assert answer.status_code == 202, answer.text
    assert answer.headers["location"] == f"/cases/{case_id}"
    body = answer.json()
    assert body["status"] == "accepted" and body["case_id"] == case_id, body
    assert (body["message"], body["message_id"], body["stage"]) == (
        message, message_id, stage), body


async def test_writes_while_no_worker_runs_the_case_answer_202_and_apply_once_one_does(
    api_settings: Settings, temporal_env: WorkflowEnvironment, service_client: Client,
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No worker polls the case's task queue: the endorsement (C4), an assessment (R4)
    and an R7 event are not accepted in time, so each goes as a signal, signed for the
    same caller, and answers 202 -- never 503. A worker then applies each once, and the
    same requests again answer as the first would have."""
    monkeypatch.setattr(case_gateway, "UPDATE_ACCEPT_SECONDS", 1.0)
    queue = f"no-worker-{uuid.uuid4().hex[:8]}"
    settings = api_settings.model_copy(update={"temporal_task_queue": queue})
    case_id = new_case_id("stored")
    report_id, event_id = f"rep-{case_id}", f"evt-{case_id}"
    assessment = {"assessment": "adequate", "assessed_by": "prac-1"}
    event = {"event_id": event_id, "kind": "complaint_from_child_or_family"}
    async with running_app(settings, temporal_env.client) as api:
        try:
            assert (await api.post("/cases", json=registration(case_id))).status_code == 201
            assert_pending(await api.post(f"/cases/{case_id}/endorsement", json=endorsement()),
                           case_id, "endorse", None, "stored")
            async with build_worker(service_client, queue, sessions, strict_sandbox=True):
                async def active() -> None:
                    view = await api.get(f"/cases/{case_id}")
                    assert view.json()["status"] == "active", view.text

                await eventually(active)
                report = await api.post(f"/cases/{case_id}/reports",
                                        json={"report_id": report_id, "period_index": 0})
                assert report.status_code == 201, report.text
                await wait_idle(api, case_id)
            assessed = await api.post(f"/cases/{case_id}/reports/{report_id}/assessment",
                                      json=assessment)
            assert_pending(assessed, case_id, "assess_report", report_id, "stored")
            raised = await api.post(f"/cases/{case_id}/events", json=event)
            assert_pending(raised, case_id, "raise_event", event_id, "stored")
            async with build_worker(service_client, queue, sessions, strict_sandbox=True):
                async def applied() -> dict[str, object]:
                    view = await api.get(f"/cases/{case_id}")
                    assert view.status_code == 200, view.text
                    body: dict[str, object] = view.json()
                    assert body["periods"][0]["assessment"] == "adequate", body  # type: ignore[index]
                    assert body["audits"], body
                    return body

                case = await eventually(applied, timeout_seconds=60)
                audits = case["audits"]
                assert isinstance(audits, list) and len(audits) == 1
                again = await api.post(f"/cases/{case_id}/reports/{report_id}/assessment",
                                       json=assessment)
                assert again.status_code == 200 and again.json()["duplicate"], again.text
                raised_again = await api.post(f"/cases/{case_id}/events", json=event)
                assert raised_again.status_code == 200, raised_again.text
                assert raised_again.json()["audit_id"] == audits[0]["audit_id"]
                endorsed_again = await api.post(f"/cases/{case_id}/endorsement",
                                                json=endorsement())
                assert endorsed_again.status_code == 200, endorsed_again.text
                await wait_idle(api, case_id)
        finally:
            await temporal_env.client.get_workflow_handle(
                workflow_id_for(case_id)).terminate("test over")


class HeldSchedule:
    """The real schedule activity, held until the test releases it: the case's first
    run is still scheduling when the endorsement comes, and its handler waits for the
    schedule (workflows/case_contract.py `endorse`)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._real = ScheduleActivities(sessions)
        self.release = asyncio.Event()

    @activity.defn(name="schedule_periods")
    async def schedule_periods(self, request: ScheduleRequest) -> ScheduleResult:
        await self.release.wait()
        return await self._real.schedule_periods(request)


async def test_an_accepted_update_not_answered_in_time_is_202_then_answers(
    api_settings: Settings, service_client: Client, temporal_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker accepts the endorsement (its validator ran) but cannot answer before
    the schedule exists: 202 `accepted`, not 503. Once the schedule is released the
    endorsement has taken effect, and the same request answers 200 (C4)."""
    monkeypatch.setattr(case_gateway, "UPDATE_ANSWER_SECONDS", 1.0)
    queue = f"slow-{uuid.uuid4().hex[:8]}"
    settings = api_settings.model_copy(update={"temporal_task_queue": queue})
    codec = service_client.data_converter.payload_codec
    assert isinstance(codec, EncryptionCodec)
    install_keys(codec.caller_keys)
    schedule = HeldSchedule(sessions)
    worker = Worker(service_client, task_queue=queue, workflows=[CaseContractWorkflow],
                    activities=[schedule.schedule_periods,
                                ReadModelActivities(sessions).record_case_effects],
                    workflow_runner=sandbox_runner(strict=True),
                    interceptors=[DoorsInterceptor()])
    case_id = new_case_id("slow")
    async with running_app(settings, temporal_env.client) as api, worker:
        try:
            assert (await api.post("/cases", json=registration(case_id))).status_code == 201
            assert_pending(await api.post(f"/cases/{case_id}/endorsement", json=endorsement()),
                           case_id, "endorse", None, "accepted")
            schedule.release.set()
            again = await api.post(f"/cases/{case_id}/endorsement", json=endorsement())
            assert again.status_code == 200, again.text
            assert again.json()["duplicate"] and again.json()["status"] == "active"
            await wait_idle(api, case_id)
        finally:
            schedule.release.set()
            await temporal_env.client.get_workflow_handle(
                workflow_id_for(case_id)).terminate("test over")


class LostStartAnswer(Interceptor):
    """The start RPC fails as it does when Temporal freezes or the answer is lost:
    after the server took the start (`after_sending`), or before it was sent."""

    def __init__(self, after_sending: bool) -> None:
        self.after_sending = after_sending

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        after_sending = self.after_sending

        class Failing(OutboundInterceptor):
            async def start_workflow(self, input: StartWorkflowInput
                                     ) -> WorkflowHandle[Any, Any]:
                if after_sending:
                    await super().start_workflow(input)
                raise RPCError("Timeout expired", RPCStatusCode.DEADLINE_EXCEEDED, b"")

        return Failing(next)


@contextmanager
def start_answers_lost(monkeypatch: pytest.MonkeyPatch, after_sending: bool) -> Iterator[None]:
    """Apps created meanwhile build their Temporal client with `LostStartAnswer`."""
    real = temporal_client.client_options

    def options(*args: Any, **kwargs: Any) -> dict[str, Any]:
        built = real(*args, **kwargs)
        built["interceptors"] = [LostStartAnswer(after_sending), *built.get("interceptors", [])]
        return built

    with monkeypatch.context() as patch:
        patch.setattr(temporal_client, "client_options", options)
        yield


async def test_registration_whose_start_answer_is_lost_after_the_start_is_201(
    api_settings: Settings, api_worker: Worker, temporal_env: WorkflowEnvironment,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The start RPC times out after Temporal took it: the case's history shows the
    workflow with these terms, so the answer is 201 -- not 503 for a created case --
    and the same registration again 200."""
    case_id = new_case_id("lostanswer")
    body = registration(case_id)
    with start_answers_lost(monkeypatch, after_sending=True):
        async with running_app(api_settings, temporal_env.client) as api:
            created = await api.post("/cases", json=body)
            assert created.status_code == 201, created.text
            await wait_idle(api, case_id)
            again = await api.post("/cases", json=body)
            assert again.status_code == 200, again.text
            assert (await temporal_env.client.get_workflow_handle(
                workflow_id_for(case_id)).describe()).status is not None


async def test_registration_whose_start_never_reached_temporal_is_503_and_nothing_runs(
    api_settings: Settings, temporal_env: WorkflowEnvironment,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The start RPC fails before Temporal took it: no workflow, so 503 (component
    temporal) -- nothing took effect, and no row lists a case that does not run."""
    case_id = new_case_id("nostart")
    with start_answers_lost(monkeypatch, after_sending=False):
        async with running_app(api_settings, temporal_env.client) as api:
            answer = await api.post("/cases", json=registration(case_id))
            assert_problem(answer, 503)
            assert (await api.get(f"/cases/{case_id}")).status_code == 404
