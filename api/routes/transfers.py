"""Case transfer requests (T1) and service requests (T2): open, list, read, decide.
A rejection starts the T3 dispute (see /disputes, api/routes/disputes.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from api.actors import actor_id
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.district import (
    CURSOR,
    LIMIT,
    PENDING,
    answer_started,
    check_own_district,
    list_requests,
    request_view,
    send,
    start_request,
    visible_request,
)
from api.notes import NoteDraft, note_id, recorded_with_notes
from api.openapi import problems
from api.pagination import DEFAULT_LIMIT
from api.permissions import Action, Caller, permitted
from api.schemas.common import Id
from api.schemas.district import (
    ChangeView,
    DecisionIn,
    RequestPage,
    RequestView,
    ServiceRequestIn,
    TransferIn,
)
from models.district import SERVICE, TRANSFER, Decide, ServiceRequestInput, TransferInput
from models.errors import PolicyViolation
from workflows.district_policy import check_districts
from workflows.service_request import ServiceRequestWorkflow, service_request_workflow_id
from workflows.transfer import TransferRequestWorkflow, transfer_workflow_id

router = APIRouter(tags=["transfers"])


def _districts(body: TransferIn | ServiceRequestIn, rule: str) -> None:
    try:
        check_districts(body.from_district, body.to_district)
    except PolicyViolation as exc:
        raise PolicyViolation(rule, exc.field, exc.message) from exc


@router.post("/transfers", status_code=201, response_model=RequestView,
             summary="Request a case transfer to another district (T1)",
             responses={200: {"description": "The same `request_id` again."}, **PENDING,
                        **problems(409)})
async def open_transfer(
    caller: Annotated[Caller, Depends(permitted(Action.OPEN_TRANSFER))], body: TransferIn,
    response: Response, session: SessionDep, client: TemporalDep, settings: SettingsDep,
) -> RequestView | JSONResponse:
    """Resolved in principle within 2 working days, completed within 5 (child in care:
    5 working days, under four weeks), on the AU-WA calendar. Repeat-safe on
    `request_id`; the same id for another request is 409. 202 with `Location` when the
    workflow has started but not yet recorded the request (issue 18.3)."""
    check_own_district(caller, body.from_district, body.case_id)
    _districts(body, "T1")
    facts: dict[str, Any] = body.model_dump()
    started = await start_request(
        client, TransferRequestWorkflow.run,
        TransferInput(**facts, opened_by=caller.principal.subject),
        transfer_workflow_id(body.request_id), settings.temporal_task_queue, facts)
    return await answer_started(session, response, started, TRANSFER, body.request_id,
                                f"/transfers/{body.request_id}")


@router.post("/service-requests", status_code=201, response_model=RequestView,
             summary="Request services of another district (T2)",
             responses={200: {"description": "The same `request_id` again."}, **PENDING,
                        **problems(409)})
async def open_service_request(
    caller: Annotated[Caller, Depends(permitted(Action.OPEN_SERVICE_REQUEST))],
    body: ServiceRequestIn, response: Response, session: SessionDep, client: TemporalDep,
    settings: SettingsDep,
) -> RequestView | JSONResponse:
    """Accepted within 1 working day (AU-WA), else escalated. Repeat-safe on `request_id`;
    202 with `Location` while the workflow has not recorded it yet."""
    check_own_district(caller, body.from_district, body.case_id)
    _districts(body, "T2")
    facts: dict[str, Any] = body.model_dump()
    started = await start_request(
        client, ServiceRequestWorkflow.run,
        ServiceRequestInput(**facts, opened_by=caller.principal.subject),
        service_request_workflow_id(body.request_id), settings.temporal_task_queue, facts)
    return await answer_started(session, response, started, SERVICE, body.request_id,
                                f"/service-requests/{body.request_id}")


@router.get("/transfers", response_model=RequestPage, summary="List transfer requests",
            responses=problems())
async def list_transfers(
    caller: Annotated[Caller, Depends(permitted(Action.LIST_TRANSFERS))], session: SessionDep,
    status: str | None = None, district: Id | None = None, escalated: bool | None = None,
    limit: LIMIT = DEFAULT_LIMIT, cursor: CURSOR = None,
) -> RequestPage:
    """Soonest next deadline first (none last), then request id."""
    return await list_requests(session, caller, TRANSFER, status, district, escalated, limit,
                               cursor)


@router.get("/transfers/{request_id}", response_model=RequestView,
            summary="A transfer request with its deadlines and timeline",
            responses=problems(404))
async def read_transfer(caller: Annotated[Caller, Depends(permitted(Action.READ_TRANSFER))],
                        request_id: str, session: SessionDep) -> RequestView:
    return await request_view(session, await visible_request(session, caller, TRANSFER,
                                                             request_id))


@router.get("/service-requests", response_model=RequestPage,
            summary="List service requests", responses=problems())
async def list_service_requests(
    caller: Annotated[Caller, Depends(permitted(Action.LIST_SERVICE_REQUESTS))],
    session: SessionDep, status: str | None = None, district: Id | None = None,
    escalated: bool | None = None, limit: LIMIT = DEFAULT_LIMIT, cursor: CURSOR = None,
) -> RequestPage:
    """Soonest next deadline first (none last), then request id."""
    return await list_requests(session, caller, SERVICE, status, district, escalated, limit,
                               cursor)


@router.get("/service-requests/{request_id}", response_model=RequestView,
            summary="A service request with its deadline and timeline",
            responses=problems(404))
async def read_service_request(
    caller: Annotated[Caller, Depends(permitted(Action.READ_SERVICE_REQUEST))],
    request_id: str, session: SessionDep) -> RequestView:
    return await request_view(session, await visible_request(session, caller, SERVICE,
                                                             request_id))


@router.post("/transfers/{request_id}/decision", response_model=ChangeView,
             summary="Accept, complete or reject a transfer (T1; a rejection starts T3)",
             responses=problems(404, 409))
async def decide_transfer(
    caller: Annotated[Caller, Depends(permitted(Action.DECIDE_TRANSFER))], request_id: str,
    body: DecisionIn, session: SessionDep, client: TemporalDep,
) -> ChangeView:
    return await _decide(caller, TRANSFER, request_id, body, session, client,
                         transfer_workflow_id(request_id), TransferRequestWorkflow.decide)


@router.post("/service-requests/{request_id}/decision", response_model=ChangeView,
             summary="Accept or reject a service request (T2; a rejection starts T3)",
             responses=problems(404, 409))
async def decide_service_request(
    caller: Annotated[Caller, Depends(permitted(Action.DECIDE_SERVICE_REQUEST))],
    request_id: str, body: DecisionIn, session: SessionDep, client: TemporalDep,
) -> ChangeView:
    return await _decide(caller, SERVICE, request_id, body, session, client,
                         service_request_workflow_id(request_id), ServiceRequestWorkflow.decide)


async def _decide(caller: Caller, kind: str, request_id: str, body: DecisionIn,
                  session: SessionDep, client: TemporalDep, workflow_id: str, update: Any
                  ) -> ChangeView:
    """Repeat-safe per decision; a rejection's reason is a note (DESIGN decision 6)."""
    row = await visible_request(session, caller, kind, request_id, client)
    decided_by = actor_id(caller, body.decided_by, "decided_by")  # from the token
    drafts = []
    if body.reason is not None:
        drafts.append(NoteDraft(note_id(row.case_id, f"{kind}_reason", request_id),
                                f"{kind}_reason", body.reason, "reason", request_id))
    message = Decide(decision=body.decision, decided_by=decided_by,
                     reason_id=drafts[0].note_id if drafts else None)

    async def deliver() -> Any:
        return await send(client, workflow_id, update, message, kind, request_id)

    result = await recorded_with_notes(session, row.case_id, decided_by, drafts, deliver)
    return ChangeView(id=request_id, status=result.status, at=result.at,
                      dispute_id=result.dispute_id, note_id=message.reason_id,
                      duplicate=result.duplicate)
