"""The one place the API talks to case workflows, and the one place Temporal's errors
become problem documents.

Routes say *what* to send (an update, a signal, a query); this module knows *how*:
the workflow id, the task queue, time limits, and what each failure means to a client:
- an update refused by its validator -> 404 / 409 / 422 with the rule and field the
  workflow named (workflows/errors.py);
- no workflow for the case -> 404, with the same body whatever the reason;
- a workflow that has completed (a closed case) -> the first answer when the message
  was already handled (so a retry after closure still gets its answer), else 409;
- Temporal unreachable or not answering -> 503, only when nothing took effect (issue
  18.3): a report no worker answers in time is stored durably as a signal instead and
  accepted (the route answers 202), and a registration reads its own history, not the
  workflow, to tell a repeat from a conflict.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import suppress
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import SettingsDep, TemporalDep
from api.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ProblemError,
    ServiceUnavailable,
    Unprocessable,
)
from casework.config import Settings
from models.envelope import HEADER
from models.messages import ReportAccepted, SubmitReport
from models.terms import ContractTerms
from workflows.case_contract import CaseContractInput, CaseContractWorkflow, workflow_id_for
from workflows.engine_messages import report_key
from workflows.errors import CONFLICT, FORBIDDEN, INVALID, NOT_FOUND
from workflows.fingerprint import terms_fingerprint
from workflows.idempotency import remembered
from workflows.state import AWAITING_ENDORSEMENT, CaseStatus

R = TypeVar("R")

UPDATE_TIMEOUT_SECONDS = 20.0
"""An update waits for a worker to run it; past this the API answers 503 rather than
hold the client. A retry is safe: every message is idempotent on its id."""
QUERY_TIMEOUT = timedelta(seconds=10)
SIGNAL_TIMEOUT = timedelta(seconds=10)
START_SETTLE = timedelta(seconds=10)
"""How long a registration waits for a run it did not start (plaintext or unsigned: the
worker fails it at once) to end before it starts the case in its place (issue 10)."""
REPORT_ANSWER_SECONDS = 5.0
"""How long a report waits for the workflow's answer (issue 9.3). Past it -- the worker
down or backlogged -- the same message, with the same `received_at`, goes as a signal,
which Temporal stores durably at once; the client gets 202 instead of an error whose
retry, later, would count as late (R5). The update may still arrive too: the report id
makes the second a duplicate."""

_CASE_ID = SearchAttributeKey.for_keyword("CaseId")
_AGENCY_ID = SearchAttributeKey.for_keyword("AgencyId")
_CONTRACT_STATUS = SearchAttributeKey.for_keyword("ContractStatus")


def case_not_found(case_id: str) -> NotFound:
    """One body for every reason a case is not there (unknown, or not visible)."""
    return NotFound(f"No case {case_id!r}.")


def unavailable(exc: BaseException) -> ServiceUnavailable:
    """503; an RPC error's status and message help operations (e.g. a search attribute
    not registered on the cluster)."""
    reason = type(exc).__name__
    if isinstance(exc, RPCError):
        reason = f"{exc.status.name if exc.status else 'RPC error'}: {exc.message}"
    return ServiceUnavailable(f"Temporal did not answer ({reason}).", component="temporal")


class NotAnswered(ServiceUnavailable):
    """503: no worker answered an update in time. Temporal may still hold the update and
    apply it later; a retry is safe (idempotent on the message's id)."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(f"The case's worker did not answer in time ({type(exc).__name__}); "
                         "it may still apply the request, and sending it again is safe.",
                         component="temporal")


