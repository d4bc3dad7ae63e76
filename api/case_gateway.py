"""The one place the API talks to case workflows, and the one place Temporal's errors
become problem documents.

Routes say *what* to send (an update, a signal, a query); this module knows *how*:
the workflow id, the task queue, time limits, and what each failure means to a client:
- an update refused by its validator -> 404 / 409 / 422 with the rule and field the
  workflow named (workflows/errors.py);
- no workflow for the case -> 404, with the same body whatever the reason;
- a workflow that has completed (a closed case) -> the first answer when the message
  was already handled (so a retry after closure still gets its answer), else 409;
- Temporal unreachable -> 503, only when nothing took effect (issue 18.3). An update
  is sent and waited for in two stages: accepted by the case's worker within
  UPDATE_ACCEPT_SECONDS (its validator ran: a refusal is a 4xx), then answered within
  UPDATE_ANSWER_SECONDS. Accepted but not answered in time -> `PendingWrite` (the
  route answers 202): the update is in the workflow's history and will be applied. Not
  even accepted in time (no worker polls the case, or it is backlogged) -> the same
  message goes as a signal, which Temporal stores durably at once, and the answer is
  202 too. A registration reads its own history, not the workflow, to tell a repeat
  from a conflict.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.accepted import PendingWrite
from api.deps import SettingsDep, TemporalDep
from api.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ProblemError,
    ServiceUnavailable,
    Unprocessable,
)
from api.strangers import NoWorkflow, evict_stranger, started_input
from casework.config import Settings
from models.messages import ReportAccepted, SubmitReport
from models.terms import ContractTerms
from workflows.arrival import SERVICE_LATENCY_BOUND
from workflows.case_contract import CaseContractInput, CaseContractWorkflow, workflow_id_for
from workflows.doors import MESSAGE_ID_FIELDS
from workflows.engine_messages import report_key
from workflows.errors import CONFLICT, FORBIDDEN, INVALID, NOT_FOUND
from workflows.fingerprint import terms_fingerprint
from workflows.idempotency import remembered
from workflows.state import AWAITING_ENDORSEMENT, CaseStatus

R = TypeVar("R")
log = logging.getLogger(__name__)

UPDATE_TIMEOUT_SECONDS = 20.0
"""District requests (api/district.py) wait this long for an update's answer; past it
they answer 503 (`NotAnswered`). Case updates go through `CaseGateway.update`."""
UPDATE_ACCEPT_SECONDS = 5.0
"""How long a case update waits for the case's worker to accept it (run its validator;
issue 18.3, 9.3). Past it -- no worker polls the case, or it is backlogged -- the same
message goes as a signal, which Temporal stores durably at once, and the client gets
202: never a 503 whose retry, later, would find the message applied, or would count a
report as late (R5). The update may still be applied too: the message's id makes the
second a duplicate (workflows/idempotency.py)."""
UPDATE_ANSWER_SECONDS = 20.0
"""How long a case update, once accepted, waits for its answer (an endorsement waits
for the schedule in its handler). Past it: 202, applied later."""
QUERY_TIMEOUT = timedelta(seconds=10)
SIGNAL_TIMEOUT = timedelta(seconds=10)
SEND_BOUND = timedelta(seconds=UPDATE_ACCEPT_SECONDS + 1) + SIGNAL_TIMEOUT
"""The longest `update` takes to put a message in Temporal: the acceptance wait, then
(not accepted) the signal's RPC. An accepted update is in Temporal within the first."""
CLOCK_SKEW_MARGIN = timedelta(seconds=10)
"""Room for the API's clock running ahead of Temporal's when vouching for a stamp."""
LOOKUP_BUDGET = SERVICE_LATENCY_BOUND - SEND_BOUND - CLOCK_SKEW_MARGIN
"""What a report may spend between its stamp and the send (the case lookup) for the
service to vouch for the stamp (R5, issue 9.3; workflows/arrival.py)."""
START_TIMEOUT = timedelta(seconds=10)
"""Bound on the start RPC of a registration (POST /cases): a frozen Temporal answers
503 in seconds rather than holding the client (issue 18.3)."""
START_SETTLE = timedelta(seconds=10)
"""How long a registration waits for a run it did not start (plaintext or unsigned: the
worker fails it at once) to end before it starts the case in its place (issue 10)."""

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
    """503: no worker answered a district request's update in time (api/district.py).
    Temporal may still hold the update and apply it later; a retry is safe (idempotent
    on the message's id). Case updates answer 202 instead (`CaseGateway.update`)."""

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

    async def start(self, terms: ContractTerms, prior_outcomes: Sequence[str] = ()) -> bool:
        """Start the case's workflow; False when one with this id exists already.

        ALLOW_DUPLICATE_FAILED_ONLY: a case that closed (completed) never lends its id to
        a new contract, but a run that failed may be followed by one. That is how a start
        from outside the service -- plaintext or unsigned, which the workflow fails in
        its first task (issue 10) -- cannot take a case id over: the real registration
        waits for such a run to end (START_SETTLE) and then starts the case. (A failed,
        terminated or cancelled run of a real case keeps its read-model row, so
        registration answers 200 or 409 before it gets here.)
        The start is bounded (START_TIMEOUT): a frozen Temporal answers 503 in seconds.
        An RPC that fails may still have started the workflow (the server took it, the
        answer was lost), so the case's history decides before any 503 (issue 18.3)."""
        for _attempt in range(2):
            try:
                await self._start(terms, prior_outcomes)
                return True
            except WorkflowAlreadyStartedError:
                if await self._started_input(terms.case_id) is not None:
                    return False  # ours: a repeat, or other terms (the caller compares)
                await evict_stranger(self._client, workflow_id_for(terms.case_id),
                                     CaseContractInput, START_SETTLE)
            except RPCError as exc:
                started = start_took_effect(await self.started_fingerprint(terms.case_id),
                                            terms_fingerprint(terms))
                if started is None:
                    raise unavailable(exc) from exc
                log.warning("case %s: the start's answer was lost (%s), but its workflow "
                            "exists", terms.case_id,
                            exc.status.name if exc.status else "RPC error")
                return started
        return False

    async def _start(self, terms: ContractTerms, prior_outcomes: Sequence[str]) -> None:
        attributes = TypedSearchAttributes([
            SearchAttributePair(_CASE_ID, terms.case_id),
            SearchAttributePair(_AGENCY_ID, terms.agency_id),
            SearchAttributePair(_CONTRACT_STATUS, AWAITING_ENDORSEMENT),
        ])
        await self._client.start_workflow(
            CaseContractWorkflow.run,
            CaseContractInput(terms=terms, prior_outcomes=list(prior_outcomes)),
            id=workflow_id_for(terms.case_id), task_queue=self._settings.temporal_task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            search_attributes=attributes,
            static_summary=f"Case contract {terms.case_id} ({terms.agency_id})",
            rpc_timeout=START_TIMEOUT,
        )

    async def _started_input(self, case_id: str) -> CaseContractInput | None:
        """The input the case's current run was started with, when the service started
        it: encrypted by our codec, a CaseContractInput, with a caller envelope (the
        worker verifies it; its presence is enough to tell ours from a stray start) or
        continued from an earlier run.
        None when there is no run, or its start is not ours (plaintext, unsigned, or
        not a case's input at all)."""
        try:
            found: CaseContractInput | None = await started_input(
                self._client, workflow_id_for(case_id), CaseContractInput)
        except NoWorkflow:
            return None
        except RPCError as exc:
            raise unavailable(exc) from exc
        return found

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
                     field_prefix: str = "", field_names: Mapping[str, str] | None = None
                     ) -> R | PendingWrite:
        """Send an update and return the workflow's answer; a refusal raises its 4xx.
        `PendingWrite` (the route answers 202) when it took effect but its answer is not
        known in time: accepted by the worker and still running, or -- no worker accepted
        it within UPDATE_ACCEPT_SECONDS -- stored as a signal instead (issue 18.3). When
        the case's workflow has completed, the first answer to the same message (looked
        up under `answer_key`) is returned as a duplicate; otherwise the case is closed
        -> 409. 503 only when Temporal took nothing."""
        name = _message_name(update)
        try:
            sent = await asyncio.wait_for(
                self.handle(case_id).start_update(
                    update, message, wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                    rpc_timeout=timedelta(seconds=UPDATE_ACCEPT_SECONDS)),
                UPDATE_ACCEPT_SECONDS + 1)
        except WorkflowUpdateFailedError as exc:
            raise refusal(exc, field_prefix, field_names) from exc
        except (WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError):
            return await self._as_signal(case_id, update, message, name, answer_key,
                                         answer_type)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise unavailable(exc) from exc
            return await self._closed(case_id, exc, answer_key, answer_type)
        return await self._answer(case_id, sent, message, name, field_prefix, field_names)

    async def _answer(self, case_id: str, sent: WorkflowUpdateHandle[Any], message: Any,
                      name: str, field_prefix: str, field_names: Mapping[str, str] | None
                      ) -> Any:
        """The accepted update's answer. It is in the workflow's history now and will be
        applied whatever happens to this request, so anything but its own refusal is a
        202, never a 5xx."""
        try:
            return await asyncio.wait_for(sent.result(rpc_timeout=timedelta(
                seconds=UPDATE_ANSWER_SECONDS)), UPDATE_ANSWER_SECONDS)
        except WorkflowUpdateFailedError as exc:
            raise refusal(exc, field_prefix, field_names) from exc
        except (WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError, RPCError):
            return PendingWrite(case_id, name, _message_id(name, message), "accepted")

    async def _as_signal(self, case_id: str, update: Any, message: Any, name: str,
                         answer_key: str | None, answer_type: type[R] | None
                         ) -> R | PendingWrite:
        """No worker accepted the update in time: send the same message as a signal of
        the same name. The caller envelope is the request's, as for the update
        (casework/caller_envelope.py signs both). The workflow's door and rules judge it
        when a worker runs; a refusal is recorded on the timeline (`signal_refused`)."""
        if not await self.signal(case_id, update, message, name=name):
            return await self._closed(case_id, None, answer_key, answer_type)
        return PendingWrite(case_id, name, _message_id(name, message), "stored")

    async def _closed(self, case_id: str, exc: BaseException | None, answer_key: str | None,
                      answer_type: type[R] | None) -> R:
        """No running workflow took the message: the first answer when a completed case
        handled it already; else 404 (no case) or 409 (closed, E2)."""
        final = await self.final_status(case_id)
        if final is None:
            raise case_not_found(case_id) from exc
        if answer_key is not None and answer_type is not None:
            previous = remembered(final.state, answer_key, answer_type)
            if previous is not None:
                return previous
        raise Conflict("The case is closed (E2).", field="status", rule="E2") from exc

    async def submit_report(self, case_id: str, message: SubmitReport
                            ) -> ReportAccepted | PendingWrite:
        """R4: the workflow's answer to the report, or `PendingWrite` when no worker
        answered in time (`update`): the same message (same `report_id`, same
        `received_at`) is in Temporal, applied as soon as a worker runs the case, its
        arrival the API's acceptance (R5, issue 9.3). A refusal the workflow gives then
        is recorded on the case's timeline (`signal_refused`)."""
        return await self.update(case_id, CaseContractWorkflow.submit_report, message,
                                 answer_key=report_key(message), answer_type=ReportAccepted)

    async def signal(self, case_id: str, signal: Any, message: Any, *,
                     name: str | None = None) -> bool:
        """Send a signal (by handler, or by `name`); False when the case's workflow is
        absent or has completed."""
        try:
            await self.handle(case_id).signal(name or signal, message,
                                              rpc_timeout=SIGNAL_TIMEOUT)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise unavailable(exc) from exc
        return True


