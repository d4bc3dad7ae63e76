"""The API's side of requests between districts (DOMAIN T1-T4): starting their
workflows repeat-safely, sending them messages, reading them from the read model, and
district scoping -- C7's rule for districts: a token naming a `district_id` sees and acts
on the requests its district sent or received, nothing else (404 like an unknown id);
state-wide staff (no `district_id`) see every district's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.accepted import accepted
from api.case_gateway import (
    UPDATE_TIMEOUT_SECONDS,
    NotAnswered,
    refusal,
    unavailable,
)
from api.errors import Conflict, Forbidden, NotFound
from api.openapi import accepted_later
from api.pagination import MAX_LIMIT, decode_cursor, keyset_page
from api.permissions import Caller
from api.schemas.district import RequestPage, RequestPendingView, RequestView
from api.strangers import NoWorkflow, evict_stranger, started_input
from models.district import (
    COWORKING,
    DISPUTE,
    SERVICE,
    TRANSFER,
    CoworkingInput,
    DisputeInput,
    ServiceRequestInput,
    TransferInput,
)
from models.tables import DistrictRequestEventRow, DistrictRequestRow
from workflows.coworking import coworking_workflow_id
from workflows.dispute import dispute_workflow_id
from workflows.service_request import service_request_workflow_id
from workflows.transfer import transfer_workflow_id

LIMIT = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
CURSOR = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]


def request_not_found(kind: str, request_id: str) -> NotFound:
    return NotFound(f"No {kind} {request_id!r}.")


def check_own_district(caller: Caller, from_district: str, case_id: str) -> None:
    """A district opens requests in its own name only (T1: the transferring district).
    The access log names the request's case."""
    caller.note_case(case_id)
    district = caller.principal.district_id
    if district is not None and district != from_district:
        raise Forbidden(f"this token acts for district {district!r}", field="from_district")


def in_district(statement: Select[Any], caller: Caller) -> Select[Any]:
    district = caller.principal.district_id
    if district is None:
        return statement
    return statement.where(or_(DistrictRequestRow.from_district == district,
                               DistrictRequestRow.to_district == district))


async def visible_request(session: AsyncSession, caller: Caller, kind: str,
                          request_id: str, client: Client | None = None
                          ) -> DistrictRequestRow:
    """The request, if the caller's district may see it (404 otherwise). Given the
    Temporal `client` (writes), a request whose workflow has started but not yet
    recorded itself (a worker backlog, after a 202) is found by the facts of its start
    in the workflow's history, so the write is sent rather than answered 404."""
    row = await session.get(DistrictRequestRow, (kind, request_id))
    if row is None and client is not None:
        row = await _unrecorded(client, kind, request_id)
    district = caller.principal.district_id
    if row is None or (district is not None
                       and district not in (row.from_district, row.to_district)):
        raise request_not_found(kind, request_id)
    caller.note_case(row.case_id)  # the access log names the case a write was about
    return row


async def request_view(session: AsyncSession, row: DistrictRequestRow,
                       with_timeline: bool = True) -> RequestView:
    timeline: list[dict[str, Any]] = []
    if with_timeline:
        events = await session.scalars(select(DistrictRequestEventRow).where(
            DistrictRequestEventRow.kind == row.kind,
            DistrictRequestEventRow.request_id == row.request_id,
        ).order_by(DistrictRequestEventRow.occurred_at, DistrictRequestEventRow.event_key))
        timeline = [{"at": e.occurred_at, "event": e.event, "rule": e.rule,
                     "detail": e.detail} for e in events]
    return RequestView(
        kind=row.kind, request_id=row.request_id, case_id=row.case_id,
        from_district=row.from_district, to_district=row.to_district, status=row.status,
        stage=row.stage, child_in_care=row.child_in_care, next_deadline=row.next_deadline,
        next_deadline_kind=row.next_deadline_kind, escalated=row.escalated,
        opened_at=row.opened_at, updated_at=row.updated_at, closed_at=row.closed_at,
        detail=row.snapshot or {}, timeline=timeline)


async def list_requests(session: AsyncSession, caller: Caller, kind: str,
                        status: str | None, district: str | None, escalated: bool | None,
                        limit: int, cursor: str | None = None,
                        stage: str | None = None) -> RequestPage:
    """Soonest next deadline first (none last), then id; one page of the keyset
    pagination every list uses (api/pagination.py)."""
    statement = in_district(select(DistrictRequestRow).where(
        DistrictRequestRow.kind == kind), caller)
    if stage is not None:
        statement = statement.where(DistrictRequestRow.stage == stage)
    if status is not None:
        statement = statement.where(DistrictRequestRow.status == status)
    if district is not None:
        statement = statement.where(or_(DistrictRequestRow.from_district == district,
                                        DistrictRequestRow.to_district == district))
    if escalated is not None:
        statement = statement.where(DistrictRequestRow.escalated == escalated)
    rows, next_cursor = await keyset_page(
        session, statement, DistrictRequestRow.next_deadline, DistrictRequestRow.request_id,
        decode_cursor(cursor), limit, nullable=True)
    return RequestPage(
        items=[await request_view(session, row, with_timeline=False) for row in rows],
        next_cursor=next_cursor)


