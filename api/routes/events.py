"""Events on a case: R7 exception-audit triggers and V4 contract concerns."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from api.accepted import PendingWrite, accepted_write
from api.actors import actor_id, domain_role
from api.case_gateway import GatewayDep
from api.deps import SessionDep
from api.openapi import problems, write_pending
from api.permissions import Action, Caller, permitted
from api.schemas import EventIn, EventView
from api.scoping import visible_case
from models.messages import EventRecorded, RaiseEvent, RequestReview, ReviewRequested
from workflows.case_contract import CaseContractWorkflow
from workflows.engine_audits import event_key
from workflows.engine_reviews import review_key

router = APIRouter(tags=["events"])

CONTRACT_CONCERN = "contract_concern"


@router.post(
    "/cases/{case_id}/events", status_code=201, response_model=EventView,
    summary="Record an R7 trigger (opens an exception audit) or a V4 contract concern",
    responses={200: {"description": "The same `event_id` again: the first answer."},
               **write_pending(), **problems(404, 409)},
)
async def raise_event(
    caller: Annotated[Caller, Depends(permitted(Action.RAISE_EVENT))],
    case_id: str, body: EventIn, response: Response, session: SessionDep, gateway: GatewayDep,
) -> EventView | JSONResponse:
    """R7: lack of client contact, deviation from the case plan, repeated failure to
    report significant events, complaints: each opens an exception audit (or joins the
    open one for the same trigger). `contract_concern` with a `concern` (V4) opens a
    contract review due within two weeks of `occurred_on` (default: today). Repeat-safe
    on `event_id`."""
    await visible_case(session, caller, case_id)
    raised_by = actor_id(caller, body.raised_by, "raised_by")
    if body.kind == CONTRACT_CONCERN:
        raised_by_role = domain_role(caller, body.raised_by_role, "raised_by_role", rule="V4")
        review = RequestReview(review_id=body.event_id, kind="contract",
                               requested_by_role=raised_by_role, concern=body.concern,
                               requested_by=raised_by, raised_on=body.occurred_on)
        requested = await gateway.update(case_id, CaseContractWorkflow.request_review,
                                         review, answer_key=review_key(review),
                                         answer_type=ReviewRequested,
                                         field_names={"raised_on": "occurred_on",
                                                      "requested_by_role": "raised_by_role"})
        if isinstance(requested, PendingWrite):
            return accepted_write(requested)
        view = EventView(event_id=body.event_id, kind=body.kind, review_id=requested.review_id,
                         review_due_at=requested.due_at, duplicate=requested.duplicate)
    else:
        if body.raised_by_role is not None:  # not recorded for R7, but never a false claim
            domain_role(caller, body.raised_by_role, "raised_by_role", rule="R7")
        event = RaiseEvent(event_id=body.event_id, kind=body.kind, raised_by=raised_by,
                           occurred_on=body.occurred_on)
        recorded = await gateway.update(case_id, CaseContractWorkflow.raise_event, event,
                                        answer_key=event_key(event), answer_type=EventRecorded)
        if isinstance(recorded, PendingWrite):
            return accepted_write(recorded)
        view = EventView.model_validate(recorded)
    if view.duplicate:
        response.status_code = 200
    return view