def start_took_effect(found_fingerprint: str | None, fingerprint: str) -> bool | None:
    """After a start whose RPC failed (issue 18.3), what the case's history says: None
    -- no workflow, nothing took effect (503, retry safe); True -- it runs with these
    terms, so the case was created (never a 503 for it); False -- it runs with other
    terms, as when the start was refused as a duplicate (the caller compares: 409)."""
    if found_fingerprint is None:
        return None
    return found_fingerprint == fingerprint


def lookup_bound(settings: Settings) -> timedelta:
    """The longest the case lookup before a send can take with these settings: a
    pooled connection's wait, opening it, one statement (casework/config.py)."""
    return timedelta(seconds=settings.database_pool_timeout_seconds
                     + settings.database_connect_timeout_seconds
                     + settings.database_statement_timeout_seconds)


def vouched_received_at(stamped: datetime, now: datetime) -> datetime:
    """R5 (issue 9.3): the `received_at` a report is sent with. The stamp taken on
    arrival, which the workflow believes down to SERVICE_LATENCY_BOUND before its
    previous activation because the service keeps to that bound: when the lookup
    before sending took longer than LOOKUP_BUDGET (a database slower than its
    timeouts allow, or settings beyond `lookup_bound`'s defaults), the stamp can no
    longer be vouched for and the report is re-stamped now -- later than the truth by
    that delay, never earlier."""
    return stamped if now - stamped <= LOOKUP_BUDGET else now


def _message_name(update: Any) -> str:
    """The update's name, which is also its signal's (workflows/case_contract.py)."""
    name = getattr(update, "_defn", None)
    return str(getattr(name, "name", None) or update)


def _message_id(name: str, message: Any) -> str | None:
    """The id the message is known by (its repeat-safety key), for the 202 body."""
    field = MESSAGE_ID_FIELDS.get(name)
    value = getattr(message, field, None) if field else None
    return str(value) if value else None


async def get_gateway(client: TemporalDep, settings: SettingsDep) -> CaseGateway:
    return CaseGateway(client, settings)


GatewayDep = Annotated[CaseGateway, Depends(get_gateway)]