FIRST_RECORD_WAIT_SECONDS = 5.0
"""How long a start waits for the workflow's first record (its deadlines) before it
answers 202 with `Location` instead (issue 18.3): a worker backlog must not turn a
request that started into a 404 or a 5xx."""


async def first_record(session: AsyncSession, kind: str, request_id: str,
                       wait_seconds: float = FIRST_RECORD_WAIT_SECONDS
                       ) -> DistrictRequestRow | None:
    """The request's row once its workflow has recorded it, or None after the wait."""
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        row = await session.get(DistrictRequestRow, (kind, request_id),
                                populate_existing=True)
        if row is not None or asyncio.get_running_loop().time() >= deadline:
            return row
        await session.commit()  # ends the read transaction: the next look sees new rows
        await asyncio.sleep(0.1)


async def start_request(client: Client, run: Any, input: Any, workflow_id: str,
                        task_queue: str, same: dict[str, Any]) -> bool:
    """Start the request's workflow; False when it exists already with the same facts
    (a repeat), 409 when the id was used for another request.

    An id is never reused, even once its workflow has finished: an ended arrangement or
    a completed transfer started "again" is a repeat of that one, not a new one. The
    facts are compared with the input in the workflow's history, so a repeat needs no
    worker (a backlog cannot turn it into a 503, issue 18.3). A run under the id that
    the service did not start (issue 10, api/strangers.py) takes nothing over: it is let
    end, or terminated, and the request is started after it."""
    policy = WorkflowIDReusePolicy.REJECT_DUPLICATE
    for _attempt in range(2):
        try:
            await client.start_workflow(run, input, id=workflow_id, task_queue=task_queue,
                                        id_reuse_policy=policy,
                                        static_summary=f"{workflow_id} (T1-T4)")
            return True
        except WorkflowAlreadyStartedError:
            pass
        except RPCError as exc:
            raise unavailable(exc) from exc
        ours = await _service_input(client, workflow_id, type(input))
        if ours is not None:
            break
        await evict_stranger(client, workflow_id, type(input))
        # The stranger's run has ended (failed or terminated): only such a run may be
        # followed, never one of the service's that completed.
        policy = WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
    if ours is None:
        raise Conflict("this id is held by a workflow the service did not start; try "
                       "again shortly", field="request_id")
    differs = sorted(k for k, v in same.items() if getattr(ours, k) != v)
    if differs:
        raise Conflict("this id was used for another request", field=differs[0])
    return False


async def _service_input(client: Client, workflow_id: str, input_type: type) -> Any:
    """The input the workflow's latest run was started with, when the service started it
    (api/strangers.py; a continued run carries the same facts); None when there is no
    workflow or a stranger's run holds the id."""
    try:
        return await started_input(client, workflow_id, input_type)
    except NoWorkflow:
        return None
    except RPCError as exc:
        raise unavailable(exc) from exc


_WORKFLOWS: dict[str, tuple[Callable[[str], str], type]] = {
    TRANSFER: (transfer_workflow_id, TransferInput),
    SERVICE: (service_request_workflow_id, ServiceRequestInput),
    DISPUTE: (dispute_workflow_id, DisputeInput),
    COWORKING: (coworking_workflow_id, CoworkingInput),
}


async def _unrecorded(client: Client, kind: str, request_id: str
                      ) -> DistrictRequestRow | None:
    """A row-shaped view (never added to the session) of a request whose workflow has
    started but not recorded itself: who asked whom about which case, from its input."""
    workflow_id, input_type = _WORKFLOWS[kind]
    started = await _service_input(client, workflow_id(request_id), input_type)
    if started is None:
        return None
    return DistrictRequestRow(kind=kind, request_id=request_id, case_id=started.case_id,
                              from_district=started.from_district,
                              to_district=started.to_district, status="open",
                              snapshot={}, closed_at=None)


async def send(client: Client, workflow_id: str, update: Any, message: Any, kind: str,
               request_id: str) -> Any:
    """Execute an update; refusals map to 404/409/422 with the rule and field."""
    try:
        return await asyncio.wait_for(
            client.get_workflow_handle(workflow_id).execute_update(update, message),
            UPDATE_TIMEOUT_SECONDS)
    except WorkflowUpdateFailedError as exc:
        raise refusal(exc) from exc
    except TimeoutError as exc:
        raise NotAnswered(exc) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Conflict(f"the {kind} {request_id!r} is closed", field="status") from exc
        raise unavailable(exc) from exc


PENDING = accepted_later(RequestPendingView, "The workflow started but has not recorded "
                         "the request yet (a worker backlog): it runs; `Location` shows it.")


async def answer_started(session: AsyncSession, response: Response, started: bool, kind: str,
                         request_id: str, location: str) -> RequestView | JSONResponse:
    """The answer to a start: 201 (200 on a repeat) with the request as first recorded;
    202 with `Location` when the workflow has not recorded it within the wait (issue
    18.3: it started, so never a 404 or a 5xx)."""
    row = await first_record(session, kind, request_id)
    if row is None:
        return accepted(location, RequestPendingView(
            kind=kind, request_id=request_id,
            detail="The workflow started; its first record (with the deadlines) is not "
                   "written yet. It shows at Location once a worker runs; sending the same "
                   "body again is safe."))
    if not started:
        response.status_code = 200
    return await request_view(session, row)
