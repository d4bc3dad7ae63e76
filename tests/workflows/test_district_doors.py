"""Issue 10's one rule for every door at the district workflows (T1-T4, issue 14): a
start or an update sent straight through Temporal is applied only with a valid signed
caller envelope from the service whose roles may send it (models/permissions.py
`DISTRICT_MESSAGE_ACTIONS`). A refused update is rejected to its sender and changes
nothing; the refusal is recorded on the request's timeline (`signal_refused`) and in the
access log (`temporal:<workflow id>/<name>#<entry>`). A refused start fails its run and
leaves an access-log row, no request. The service's own client (as the API sends, with
the route's action) still works."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from casework.caller_envelope import CallerIdentity
from models.district import (
    CoworkingInput,
    Decide,
    DisputeInput,
    EndCoworking,
    RecordCoworkingReview,
    ReferDispute,
    RequestStatus,
    ResolveDispute,
    ServiceRequestInput,
    TransferInput,
)
from models.payloads import refused_payload
from models.tables import AccessLogRow, DistrictRequestEventRow, DistrictRequestRow
from tests.polling import eventually
from tests.workflows.conftest import begin_on, client_as
from workflows.coworking import CoworkingWorkflow, coworking_workflow_id
from workflows.dispute import DisputeWorkflow, dispute_workflow_id
from workflows.errors import FORBIDDEN, INVALID
from workflows.service_request import ServiceRequestWorkflow, service_request_workflow_id
from workflows.transfer import TransferRequestWorkflow, transfer_workflow_id

PRACTITIONER = CallerIdentity("pr-1", ("practitioner",), None)
OPERATIONS = CallerIdentity("ops-1", ("operations",), None)
CASE_PLANNER = CallerIdentity("cpl-1", ("case_planner",), None)
START_REFUSED_WITHIN = 60.0
"""Seconds (real) within which a refused start has failed its run; an admitted one would
run on for ever (a timeout, not a hang, when the door is open)."""


async def _status(handle: WorkflowHandle[Any, RequestStatus], query: Any) -> RequestStatus:
    """The status once the first deadlines are computed."""

    async def computed() -> RequestStatus:
        try:
            status: RequestStatus = await handle.query(query)
        except RPCError as exc:  # a child workflow not started yet
            raise AssertionError(str(exc)) from exc
        assert status.deadlines
        return status

    return await eventually(computed)


async def _refusals(sessions: async_sessionmaker[AsyncSession], kind: str, request_id: str,
                    count: int) -> list[dict[str, Any]]:
    async def recorded() -> list[dict[str, Any]]:
        async with sessions() as session:
            rows = list(await session.scalars(select(DistrictRequestEventRow).where(
                DistrictRequestEventRow.kind == kind,
                DistrictRequestEventRow.request_id == request_id,
                DistrictRequestEventRow.event == "signal_refused")))
        assert len(rows) == count
        return [row.detail for row in rows]

    return await eventually(recorded)


async def _access(sessions: async_sessionmaker[AsyncSession], workflow_id: str, count: int
                  ) -> list[AccessLogRow]:
    async def recorded() -> list[AccessLogRow]:
        async with sessions() as session:
            rows = list(await session.scalars(select(AccessLogRow).where(
                AccessLogRow.path.startswith(f"temporal:{workflow_id}/")).order_by(
                AccessLogRow.id)))
        assert len(rows) == count
        return rows

    return await eventually(recorded)


async def _refused(update: Any) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as raised:
        await update
    cause = raised.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


def _reason(error: ApplicationError) -> str:
    return str(error.details[0]["reason"])


async def _open_transfer(env: WorkflowEnvironment, worker: Worker
                         ) -> tuple[str, WorkflowHandle[Any, RequestStatus]]:
    await begin_on(env)
    request_id = f"dd-{uuid.uuid4().hex[:8]}"
    handle = await env.client.start_workflow(
        TransferRequestWorkflow.run,
        TransferInput(request_id=request_id, case_id="case-wa-1", from_district="perth",
                      to_district="joondalup", child_in_care=False),
        id=transfer_workflow_id(request_id), task_queue=worker.task_queue)
    await _status(handle, TransferRequestWorkflow.status)
    return request_id, handle


# ------------------------------------------------------------------ T1, T2: decide
@pytest.mark.parametrize("kind", ["transfer", "service"])
async def test_t1_t2_decide_only_from_the_service_with_a_deciding_role(
        env: WorkflowEnvironment, worker: Worker,
        sessions: async_sessionmaker[AsyncSession], kind: str) -> None:
    """An unsigned decision (the Temporal CLI) and an operations-signed one are refused,
    change nothing, and are recorded; the team manager's, as the API sends it, applies."""
    await begin_on(env)
    request_id = f"dd-{uuid.uuid4().hex[:8]}"
    if kind == "transfer":
        run: Any = TransferRequestWorkflow.run
        query: Any = TransferRequestWorkflow.status
        update: Any = TransferRequestWorkflow.decide
        workflow_id = transfer_workflow_id(request_id)
        start: Any = TransferInput(request_id=request_id, case_id="case-wa-1",
                                   from_district="perth", to_district="joondalup",
                                   child_in_care=False)
        action = "decide_transfer"
    else:
        run = ServiceRequestWorkflow.run
        query = ServiceRequestWorkflow.status
        update = ServiceRequestWorkflow.decide
        workflow_id = service_request_workflow_id(request_id)
        start = ServiceRequestInput(request_id=request_id, case_id="case-wa-1",
                                    from_district="perth", to_district="joondalup")
        action = "decide_service_request"
    opener = await client_as(env, CallerIdentity("pr-1", ("practitioner",), None,
                                                 action=f"open_{action.split('_', 1)[1]}"))
    handle = await opener.start_workflow(run, start, id=workflow_id,
                                         task_queue=worker.task_queue)
    before = await _status(handle, query)
    assert before.status == "open"

    unsigned = (await client_as(env, None)).get_workflow_handle(workflow_id)
    error = await _refused(unsigned.execute_update(update, Decide(decision="accept")))
    assert error.type == FORBIDDEN and _reason(error) == "no_envelope"
    operations = (await client_as(env, OPERATIONS)).get_workflow_handle(workflow_id)
    error = await _refused(operations.execute_update(update, Decide(decision="accept")))
    assert error.type == FORBIDDEN and _reason(error) == "wrong_role"
    # A practitioner may open a request but not decide it (DECIDERS).
    worker_of = (await client_as(env, PRACTITIONER)).get_workflow_handle(workflow_id)
    error = await _refused(worker_of.execute_update(update, Decide(decision="accept")))
    assert _reason(error) == "wrong_role"

    after = await handle.query(query)
    assert after.status == "open" and after.deadlines == before.deadlines
    details = await _refusals(sessions, kind, request_id, 3)
    assert sorted(d["reason"] for d in details) == ["no_envelope", "wrong_role",
                                                     "wrong_role"]
    assert {d["signal"] for d in details} == {"decide"}
    assert {d["door"] for d in details} == {"temporal"}
    rows = await _access(sessions, workflow_id, 3)
    assert [r.subject for r in rows] == ["unauthenticated", "ops-1", "pr-1"]
    assert {(r.method, r.status_code, r.outcome, r.case_id) for r in rows} == {
        ("UPDATE", 403, "refused", "case-wa-1")}

    manager = (await client_as(env, CallerIdentity("tm-1", ("team_manager",), None,
                                                   action=action))
               ).get_workflow_handle(workflow_id)
    decided = await manager.execute_update(update, Decide(decision="accept",
                                                          decided_by="tm-1"))
    assert decided.status == "accepted"
    assert (await handle.query(query)).status == "accepted"


