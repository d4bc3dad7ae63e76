"""Issue 10: one rule for every door. A message sent straight to the case's workflow --
the Temporal CLI, the UI's "Send a Signal", an SDK -- is applied only with a valid signed
caller envelope whose roles may send it to this case (C7); anything else, and anything
unreadable, is refused and recorded (`signal_refused` naming the message, the reason and
its id; an access-log row for the Temporal door), never dropped or applied unchecked."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import Payload, WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
)
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from casework.caller_envelope import CallerIdentity
from casework.temporal_client import make_data_converter
from models.messages import EndorseContract, ReportAccepted, SubmitReport
from models.payloads import refused_payload
from models.tables import AccessLogRow, TimelineEventRow
from tests.polling import eventually
from tests.workflows.conftest import (
    Case,
    begin_on,
    client_as,
    endorsement_for,
    make_terms,
    notifications,
    sleep_until,
    start_case,
)
from workflows.case_contract import CaseContractInput, CaseContractWorkflow, workflow_id_for
from workflows.doors import UNREADABLE_NAME
from workflows.errors import FORBIDDEN, INVALID
from workflows.state import CaseStatus

INTEGRATION = CallerIdentity("agency-1-system", ("integration",), "agency-1")
OTHER_AGENCY = CallerIdentity("agency-2-system", ("integration",), "agency-2")
OPERATIONS = CallerIdentity("ops-1", ("operations",), None)


def _json(value: Any) -> RawValue:
    """A payload as the Temporal CLI sends `--input` (json/plain, no codec)."""
    return RawValue(Payload(metadata={"encoding": b"json/plain"},
                            data=json.dumps(value).encode()))


async def _case(env: WorkflowEnvironment, worker: Worker, unique_id: str) -> Case:
    start = await begin_on(env)
    return await start_case(env.client, worker, make_terms(f"c-{unique_id}", start),
                            endorse_on=start)


async def _refusals(sessions: async_sessionmaker[AsyncSession], case_id: str, count: int
                    ) -> list[dict[str, Any]]:
    async def recorded() -> list[dict[str, Any]]:
        async with sessions() as session:
            rows = list(await session.scalars(select(TimelineEventRow).where(
                TimelineEventRow.case_id == case_id,
                TimelineEventRow.kind == "signal_refused")))
        assert len(rows) == count
        return [row.detail for row in rows]

    return await eventually(recorded)


async def _access(sessions: async_sessionmaker[AsyncSession], case_id: str
                  ) -> list[AccessLogRow]:
    async with sessions() as session:
        return list(await session.scalars(select(AccessLogRow).where(
            AccessLogRow.case_id == case_id, AccessLogRow.method == "SIGNAL")))


async def _reports(case: Case) -> list[tuple[str, str]]:
    """(report id, submitted by) of every report the case received."""
    return [(r.report_id, r.submitted_by) for p in (await case.status()).state.periods
            for r in p.reports]


async def test_c7_an_integration_signal_for_its_own_agency_is_applied_and_attributed(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    case = await _case(env, worker, unique_id)
    client = await client_as(env, INTEGRATION)
    await client.get_workflow_handle(workflow_id_for(case.terms.case_id)).signal(
        "submit_report", SubmitReport(report_id="rep-1"))

    async def applied() -> None:
        # Who acted is the envelope's subject (the payload left it empty).
        assert await _reports(case) == [("rep-1", "agency-1-system")]

    await eventually(applied)


@pytest.mark.parametrize(("caller", "reason", "status"), [
    (None, "no_envelope", 403),           # the Temporal CLI, the UI's "Send a Signal"
    (OPERATIONS, "wrong_role", 403),      # operations changes nothing, at any door
    (OTHER_AGENCY, "other_agency", 403),  # C7
])
async def test_c7_a_signal_without_the_right_caller_is_refused_and_logged(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str, caller: CallerIdentity | None, reason: str, status: int,
) -> None:
    case = await _case(env, worker, unique_id)
    client = await client_as(env, caller)
    await client.get_workflow_handle(workflow_id_for(case.terms.case_id)).signal(
        "submit_report", SubmitReport(report_id="rep-1"))

    [refused] = await _refusals(sessions, case.terms.case_id, 1)
    assert refused["signal"] == "submit_report"
    assert refused["reason"] == reason
    assert refused["report_id"] == "rep-1"
    assert refused["door"] == "temporal"
    assert await _reports(case) == []
    [row] = await eventually(lambda: _access_one(sessions, case.terms.case_id))
    assert row.subject == (caller.subject if caller else "unauthenticated")
    assert row.status_code == status and row.outcome == "refused"
    assert row.path.startswith(f"temporal:{workflow_id_for(case.terms.case_id)}/submit_report")


async def _access_one(sessions: async_sessionmaker[AsyncSession], case_id: str
                      ) -> list[AccessLogRow]:
    rows = await _access(sessions, case_id)
    assert len(rows) == 1
    return rows


async def test_a_forged_or_replayed_envelope_is_refused(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    case = await _case(env, worker, unique_id)
    forger = await client_as(env, CallerIdentity("x", ("admin",), None),
                             keys={"wf-test": bytes(32)})  # the right id, a wrong key
    handle = forger.get_workflow_handle(workflow_id_for(case.terms.case_id))
    await handle.signal("submit_report", SubmitReport(report_id="rep-forged"))
    [refused] = await _refusals(sessions, case.terms.case_id, 1)
    assert refused["reason"] == "forged_envelope"
    assert refused["report_id"] == "rep-forged"


@pytest.mark.parametrize(("payload", "reason", "id_recorded"), [
    (_json({"period_index": 1}), "undecodable", None),
    (_json({"report_id": 123}), "undecodable", None),
    (_json("rep-1"), "undecodable", None),
    (_json(["rep-1"]), "undecodable", None),
    (_json({"report_id": "rep x / Jane Citizen"}), "bad_id", None),
    (RawValue(refused_payload()), "plaintext", None),
])
async def test_an_unreadable_signal_is_recorded_not_dropped(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str, payload: RawValue, reason: str, id_recorded: str | None,
) -> None:
    case = await _case(env, worker, unique_id)
    await case.handle.signal("submit_report", payload)  # signed as the test admin
    [refused] = await _refusals(sessions, case.terms.case_id, 1)
    assert refused["signal"] == "submit_report" and refused["reason"] == reason
    assert refused.get("report_id") == id_recorded
    assert "Jane" not in json.dumps(refused)
    assert await _reports(case) == []


async def test_an_unknown_signal_name_is_refused_naming_the_message_id(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    case = await _case(env, worker, unique_id)
    await case.handle.signal("submit_reprot", _json({"report_id": "rep-typo"}))
    [refused] = await _refusals(sessions, case.terms.case_id, 1)
    assert refused["signal"] == "submit_reprot"
    assert refused["reason"] == "unknown_message"
    assert refused["report_id"] == "rep-typo"


async def test_c7_an_update_from_the_wrong_sender_is_rejected_recorded_and_logged(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """Who sent it is refused (no envelope, operations, another agency -- C7): the
    sender gets a clear error, and the refusal is on the case's timeline and in the
    access log (method UPDATE), as a refused signal's is."""
    case = await _case(env, worker, unique_id)
    case_id = case.terms.case_id
    cases = [(None, "no_envelope"), (OPERATIONS, "wrong_role"),
             (OTHER_AGENCY, "other_agency")]
    for caller, reason in cases:
        client = await client_as(env, caller)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await client.get_workflow_handle(workflow_id_for(case_id)).execute_update(
                "submit_report", SubmitReport(report_id=f"rep-{reason}"))
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == FORBIDDEN
        assert cause.message.startswith(f"refused ({reason}): ")
    recorded = await _refusals(sessions, case_id, len(cases))
    assert sorted((r["reason"], r["report_id"], r["sent_as"]) for r in recorded) == sorted(
        (reason, f"rep-{reason}", "update") for _, reason in cases)
    rows = await _rows_by_method(sessions, case_id, "UPDATE", len(cases))
    assert sorted(row.subject for row in rows) == sorted(
        caller.subject if caller else "unauthenticated" for caller, _ in cases)
    assert {(row.status_code, row.outcome) for row in rows} == {(403, "refused")}
    assert all(row.path.startswith(f"temporal:{workflow_id_for(case_id)}/submit_report#")
               for row in rows)
    assert await _reports(case) == []