def refusal(exc: WorkflowUpdateFailedError, field_prefix: str = "",
            field_names: Mapping[str, str] | None = None) -> ProblemError:
    """Map a refused update to a problem: the validator's kind decides the status; its
    rule, field and open items go into the body. The field is named as the request names
    it: `field_prefix` stripped, then renamed by `field_names`."""
    cause = exc.cause
    if not isinstance(cause, ApplicationError) or cause.type not in (NOT_FOUND, CONFLICT,
                                                                       INVALID, FORBIDDEN):
        return ProblemError(500, "Update failed", str(cause or exc))
    details: dict[str, Any] = {}
    if cause.details and isinstance(cause.details[0], dict):
        details = dict(cause.details[0])
    message = str(details.get("message") or cause.message)
    field = str(details.get("field") or "")
    if field_prefix and field.startswith(field_prefix):
        field = field[len(field_prefix):]
    field = (field_names or {}).get(field, field)
    extra: dict[str, Any] = {"field": field}
    if details.get("rule"):
        extra["rule"] = details["rule"]
    if details.get("open_items"):
        extra["open_items"] = list(details["open_items"])
    if cause.type == NOT_FOUND:
        return NotFound(message, **extra)
    if cause.type == CONFLICT:
        return Conflict(message, **extra)
    if cause.type == FORBIDDEN:  # issue 10: the workflow's door refused the sender
        return Forbidden(message, **extra)
    return Unprocessable(message, **extra)