async def test_t1_a_plaintext_decision_is_rejected_before_history(
        env: WorkflowEnvironment, worker: Worker) -> None:
    """A payload the strict codec refused (plaintext) is rejected by the validator even
    under a valid envelope: nothing of it enters history."""
    _, handle = await _open_transfer(env, worker)
    error = await _refused(handle.execute_update("decide", RawValue(refused_payload())))
    assert error.type == INVALID and _reason(error) == "plaintext"
    history = await handle.fetch_history()
    assert not any(e.HasField("workflow_execution_update_accepted_event_attributes")
                   for e in history.events)
    assert (await handle.query(TransferRequestWorkflow.status)).status == "open"


@pytest.mark.parametrize("caller", [None, CASE_PLANNER])
async def test_t1_a_start_without_the_services_envelope_or_role_is_refused(
        env: WorkflowEnvironment, worker: Worker,
        sessions: async_sessionmaker[AsyncSession], caller: CallerIdentity | None) -> None:
    """A transfer started straight through Temporal (no envelope) or by a role that may
    not open one fails at once, naming why, records no request and leaves an access-log
    row."""
    await begin_on(env)
    request_id = f"dd-{uuid.uuid4().hex[:8]}"
    workflow_id = transfer_workflow_id(request_id)
    client = await client_as(env, caller)
    handle = await client.start_workflow(
        TransferRequestWorkflow.run,
        TransferInput(request_id=request_id, case_id="case-wa-1", from_district="perth",
                      to_district="joondalup", child_in_care=False),
        id=workflow_id, task_queue=worker.task_queue)
    with pytest.raises(WorkflowFailureError) as failed:
        await asyncio.wait_for(handle.result(), START_REFUSED_WITHIN)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == FORBIDDEN
    assert cause.non_retryable
    assert _reason(cause) == ("no_envelope" if caller is None else "wrong_role")
    [row] = await _access(sessions, workflow_id, 1)
    assert row.method == "START" and row.status_code == 403
    assert row.subject == ("unauthenticated" if caller is None else caller.subject)
    async with sessions() as session:
        assert await session.get(DistrictRequestRow, ("transfer", request_id)) is None


