"""Reviews: unscheduled case plan reviews (V3), contract reviews (V1, V4) and their
outcomes (V5, V6, E1). The scheduled review (V2) is opened by the workflow itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from api.accepted import PendingWrite, accepted_write
from api.actors import actor_id, domain_role
from api.case_gateway import GatewayDep
from api.deps import SessionDep
from api.notes import NoteDraft, note_id, recorded_with_notes
from api.openapi import problems, write_pending
from api.permissions import Action, Caller, permitted
from api.schemas import ReviewIn, ReviewOutcomeIn, ReviewOutcomeView, ReviewRequestedView
from api.scoping import visible_case
from models.messages import (
    RequestReview,
    ReviewOutcome,
    ReviewOutcomeRecorded,
    ReviewRequested,
)
from workflows.case_contract import CaseContractWorkflow
from workflows.engine_reviews import outcome_key, review_key

router = APIRouter(tags=["reviews"])


@router.post(
    "/cases/{case_id}/reviews", status_code=201, response_model=ReviewRequestedView,
    summary="Request a case plan review (V3) or a contract review after a concern (V4)",
    responses={200: {"description": "The same `review_id` again: the first answer."},
               **write_pending(), **problems(404, 409)},
)
async def request_review(
    caller: Annotated[Caller, Depends(permitted(Action.REQUEST_REVIEW))],
    case_id: str, body: ReviewIn, response: Response, session: SessionDep, gateway: GatewayDep,
) -> ReviewRequestedView | JSONResponse:
    """Opens the review with its deadline (two weeks for a contract review, V4, from
    `raised_on` when the concern was raised before it is recorded here), a task,
    and an escalation if it lapses. The reason is stored as a note. Repeat-safe on
    `review_id`."""
    await visible_case(session, caller, case_id)
    requested_by = actor_id(caller, body.requested_by, "requested_by")
    requested_by_role = domain_role(caller, body.requested_by_role, "requested_by_role",
                                    rule="V4" if body.kind == "contract" else "V3")
    reason = NoteDraft(note_id(case_id, "review_reason", body.review_id), "review_reason",
                       body.reason, "reason", body.review_id)
    message = RequestReview(review_id=body.review_id, kind=body.kind,
                            requested_by_role=requested_by_role, concern=body.concern,
                            reason_id=reason.note_id, requested_by=requested_by,
                            raised_on=body.raised_on)

    async def send() -> ReviewRequested | PendingWrite:
        return await gateway.update(case_id, CaseContractWorkflow.request_review, message,
                                    answer_key=review_key(message),
                                    answer_type=ReviewRequested)

    result = await recorded_with_notes(session, case_id, requested_by, [reason], send)
    if isinstance(result, PendingWrite):
        return accepted_write(result)
    if result.duplicate:
        response.status_code = 200
    view = ReviewRequestedView.model_validate(result)
    view.reason_id = reason.note_id
    return view


@router.post(
    "/cases/{case_id}/reviews/{review_id}/outcome", response_model=ReviewOutcomeView,
    summary="Record what a held review decided (V5, V6; E1 on return to CP)",
    responses={**write_pending(), **problems(404, 409)},
)
async def record_outcome(
    caller: Annotated[Caller, Depends(permitted(Action.RECORD_REVIEW_OUTCOME))],
    case_id: str, review_id: str, body: ReviewOutcomeIn, session: SessionDep,
    gateway: GatewayDep,
) -> ReviewOutcomeView | JSONResponse:
    """May change the reporting schedule (periods already due keep their dates), the end
    date, the contracted functions (re-checked against C2), endorse a case plan version,
    or return case management to CP, which ends the contract. Repeat-safe per review."""
    await visible_case(session, caller, case_id)
    decided_by = actor_id(caller, body.decided_by, "decided_by")
    drafts = []
    if body.notes is not None:
        drafts.append(NoteDraft(note_id(case_id, "review_outcome", review_id),
                                "review_outcome", body.notes, "notes", review_id))
    message = ReviewOutcome(
        review_id=review_id, decided_by=decided_by, new_due_dates=body.new_due_dates,
        new_contract_end=body.new_contract_end,
        total_case_management=body.total_case_management, new_functions=body.new_functions,
        draft_plan_version=body.draft_plan_version,
        endorse_plan_version=body.endorse_plan_version, return_to_cp=body.return_to_cp,
        outcome_id=drafts[0].note_id if drafts else None,
    )

    async def send() -> ReviewOutcomeRecorded | PendingWrite:
        return await gateway.update(case_id, CaseContractWorkflow.record_review_outcome,
                                    message, answer_key=outcome_key(message),
                                    answer_type=ReviewOutcomeRecorded)

    result = await recorded_with_notes(session, case_id, decided_by, drafts, send)
    if isinstance(result, PendingWrite):
        return accepted_write(result)
    view = ReviewOutcomeView.model_validate(result)
    view.outcome_id = message.outcome_id
    return view