async def test_an_unreadable_update_is_rejected_and_leaves_nothing_in_history(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """What was sent is refused (an id that breaks the rule, plaintext): rejected by the
    validator, so neither the name nor the plaintext enters history; the worker still
    writes its access-log row (workflows/unrecorded_refusals.py), one per update id."""
    case = await _case(env, worker, unique_id)
    for message, reason in ((SubmitReport(report_id="rep x / Jane"), "bad_id"),
                            (RawValue(refused_payload()), "plaintext")):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await case.handle.execute_update("submit_report", message)
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == INVALID
        assert reason in cause.message
    history = await case.handle.fetch_history()
    assert [e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
            for e in history.events if e.HasField(
                "workflow_execution_update_accepted_event_attributes")] == ["endorse"]
    assert "Jane" not in str(history.to_json())
    assert await _reports(case) == []
    rows = await _rows_by_method(sessions, case.terms.case_id, "UPDATE", 2)
    assert {(r.subject, r.status_code, r.outcome) for r in rows} == {
        ("unauthenticated", 422, "refused")}
    assert all(r.path.startswith(f"temporal:{case.handle.id}/submit_report#update:")
               for r in rows)
    assert "Jane" not in " ".join(r.path for r in rows)


@pytest.mark.parametrize("payload", [
    _json({"report_id": 123}), _json([1, 2]), _json("just a string"),
    _json({"report_id": "rep-9", "period_index": "Jane Citizen"}),
])
async def test_an_undecodable_update_is_refused_by_the_door_not_the_sdk(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str, payload: RawValue,
) -> None:
    """Issue 10.3: an update whose payload is not its message's shape is refused like a
    signal is (`undecodable`, non-retryable, the payload never quoted back or logged),
    before history, with its access-log row."""
    case = await _case(env, worker, unique_id)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await case.handle.execute_update("submit_report", payload)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == INVALID
    assert cause.message.startswith("refused (undecodable): the payload is not a SubmitReport")
    assert cause.non_retryable and "Jane" not in cause.message
    [row] = await _rows_by_method(sessions, case.terms.case_id, "UPDATE", 1)
    assert (row.subject, row.status_code, row.outcome) == ("unauthenticated", 422, "refused")
    assert await _reports(case) == []


async def test_an_update_name_that_is_not_an_id_never_enters_history(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """DESIGN decision 6: an unknown update's name is the sender's free text; it is
    rejected before history and recorded under a placeholder."""
    case = await _case(env, worker, unique_id)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await case.handle.execute_update("Jane Citizen", _json({"report_id": "rep-n"}))
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.message.startswith("refused (unknown_message)") and "Jane" not in cause.message
    [row] = await _rows_by_method(sessions, case.terms.case_id, "UPDATE", 1)
    assert f"/{UNREADABLE_NAME}#update:" in row.path and "Jane" not in row.path
    history = await case.handle.fetch_history()
    assert "Jane" not in str(history.to_json())


async def test_an_unknown_update_name_is_refused_and_recorded(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    case = await _case(env, worker, unique_id)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await case.handle.execute_update("submit_reprot", _json({"report_id": "rep-typo"}))
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == INVALID
    assert cause.message.startswith("refused (unknown_message): ")
    [recorded] = await _refusals(sessions, case.terms.case_id, 1)
    assert (recorded["signal"], recorded["reason"], recorded["report_id"],
            recorded["sent_as"]) == ("submit_reprot", "unknown_message", "rep-typo", "update")
    [row] = await _rows_by_method(sessions, case.terms.case_id, "UPDATE", 1)
    assert (row.status_code, row.outcome) == (422, "refused")


def _signed_as_sent(body: dict[str, Any]) -> RawValue:
    """A payload in the bytes an older client wrote: fields it did not know left out,
    and not the compact form pydantic writes -- what the envelope signs is these bytes."""
    return RawValue(Payload(metadata={"encoding": b"json/plain"},
                            data=json.dumps(body, indent=1).encode()))


async def test_an_envelope_vouches_for_the_payload_as_sent_not_as_read_back(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    """Issue 10: the digest is of the payload that arrived, so a message type or the
    workflow input may gain a field (with a default) without making the envelopes
    already in history stale."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start)
    client = await client_as(env, INTEGRATION)
    wire_terms = json.loads(make_data_converter().payload_converter.to_payload(terms).data)
    handle = await env.client.start_workflow(
        "CaseContract", _signed_as_sent({"terms": wire_terms}),  # no optional input field
        id=workflow_id_for(terms.case_id), task_queue=worker.task_queue,
        result_type=CaseStatus)
    await handle.execute_update(CaseContractWorkflow.endorse,
                                EndorseContract(endorsement_for(terms, start)))
    answer = await client.get_workflow_handle(handle.id).execute_update(
        "submit_report", _signed_as_sent({"report_id": "rep-as-sent"}),
        result_type=ReportAccepted)
    assert answer.report_id == "rep-as-sent" and answer.period_index == 0
    await client.get_workflow_handle(handle.id).signal(
        "raise_event", _signed_as_sent({"event_id": "ev-as-sent",
                                        "kind": "complaint_from_child_or_family",
                                        "occurred_on": start.isoformat()}))

    async def applied() -> None:
        state = (await handle.query(CaseContractWorkflow.status)).state
        assert [a.trigger for a in state.audits] == ["complaint_from_child_or_family"]

    await eventually(applied)


async def test_who_acted_is_the_envelopes_subject(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    case = await _case(env, worker, unique_id)
    client = await client_as(env, INTEGRATION)
    handle = client.get_workflow_handle(workflow_id_for(case.terms.case_id))
    await handle.execute_update("submit_report", SubmitReport(report_id="rep-1"))
    assert await _reports(case) == [("rep-1", "agency-1-system")]
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update("submit_report", SubmitReport(
            report_id="rep-2", period_index=1, submitted_by="prac-7"))
    assert "actor" in str(refused.value.cause)


async def test_a_plaintext_unsigned_or_undecodable_start_fails_the_run_naming_why(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """Each fails at once (non-retryable: no workflow task retried for ever with the
    input in the worker's log) and leaves an access-log row, method START."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start)
    arguments: dict[str, Any] = {
        "no_envelope": CaseContractInput(terms=terms), "plaintext": RawValue(refused_payload()),
        "undecodable": _json({"case_id": terms.case_id, "child_name": "Jane Citizen"})}
    for reason, argument in arguments.items():
        client = await client_as(env, None) if reason == "no_envelope" else env.client
        workflow_id = f"{workflow_id_for(terms.case_id)}-{reason}"
        handle = await client.start_workflow("CaseContract", argument, id=workflow_id,
                                             task_queue=worker.task_queue)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError) and cause.non_retryable
        assert cause.message.startswith(f"refused ({reason}): ") and "Jane" not in cause.message

        async def logged(workflow_id: str = workflow_id) -> AccessLogRow:
            async with sessions() as session:
                rows = list(await session.scalars(select(AccessLogRow).where(
                    AccessLogRow.path.startswith(f"temporal:{workflow_id}/start#"))))
            assert len(rows) == 1
            return rows[0]

        row = await eventually(logged)
        assert (row.method, row.subject, row.outcome) == ("START", "unauthenticated",
                                                          "refused")
        assert row.status_code == (403 if reason == "no_envelope" else 422)


# ---------------------------------------------------------------- issue 10 review
async def _rows_by_method(sessions: async_sessionmaker[AsyncSession], case_id: str,
                          method: str, count: int) -> list[AccessLogRow]:
    async def written() -> list[AccessLogRow]:
        async with sessions() as session:
            rows = list(await session.scalars(select(AccessLogRow).where(
                AccessLogRow.case_id == case_id, AccessLogRow.method == method)))
        assert len(rows) == count
        return rows

    return await eventually(written)


async def test_r1_a_case_cancelled_through_temporal_runs_on_and_its_deadlines_fire(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """`temporal workflow cancel` mid-period: refused and recorded (timeline, access log),
    the workflow keeps running, and R1's reminder still goes at its time.

    R2 is not waited for here: the period boundary it marks continues the run as new, and
    the time-skipping test server cannot continue-as-new a run that has a cancellation
    request on record (it fails every completion with an internal protobuf error, as in
    temporalio/sdk-java#2592). The dev server and a real cluster do: a run may refuse a
    cancellation and continue-as-new, and the next run has no request on record."""
    case = await _case(env, worker, unique_id)
    case_id = case.terms.case_id
    period = (await case.status()).state.periods[0]
    await sleep_until(env, period.follow_up_at - timedelta(days=5))  # sleeping on a timer
    await case.handle.cancel()

    [refused] = await _refusals(sessions, case_id, 1)
    assert (refused["signal"], refused["reason"], refused["door"]) == (
        "cancel", "cancel_refused", "temporal")
    [row] = await _rows_by_method(sessions, case_id, "CANCEL", 1)
    assert (row.subject, row.status_code, row.outcome) == ("unauthenticated", 403, "refused")
    assert row.path.startswith(f"temporal:{workflow_id_for(case_id)}/cancel#")
    assert await _execution_status(env, case) == WorkflowExecutionStatus.RUNNING

    await sleep_until(env, period.follow_up_at + timedelta(hours=1))
    sent_at = (await case.status()).state.periods[0].follow_up_sent_at
    assert sent_at is not None and abs(sent_at - period.follow_up_at) < timedelta(seconds=1)

    async def noticed() -> None:
        kinds = [n.kind for n in await notifications(sessions, case_id)]
        assert kinds.count("follow_up") == 1, kinds

    await eventually(noticed)
    assert await _execution_status(env, case) == WorkflowExecutionStatus.RUNNING


async def test_c4_a_case_cancelled_while_awaiting_endorsement_can_still_be_endorsed(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """The cancellation lands in the wait for the endorsement (C4). Temporal keeps one
    request per run: asking again changes nothing and is not delivered again."""
    start = await begin_on(env)
    case = await start_case(env.client, worker, make_terms(f"c-{unique_id}", start))
    await eventually(lambda: _periods_planned(case))
    await case.handle.cancel()
    [refused] = await _refusals(sessions, case.terms.case_id, 1)
    assert refused["reason"] == "cancel_refused"
    await case.handle.cancel()
    await case.handle.execute_update(CaseContractWorkflow.endorse,
                                     EndorseContract(endorsement_for(case.terms, start)))
    assert (await case.status()).status == "active"
    await _rows_by_method(sessions, case.terms.case_id, "CANCEL", 1)
    assert await _execution_status(env, case) == WorkflowExecutionStatus.RUNNING


async def _execution_status(env: WorkflowEnvironment, case: Case) -> WorkflowExecutionStatus:
    """The run's status, read raw: the test server's search attributes do not decode."""
    response = await env.client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(namespace=env.client.namespace, execution=(
            WorkflowExecution(workflow_id=case.handle.id))))
    return WorkflowExecutionStatus(response.workflow_execution_info.status)


async def _periods_planned(case: Case) -> None:
    assert (await case.status()).state.periods


@pytest.mark.parametrize("name", ["Jane Citizen's report", "rep/1", "x" * 65])
async def test_an_unknown_signal_name_that_is_not_an_id_is_not_recorded(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str, name: str,
) -> None:
    """DESIGN decision 6: an unknown signal's name is the sender's free text; the refusal
    records a fixed placeholder instead (timeline, access-log path)."""
    case = await _case(env, worker, unique_id)
    await case.handle.signal(name, _json({"report_id": "rep-n"}))
    [refused] = await _refusals(sessions, case.terms.case_id, 1)
    assert refused["signal"] == UNREADABLE_NAME
    assert refused["reason"] == "unknown_message"
    assert name not in json.dumps(refused) and name[:20] not in json.dumps(refused)
    [row] = await eventually(lambda: _access_one(sessions, case.terms.case_id))
    assert f"/{UNREADABLE_NAME}#" in row.path and name[:20] not in row.path


async def test_a_signal_sent_with_a_refused_start_leaves_its_row(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """signal-with-start from outside: the start is refused and the run fails; the
    signal's refusal is not dropped with it -- its access-log row goes with the start's."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start)
    client = await client_as(env, None)
    handle = await client.start_workflow(
        "CaseContract", CaseContractInput(terms=terms), id=workflow_id_for(terms.case_id),
        task_queue=worker.task_queue, start_signal="submit_report",
        start_signal_args=[SubmitReport(report_id="rep-with-start")])
    with pytest.raises(WorkflowFailureError):
        await handle.result()

    async def logged() -> list[str]:
        async with sessions() as session:
            rows = list(await session.scalars(select(AccessLogRow).where(
                AccessLogRow.path.startswith(f"temporal:{handle.id}/"))))
        assert sorted(r.method for r in rows) == ["SIGNAL", "START"], rows
        return [r.path for r in rows]

    await eventually(logged)
