"""Issue 10 review, on the real stack (dev server, worker, database): what reaches a case
through Temporal's own door without the service -- a client with no codec (the Temporal
CLI's default), or with the codec but no caller envelope -- is refused and recorded, and
cannot take a case over; a closure told to a case by a practitioner's registration is
applied; `casework reconcile` reports a case whose workflow was ended from outside.

The plain clients share the dev server with the stack (its service client); the strict
codec (casework/codec.py) is what turns their payloads into refusals, so these tests fail
if its decode passes plaintext through."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import Payload, Payloads, WorkflowExecution
from temporalio.api.enums.v1 import UpdateWorkflowExecutionLifecycleStage
from temporalio.api.update.v1 import Input, Meta, Request, WaitPolicy
from temporalio.api.workflowservice.v1 import UpdateWorkflowExecutionRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from casework.reconcile import reconcile
from casework.reconcile_requests import reconcile_requests
from models.tables import (
    AccessLogRow,
    CaseRow,
    DistrictRequestEventRow,
    DistrictRequestRow,
    PeriodRow,
    TimelineEventRow,
)
from tests.api.conftest import (
    ApiClient,
    active_case,
    endorsement,
    new_case_id,
    registration,
    today,
    wait_idle,
)
from tests.polling import eventually
from tests.workflows.conftest import make_terms
from workflows.business_calendar import BusinessCalendar, CalendarSpec
from workflows.case_contract import CaseContractInput, workflow_id_for
from workflows.errors import FORBIDDEN, INVALID


def _plain_client(temporal_env: WorkflowEnvironment) -> Client:
    """A client of the same server without the codec or an envelope: json/plain
    payloads, as `temporal workflow signal --input ...` sends them."""
    return Client(temporal_env.client.service_client, namespace="default")


async def _timeline(sessions: async_sessionmaker[AsyncSession], case_id: str
                    ) -> list[TimelineEventRow]:
    async with sessions() as session:
        return list(await session.scalars(select(TimelineEventRow).where(
            TimelineEventRow.case_id == case_id)))


async def _refusals(sessions: async_sessionmaker[AsyncSession], case_id: str, count: int
                    ) -> list[dict[str, Any]]:
    async def recorded() -> list[dict[str, Any]]:
        rows = [r.detail for r in await _timeline(sessions, case_id)
                if r.kind == "signal_refused"]
        assert len(rows) == count, rows
        return rows

    return await eventually(recorded)


async def _nowhere_in_the_read_model(sessions: async_sessionmaker[AsyncSession],
                                     case_id: str, text: str) -> None:
    """`text` (sent in plaintext) is in no timeline entry and no period of the case."""
    timeline = await _timeline(sessions, case_id)
    assert text not in json.dumps([row.detail for row in timeline])
    async with sessions() as session:
        reports = list(await session.scalars(select(PeriodRow.report_id).where(
            PeriodRow.case_id == case_id)))
    assert text not in reports


async def _update_row(sessions: async_sessionmaker[AsyncSession], case_id: str
                      ) -> AccessLogRow:
    """The case's one access-log row of a refused update, once written."""
    async def written() -> AccessLogRow:
        async with sessions() as session:
            rows = list(await session.scalars(select(AccessLogRow).where(
                AccessLogRow.case_id == case_id, AccessLogRow.method == "UPDATE")))
        assert len(rows) == 1, rows
        return rows[0]

    return await eventually(written)