# ------------------------------------------------------------------ T3: the dispute
async def _disputed_transfer(env: WorkflowEnvironment, worker: Worker
                             ) -> tuple[str, WorkflowHandle[Any, Any]]:
    request_id = f"dd-{uuid.uuid4().hex[:8]}"
    handle = await env.client.start_workflow(
        TransferRequestWorkflow.run,
        TransferInput(request_id=request_id, case_id="case-wa-2", from_district="perth",
                      to_district="joondalup", child_in_care=False),
        id=transfer_workflow_id(request_id), task_queue=worker.task_queue)
    await _status(handle, TransferRequestWorkflow.status)
    decided = await handle.execute_update(TransferRequestWorkflow.decide, Decide(
        decision="reject", decided_by="tm-2", reason_id="note-1"))
    assert decided.dispute_id is not None
    dispute = env.client.get_workflow_handle(dispute_workflow_id(decided.dispute_id))
    await _status(dispute, DisputeWorkflow.status)
    return decided.dispute_id, dispute


async def test_t3_refer_and_resolve_only_from_the_service_with_a_deciding_role(
        env: WorkflowEnvironment, worker: Worker,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """The dispute the rejection started: an unsigned referral and an operations-signed
    resolution are refused and recorded, the stage unchanged; the team manager's
    referral, as the API sends it, moves it up."""
    await begin_on(env)
    dispute_id, dispute = await _disputed_transfer(env, worker)
    workflow_id = dispute_workflow_id(dispute_id)
    unsigned = (await client_as(env, None)).get_workflow_handle(workflow_id)
    error = await _refused(unsigned.execute_update(
        DisputeWorkflow.refer, ReferDispute(from_stage="assistant_directors")))
    assert _reason(error) == "no_envelope"
    operations = (await client_as(env, OPERATIONS)).get_workflow_handle(workflow_id)
    error = await _refused(operations.execute_update(
        DisputeWorkflow.resolve, ResolveDispute(outcome="withdraw", rationale_id="note-9")))
    assert _reason(error) == "wrong_role"
    status = await dispute.query(DisputeWorkflow.status)
    assert (status.stage, status.status, status.outcome) == ("assistant_directors", "open",
                                                             None)
    details = await _refusals(sessions, "dispute", dispute_id, 2)
    assert sorted((d["signal"], d["reason"]) for d in details) == [
        ("refer", "no_envelope"), ("resolve", "wrong_role")]
    rows = await _access(sessions, workflow_id, 2)
    assert [r.subject for r in rows] == ["unauthenticated", "ops-1"]

    manager = (await client_as(env, CallerIdentity("tm-1", ("team_manager",), None,
                                                   action="refer_dispute"))
               ).get_workflow_handle(workflow_id)
    changed = await manager.execute_update(DisputeWorkflow.refer, ReferDispute(
        from_stage="assistant_directors", referred_by="tm-1"))
    assert changed.stage == "district_directors"


async def test_t3_a_dispute_is_started_only_by_its_request(
        env: WorkflowEnvironment, worker: Worker,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """Even the service's own signed client cannot start a dispute: only the rejected
    request's workflow does (its parent); a direct start fails and is logged."""
    start = await begin_on(env)
    request_id = f"dd-{uuid.uuid4().hex[:8]}"
    dispute_id = f"transfer-{request_id}"
    workflow_id = dispute_workflow_id(dispute_id)
    handle = await env.client.start_workflow(
        DisputeWorkflow.run,
        DisputeInput(
            dispute_id=dispute_id, request_kind="transfer", request_id=request_id,
            case_id="case-wa-2", from_district="perth", to_district="joondalup",
            request_opened_at=datetime.combine(start, time(10), ZoneInfo("Australia/Perth")),
            reason_id="note-1"),
        id=workflow_id, task_queue=worker.task_queue)
    with pytest.raises(WorkflowFailureError) as failed:
        await asyncio.wait_for(handle.result(), START_REFUSED_WITHIN)
    assert isinstance(failed.value.cause, ApplicationError)
    assert failed.value.cause.type == FORBIDDEN
    [row] = await _access(sessions, workflow_id, 1)
    assert row.method == "START" and row.subject == "unauthenticated"
    async with sessions() as session:
        assert await session.get(DistrictRequestRow, ("dispute", dispute_id)) is None


# ------------------------------------------------------------------ T4: co-working
async def test_t4_reviews_and_ending_only_from_the_service_with_its_roles(
        env: WorkflowEnvironment, worker: Worker,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """An unsigned review and a practitioner's `end` (DECIDERS only) are refused and
    recorded, the arrangement unchanged; a practitioner's review, as the API sends it,
    is recorded; an unsigned start of another arrangement fails."""
    started = await begin_on(env)
    arrangement_id = f"dd-{uuid.uuid4().hex[:8]}"
    workflow_id = coworking_workflow_id(arrangement_id)
    opener = await client_as(env, CallerIdentity("pr-1", ("practitioner",), None,
                                                 action="start_coworking"))
    handle = await opener.start_workflow(
        CoworkingWorkflow.run,
        CoworkingInput(arrangement_id=arrangement_id, case_id="case-wa-3",
                       from_district="perth", to_district="midland", started_on=started),
        id=workflow_id, task_queue=worker.task_queue)
    await _status(handle, CoworkingWorkflow.status)
    review = RecordCoworkingReview(review_id="rv-1", reviewed_on=started, notes_id="note-3")

    unsigned = (await client_as(env, None)).get_workflow_handle(workflow_id)
    error = await _refused(unsigned.execute_update(CoworkingWorkflow.record_review, review))
    assert _reason(error) == "no_envelope"
    practitioner = (await client_as(env, CallerIdentity(
        "pr-1", ("practitioner",), None, action="end_coworking"))
    ).get_workflow_handle(workflow_id)
    error = await _refused(practitioner.execute_update(CoworkingWorkflow.end,
                                                        EndCoworking()))
    assert _reason(error) == "wrong_role"
    status = await handle.query(CoworkingWorkflow.status)
    assert status.status == "active" and status.reviews == []
    details = await _refusals(sessions, "coworking", arrangement_id, 2)
    assert sorted((d["signal"], d["reason"]) for d in details) == [
        ("end", "wrong_role"), ("record_review", "no_envelope")]
    rows = await _access(sessions, workflow_id, 2)
    assert [r.subject for r in rows] == ["unauthenticated", "pr-1"]

    reviewer = (await client_as(env, CallerIdentity(
        "pr-1", ("practitioner",), None, action="record_coworking_review"))
    ).get_workflow_handle(workflow_id)
    changed = await reviewer.execute_update(CoworkingWorkflow.record_review, review)
    assert changed.status == "active" and not changed.duplicate

    other_id = f"dd-{uuid.uuid4().hex[:8]}"
    other = await (await client_as(env, None)).start_workflow(
        CoworkingWorkflow.run,
        CoworkingInput(arrangement_id=other_id, case_id="case-wa-3",
                       from_district="perth", to_district="midland",
                       started_on=started - timedelta(days=1)),
        id=coworking_workflow_id(other_id), task_queue=worker.task_queue)
    with pytest.raises(WorkflowFailureError):
        await asyncio.wait_for(other.result(), START_REFUSED_WITHIN)
    [row] = await _access(sessions, coworking_workflow_id(other_id), 1)
    assert row.method == "START" and row.subject == "unauthenticated"
    async with sessions() as session:
        assert await session.get(DistrictRequestRow, ("coworking", other_id)) is None


# ------------------------------------------------------------------ issue 10: scoping, names
async def test_t1_a_district_acts_only_on_its_own_requests_at_the_temporal_door(
        env: WorkflowEnvironment, worker: Worker,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """T1-T4 scoping, as the API's: a team manager of a third district may not decide a
    transfer between two others (refused, recorded, nothing changes); the receiving
    district's may."""
    request_id, handle = await _open_transfer(env, worker)
    stranger = CallerIdentity("tm-9", ("team_manager",), None, action="decide_transfer",
                              district_id="bunbury")
    outsider = (await client_as(env, stranger)).get_workflow_handle(handle.id)
    error = await _refused(outsider.execute_update(TransferRequestWorkflow.decide,
                                                   Decide(decision="accept")))
    assert error.type == FORBIDDEN and _reason(error) == "other_district"
    [detail] = await _refusals(sessions, "transfer", request_id, 1)
    assert (detail["reason"], detail["sent_as"]) == ("other_district", "update")
    [row] = await _access(sessions, handle.id, 1)
    assert (row.subject, row.status_code) == ("tm-9", 403)
    assert (await handle.query(TransferRequestWorkflow.status)).status == "open"

    receiving = CallerIdentity("tm-2", ("team_manager",), None, action="decide_transfer",
                               district_id="joondalup")
    decided = await (await client_as(env, receiving)).get_workflow_handle(
        handle.id).execute_update(TransferRequestWorkflow.decide, Decide(decision="accept"))
    assert decided.status == "accepted"


async def test_t1_a_district_opens_requests_only_in_its_own_name(
        env: WorkflowEnvironment, worker: Worker) -> None:
    await begin_on(env)
    request_id = f"dd-{uuid.uuid4().hex[:8]}"
    receiving = CallerIdentity("pr-2", ("practitioner",), None, action="open_transfer",
                               district_id="joondalup")
    handle = await (await client_as(env, receiving)).start_workflow(
        TransferRequestWorkflow.run,
        TransferInput(request_id=request_id, case_id="case-wa-1", from_district="perth",
                      to_district="joondalup", child_in_care=False),
        id=transfer_workflow_id(request_id), task_queue=worker.task_queue)
    with pytest.raises(WorkflowFailureError) as failed:
        await asyncio.wait_for(handle.result(), START_REFUSED_WITHIN)
    assert "refused (other_district)" in str(failed.value.cause)


async def test_t1_a_signal_or_unknown_update_is_recorded_not_buffered(
        env: WorkflowEnvironment, worker: Worker,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """Issue 10.3: the district workflows take no signal; one sent (the UI's "Send a
    Signal"), or an update of a name they do not know, is refused and recorded."""
    request_id, handle = await _open_transfer(env, worker)
    await handle.signal("decide", Decide(decision="accept"))
    error = await _refused(handle.execute_update("decied", Decide(decision="accept")))
    assert error.type == INVALID and error.message.startswith("refused (unknown_message)")
    details = await _refusals(sessions, "transfer", request_id, 2)
    assert sorted((d["signal"], d["reason"], d["sent_as"]) for d in details) == [
        ("decide", "unknown_message", "signal"), ("decied", "unknown_message", "update")]
    rows = await _access(sessions, handle.id, 2)
    assert sorted(r.method for r in rows) == ["SIGNAL", "UPDATE"]
    assert (await handle.query(TransferRequestWorkflow.status)).status == "open"


async def test_t1_an_undecodable_decision_is_refused_by_the_door(
        env: WorkflowEnvironment, worker: Worker,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """Not the SDK's conversion error (retryable, quoting the payload): the door's
    `undecodable`, before history, with its access-log row."""
    _, handle = await _open_transfer(env, worker)
    error = await _refused(handle.execute_update("decide", RawValue(Payload(
        metadata={"encoding": b"json/plain"}, data=b'["Jane Citizen"]'))))
    assert error.type == INVALID and _reason(error) == "undecodable"
    assert error.non_retryable and "Jane" not in error.message
    [row] = await _access(sessions, handle.id, 1)
    assert (row.method, row.status_code) == ("UPDATE", 422)
    assert (await handle.query(TransferRequestWorkflow.status)).status == "open"


async def test_t1_a_transfer_cancelled_through_temporal_runs_on(
        env: WorkflowEnvironment, worker: Worker,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """Issue 10 review at the district doors: `temporal workflow cancel` is refused and
    recorded (timeline, access log CANCEL); the request stays open and can be decided."""
    request_id, handle = await _open_transfer(env, worker)
    await handle.cancel()
    [detail] = await _refusals(sessions, "transfer", request_id, 1)
    assert (detail["signal"], detail["reason"], detail["sent_as"]) == (
        "cancel", "cancel_refused", "cancel")
    [row] = await _access(sessions, handle.id, 1)
    assert (row.method, row.subject, row.status_code) == ("CANCEL", "unauthenticated", 403)
    manager = (await client_as(env, CallerIdentity("tm-1", ("team_manager",), None,
                                                   action="decide_transfer"))
               ).get_workflow_handle(handle.id)
    decided = await manager.execute_update(TransferRequestWorkflow.decide,
                                           Decide(decision="accept"))
    assert decided.status == "accepted"