class CaseGateway:
    def __init__(self, client: Client, settings: Settings) -> None:
        self._client = client
        self._settings = settings

    def handle(self, case_id: str) -> WorkflowHandle[CaseContractWorkflow, CaseStatus]:
        return self._client.get_workflow_handle_for(CaseContractWorkflow.run,
                                                    workflow_id_for(case_id))

    async def start(self, terms: ContractTerms) -> bool:
        """Start the case's workflow; False when one with this id exists already.

        ALLOW_DUPLICATE_FAILED_ONLY: a case that closed (completed) never lends its id to
        a new contract, but a run that failed may be followed by one. That is how a start
        from outside the service -- plaintext or unsigned, which the workflow fails in
        its first task (issue 10) -- cannot take a case id over: the real registration
        waits for such a run to end (START_SETTLE) and then starts the case. (A failed,
        terminated or cancelled run of a real case keeps its read-model row, so
        registration answers 200 or 409 before it gets here.)"""
        for _attempt in range(2):
            try:
                await self._start(terms)
                return True
            except WorkflowAlreadyStartedError:
                if await self._started_input(terms.case_id) is not None:
                    return False  # ours: a repeat, or other terms (the caller compares)
                await self._settle(terms.case_id)
            except RPCError as exc:
                raise unavailable(exc) from exc
        return False

    async def _start(self, terms: ContractTerms) -> None:
        attributes = TypedSearchAttributes([
            SearchAttributePair(_CASE_ID, terms.case_id),
            SearchAttributePair(_AGENCY_ID, terms.agency_id),
            SearchAttributePair(_CONTRACT_STATUS, AWAITING_ENDORSEMENT),
        ])
        await self._client.start_workflow(
            CaseContractWorkflow.run, CaseContractInput(terms=terms),
            id=workflow_id_for(terms.case_id), task_queue=self._settings.temporal_task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            search_attributes=attributes,
            static_summary=f"Case contract {terms.case_id} ({terms.agency_id})",
        )

    async def _settle(self, case_id: str) -> None:
        """Wait (at most START_SETTLE) for a run that is not ours to end: the worker fails
        it in its first workflow task."""
        with suppress(TimeoutError, WorkflowFailureError, RPCError):
            await asyncio.wait_for(self.handle(case_id).result(), START_SETTLE.total_seconds())

    async def _started_input(self, case_id: str) -> CaseContractInput | None:
        """The input the case's current run was started with, when the service started
        it: encrypted by our codec, a CaseContractInput, with a caller envelope (the
        worker verifies it; its presence is enough to tell ours from a stray start) or
        continued from an earlier run.
        None when there is no run, or its start is not ours (plaintext, unsigned, or
        not a case's input at all)."""
        try:
            async for event in self.handle(case_id).fetch_history_events(
                    rpc_timeout=QUERY_TIMEOUT):
                started = event.workflow_execution_started_event_attributes
                # A continued run was started by the case itself, and carries no envelope.
                if (HEADER not in started.header.fields
                        and not started.continued_execution_run_id):
                    return None
                try:
                    [input] = await self._client.data_converter.decode(
                        started.input.payloads, [CaseContractInput])
                except Exception:  # not a case's input: whatever the converter raises
                    return None
                return input if isinstance(input, CaseContractInput) else None
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise unavailable(exc) from exc
        return None

    async def is_running(self, case_id: str) -> bool | None:
        """True while the workflow runs, False once it has completed, None if absent."""
        try:
            description = await self.handle(case_id).describe(rpc_timeout=QUERY_TIMEOUT)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise unavailable(exc) from exc
        return description.status == WorkflowExecutionStatus.RUNNING

    async def started_fingerprint(self, case_id: str) -> str | None:
        """The fingerprint of the terms the case's workflow was started with, read from
        the start of its current run's history -- no worker needed, so a backlog cannot
        turn a repeat registration into a 503 (issue 18.3). None when there is none, or
        the run was not started by the service (issue 10: not ours, never a 500)."""
        input = await self._started_input(case_id)
        if input is None:
            return None
        carried = input.state.terms_fingerprint if input.state else ""
        return carried or terms_fingerprint(input.terms)

    async def status(self, case_id: str, rpc_timeout: timedelta = QUERY_TIMEOUT
                     ) -> CaseStatus:
        """The live status query (also answered by a completed workflow)."""
        try:
            return await self.handle(case_id).query(CaseContractWorkflow.status,
                                                    rpc_timeout=rpc_timeout)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise case_not_found(case_id) from exc
            raise unavailable(exc) from exc
        except WorkflowQueryFailedError as exc:
            raise ProblemError(500, "Status query failed", str(exc)) from exc

    async def final_status(self, case_id: str) -> CaseStatus | None:
        """What a completed workflow returned (its last status), None if still running."""
        if await self.is_running(case_id) is not False:
            return None
        try:
            return await self.handle(case_id).result(rpc_timeout=QUERY_TIMEOUT)
        except RPCError as exc:
            raise unavailable(exc) from exc

    async def update(self, case_id: str, update: Any, message: Any, *,
                     answer_key: str | None = None, answer_type: type[R] | None = None,
                     field_prefix: str = "", field_names: Mapping[str, str] | None = None,
                     timeout_seconds: float = UPDATE_TIMEOUT_SECONDS) -> R:
        """Execute an update. When the case's workflow has completed, the first answer
        to the same message (looked up under `answer_key`) is returned as a duplicate;
        otherwise the case is closed -> 409. No answer in time -> NotAnswered (503)."""
        try:
            result: R = await asyncio.wait_for(
                self.handle(case_id).execute_update(update, message), timeout_seconds)
            return result
        except WorkflowUpdateFailedError as exc:
            raise refusal(exc, field_prefix, field_names) from exc
        except (WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError) as exc:
            raise NotAnswered(exc) from exc
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise unavailable(exc) from exc
            final = await self.final_status(case_id)
            if final is None:
                raise case_not_found(case_id) from exc
            if answer_key is not None and answer_type is not None:
                previous = remembered(final.state, answer_key, answer_type)
                if previous is not None:
                    return previous
            raise Conflict("The case is closed (E2).", field="status", rule="E2") from exc

    async def submit_report(self, case_id: str, message: SubmitReport
                            ) -> ReportAccepted | None:
        """R4: the workflow's answer to the report, or None when no worker answered
        within REPORT_ANSWER_SECONDS and the same message (same `report_id`, same
        `received_at`) was stored as a signal instead: accepted, applied as soon as a
        worker runs the case, its arrival the API's acceptance (R5, issue 9.3). A refusal
        the workflow gives then is recorded on the case's timeline (`signal_refused`)."""
        try:
            return await self.update(case_id, CaseContractWorkflow.submit_report, message,
                                     answer_key=report_key(message),
                                     answer_type=ReportAccepted,
                                     timeout_seconds=REPORT_ANSWER_SECONDS)
        except NotAnswered:
            pass
        if not await self.signal(case_id, CaseContractWorkflow.submit_report_signal, message):
            raise case_not_found(case_id)
        return None

    async def signal(self, case_id: str, signal: Any, message: Any) -> bool:
        """Send a signal; False when the case's workflow is absent or has completed."""
        try:
            await self.handle(case_id).signal(signal, message, rpc_timeout=SIGNAL_TIMEOUT)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise unavailable(exc) from exc
        return True


def get_gateway(client: TemporalDep, settings: SettingsDep) -> CaseGateway:
    return CaseGateway(client, settings)


GatewayDep = Annotated[CaseGateway, Depends(get_gateway)]