# ---------------------------------------------------------------- strict codec
async def test_a_plaintext_signal_is_refused_and_recorded_never_applied(
    api: ApiClient, temporal_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    case_id = await active_case(api, "plain-signal")
    handle = _plain_client(temporal_env).get_workflow_handle(workflow_id_for(case_id))
    await handle.signal("submit_report", {"report_id": "rep-plain-s"})

    [refused] = await _refusals(sessions, case_id, 1)
    assert (refused["signal"], refused["reason"], refused["door"]) == (
        "submit_report", "plaintext", "temporal")
    async with sessions() as session:
        [row] = list(await session.scalars(select(AccessLogRow).where(
            AccessLogRow.case_id == case_id, AccessLogRow.method == "SIGNAL")))
    assert (row.subject, row.status_code, row.outcome) == ("unauthenticated", 422, "refused")
    await wait_idle(api, case_id)
    assert (await api.get(f"/cases/{case_id}")).json()["periods"][0]["report_id"] is None
    await _nowhere_in_the_read_model(sessions, case_id, "rep-plain-s")


async def test_a_plaintext_update_is_rejected_naming_plaintext(
    api: ApiClient, temporal_env: WorkflowEnvironment, service_client: Client,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Sent raw, as the Temporal CLI sends `workflow update execute --input`: rejected
    before history, and the rejection reads as such without the codec -- the worker
    seals a failure's details and stack trace, not a refusal's message."""
    case_id = await active_case(api, "plain-update")
    sent = Payload(metadata={"encoding": b"json/plain"},
                   data=json.dumps({"report_id": "rep-plain-u"}).encode())
    answer = await _plain_client(temporal_env).workflow_service.update_workflow_execution(
        UpdateWorkflowExecutionRequest(
            namespace="default",
            workflow_execution=WorkflowExecution(workflow_id=workflow_id_for(case_id)),
            wait_policy=WaitPolicy(lifecycle_stage=UpdateWorkflowExecutionLifecycleStage.
                                   UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED),
            request=Request(meta=Meta(update_id=f"plain-{case_id}", identity="cli"),
                            input=Input(name="submit_report",
                                        args=Payloads(payloads=[sent])))))
    assert answer.outcome.HasField("failure"), answer
    assert answer.outcome.failure.message.startswith("refused (plaintext): "), answer
    cause = await service_client.data_converter.decode_failure(answer.outcome.failure)
    assert isinstance(cause, ApplicationError) and cause.type == INVALID
    assert "refused (plaintext)" in cause.message
    row = await _update_row(sessions, case_id)
    assert (row.subject, row.status_code, row.outcome) == ("unauthenticated", 422, "refused")
    assert row.path.endswith(f"/submit_report#update:plain-{case_id}")
    await wait_idle(api, case_id)
    assert (await api.get(f"/cases/{case_id}")).json()["periods"][0]["report_id"] is None
    await _nowhere_in_the_read_model(sessions, case_id, "rep-plain-u")


async def test_an_unsigned_update_through_the_codec_is_refused_recorded_and_logged(
    api: ApiClient, temporal_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The CLI with the codec endpoint but no envelope (`temporal workflow update execute
    --codec-endpoint ...`): the sender reads why, the case's timeline and the access log
    say who was refused, and nothing is applied."""
    case_id = await active_case(api, "unsigned-update")
    handle = temporal_env.client.get_workflow_handle(workflow_id_for(case_id))
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update("submit_report", {"report_id": "rep-unsigned-u"})
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == FORBIDDEN
    assert cause.message.startswith("refused (no_envelope): ")
    [entry] = await _refusals(sessions, case_id, 1)
    assert (entry["signal"], entry["reason"], entry["sent_as"], entry["report_id"]) == (
        "submit_report", "no_envelope", "update", "rep-unsigned-u")

    row = await _update_row(sessions, case_id)
    assert (row.subject, row.status_code, row.outcome) == ("unauthenticated", 403, "refused")
    await wait_idle(api, case_id)
    assert (await api.get(f"/cases/{case_id}")).json()["periods"][0]["report_id"] is None


# ---------------------------------------------------------------- starts not ours
async def _start_from_outside(temporal_env: WorkflowEnvironment, task_queue: str,
                              case_id: str, door: str) -> Any:
    """Start the case's workflow as an outsider: plaintext (no codec), encrypted but
    unsigned (the codec, no envelope: e.g. the CLI through the codec endpoint), or
    encrypted and not a case's input at all."""
    if door == "plaintext":
        client, argument = _plain_client(temporal_env), {"terms": {"case_id": case_id}}
    elif door == "undecodable":
        client, argument = temporal_env.client, {"case_id": case_id, "child": "Jane Citizen"}
    else:
        client = temporal_env.client  # the codec, no caller envelope
        argument = CaseContractInput(terms=make_terms(case_id, today(), agency_id="agency-x"))
    return await client.start_workflow("CaseContract", argument, id=workflow_id_for(case_id),
                                       task_queue=task_queue)


@pytest.mark.parametrize("door", ["plaintext", "unsigned", "undecodable"])
async def test_a_start_from_outside_fails_naming_why_and_the_case_can_then_register(
    api: ApiClient, temporal_env: WorkflowEnvironment, service_client: Client,
    sessions: async_sessionmaker[AsyncSession], task_queue: str, door: str,
) -> None:
    case_id = new_case_id(f"takeover-{door}")
    await _start_from_outside(temporal_env, task_queue, case_id, door)
    with pytest.raises(WorkflowFailureError) as failed:  # at once: its first task fails it
        await asyncio.wait_for(
            service_client.get_workflow_handle(workflow_id_for(case_id)).result(), 30)
    reason = {"plaintext": "plaintext", "unsigned": "no_envelope"}.get(door, door)
    assert f"refused ({reason})" in str(failed.value.cause)
    async with sessions() as session:
        assert await session.get(CaseRow, case_id) is None  # nothing reached the read model

    async def logged() -> None:
        async with sessions() as session:
            rows = list(await session.scalars(select(AccessLogRow).where(
                AccessLogRow.path.startswith(f"temporal:{workflow_id_for(case_id)}/start#"))))
        assert [(r.method, r.subject, r.outcome) for r in rows] == [
            ("START", "unauthenticated", "refused")]

    await eventually(logged)

    created = await api.post("/cases", json=registration(case_id))
    assert created.status_code == 201, created.text
    assert created.json()["agency_id"] == "agency-api"
    endorsed = await api.post(f"/cases/{case_id}/endorsement", json=endorsement())
    assert endorsed.status_code == 200, endorsed.text


async def test_a_registration_racing_a_start_from_outside_waits_for_it_to_fail(
    api: ApiClient, temporal_env: WorkflowEnvironment, task_queue: str,
) -> None:
    case_id = new_case_id("takeover-race")
    await _start_from_outside(temporal_env, task_queue, case_id, "plaintext")
    created = await api.post("/cases", json=registration(case_id))  # not waiting first
    assert created.status_code == 201, created.text
    again = await api.post("/cases", json=registration(case_id))
    assert again.status_code == 200, again.text


# ---------------------------------------------------------------- registration's closures
async def test_r1_a_closure_declared_just_before_a_practitioners_registration_is_applied(
    api: ApiClient, sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A closure declared just before a practitioner registers is counted by the case's
    first schedule (activities/case_listing.py: the case is listed before the closure
    days are read), and nothing is refused on the way."""
    # The Northern Territory: no other test's case observes a closure declared there.
    where = {"jurisdiction": "AU-NT", "time_zone": "Australia/Darwin"}
    first_due = today() + timedelta(days=66)
    due = [first_due + timedelta(days=80 * i) for i in range(3)]
    closure = BusinessCalendar(CalendarSpec(**where)).shift_business_days(first_due, -3)
    declared = await api.post("/calendar/closures", json={
        "jurisdiction": "AU-NT", "day": closure.isoformat(), "name": "Declared just before"})
    assert declared.status_code == 201, declared.text

    case_id = new_case_id("closure-prac")
    practitioner = api.as_role("practitioner", subject="prac-closure")
    body = registration(case_id, schedule={"due_dates": [d.isoformat() for d in due]},
                        contract_end=due[-1].isoformat(), **where)
    created = await practitioner.post("/cases", json=body)
    assert created.status_code == 201, created.text
    endorsed = await api.post(f"/cases/{case_id}/endorsement", json=endorsement())
    assert endorsed.status_code == 200, endorsed.text

    async def counted() -> None:
        periods = (await api.get(f"/cases/{case_id}")).json()["periods"]
        assert periods, "schedule not computed yet"
        assert closure.isoformat() in str(periods[0]["basis"]["follow_up"]), periods[0]

    await eventually(counted)
    rows = await _timeline(sessions, case_id)
    assert [r.detail for r in rows if r.kind == "signal_refused"] == []


# ---------------------------------------------------------------- reconcile
async def test_reconcile_reports_and_marks_a_case_whose_workflow_was_terminated(
    api: httpx.AsyncClient, temporal_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Terminate cannot be refused by workflow code: reconcile finds the open case whose
    workflow ended, and the repair says so on the case and clears its next deadline."""
    case_id = await active_case(api, "terminated")
    await temporal_env.client.get_workflow_handle(workflow_id_for(case_id)).terminate()
    said: list[str] = []
    found = await reconcile(temporal_env.client, sessions, repair=False, say=said.append,
                            case_ids=[case_id])
    [ended] = found.ended
    assert (ended.case_id, ended.workflow_status, ended.marked) == (
        case_id, "terminated", False)
    assert any(case_id in line and "terminated" in line for line in said), said
    assert [r for r in await _timeline(sessions, case_id) if r.kind == "workflow_ended"] == []

    for _ in range(2):  # repeat-safe
        repaired = await reconcile(temporal_env.client, sessions, say=lambda _: None,
                                   case_ids=[case_id])
        assert [e.marked for e in repaired.ended] == [True]
    [entry] = [r for r in await _timeline(sessions, case_id) if r.kind == "workflow_ended"]
    assert entry.detail["workflow_status"] == "terminated"
    async with sessions() as session:
        row = await session.get(CaseRow, case_id, populate_existing=True)
    assert row is not None and row.status == "active" and row.next_deadline is None


async def test_reconcile_reports_and_marks_a_transfer_whose_workflow_was_terminated(
    api: httpx.AsyncClient, temporal_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """T1-T4: terminate cannot be refused either; reconcile finds the open request whose
    workflow ended, says so on its timeline and clears its next deadline, once."""
    request_id = f"tr-{uuid.uuid4().hex[:8]}"
    opened = await api.post("/transfers", json={
        "request_id": request_id, "case_id": "case-wa-api", "from_district": "perth",
        "to_district": "joondalup", "child_in_care": False})
    assert opened.status_code == 201, opened.text
    await temporal_env.client.get_workflow_handle(f"transfer-{request_id}").terminate()
    said: list[str] = []
    found = await reconcile_requests(temporal_env.client, sessions, repair=False,
                                     say=said.append)
    [ended] = [e for e in found if e.request_id == request_id]
    assert (ended.kind, ended.workflow_status, ended.marked) == ("transfer", "terminated",
                                                                 False)
    assert any(request_id in line and "terminated" in line for line in said), said
    for _ in range(2):  # repeat-safe
        await reconcile_requests(temporal_env.client, sessions, say=lambda _: None)
    async with sessions() as session:
        row = await session.get(DistrictRequestRow, ("transfer", request_id),
                                populate_existing=True)
        events = list(await session.scalars(select(DistrictRequestEventRow).where(
            DistrictRequestEventRow.request_id == request_id,
            DistrictRequestEventRow.event == "workflow_ended")))
    assert row is not None and row.status == "open" and row.next_deadline is None
    assert [e.detail["workflow_status"] for e in events] == ["terminated"]


# ---------------------------------------------------------------- strangers that never fail
async def test_a_start_no_worker_will_fail_cannot_hold_a_case_id(
    api: ApiClient, temporal_env: WorkflowEnvironment, service_client: Client,
) -> None:
    """A stranger's start on a task queue no worker polls never fails by itself: the
    registration waits for it a little, terminates that run (naming why) and starts the
    case (api/strangers.py)."""
    case_id = new_case_id("takeover-nowhere")
    await temporal_env.client.start_workflow(
        "CaseContract", {"x": 1}, id=workflow_id_for(case_id), task_queue="nowhere")
    created = await api.post("/cases", json=registration(case_id))
    assert created.status_code == 201, created.text
    runs = [run async for run in service_client.list_workflows(
        f"WorkflowId = '{workflow_id_for(case_id)}'")]
    assert sorted(r.status for r in runs if r.status is not None) == sorted(
        [WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.TERMINATED])


@pytest.mark.parametrize("door", ["plaintext", "unsigned", "nowhere"])
async def test_t1_a_start_from_outside_cannot_hold_a_transfer_id(
    api: ApiClient, temporal_env: WorkflowEnvironment, task_queue: str, door: str,
) -> None:
    """Issue 10 at the district workflows: a transfer id started from outside -- plaintext,
    unsigned, or on a queue no worker polls -- is taken back by the real request: 201,
    never a 500 or a 202 for ever."""
    request_id = f"tr-{uuid.uuid4().hex[:8]}"
    facts = {"request_id": request_id, "case_id": "case-wa-api", "from_district": "perth",
             "to_district": "joondalup", "child_in_care": False}
    client = _plain_client(temporal_env) if door == "plaintext" else temporal_env.client
    await client.start_workflow("TransferRequest", facts, id=f"transfer-{request_id}",
                                task_queue="nowhere" if door == "nowhere" else task_queue)
    opened = await api.post("/transfers", json=facts)
    assert opened.status_code == 201, opened.text
    assert (await api.get(f"/transfers/{request_id}")).status_code == 200
