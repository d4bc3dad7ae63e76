"""Disputes between districts (T3): list, read, refer up the ladder, resolve.

A dispute is started by the rejection of a transfer or service request (its id is
`<kind>-<request_id>`, e.g. `transfer-tr-2031`); it is never opened here. The
resolution's rationale is stored as a note, and only the note's id goes to the workflow
(DESIGN decision 6).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from api.actors import actor_id
from api.deps import SessionDep, TemporalDep
from api.district import CURSOR, LIMIT, list_requests, request_view, send, visible_request
from api.errors import Conflict, ProblemError
from api.notes import NoteDraft, check_note, note_id, recorded_with_notes
from api.openapi import problems
from api.pagination import DEFAULT_LIMIT
from api.permissions import Action, Caller, permitted
from api.schemas.common import Id
from api.schemas.district import ChangeView, ReferralIn, RequestPage, RequestView, ResolutionIn
from models.district import DISPUTE, DisputeChanged, ReferDispute, ResolveDispute
from models.tables import DistrictRequestRow
from workflows import district_policy as policy
from workflows.dispute import DisputeWorkflow, dispute_workflow_id

router = APIRouter(tags=["disputes"])

Stage = Literal["assistant_directors", "district_directors", "director"]


@router.get("/disputes", response_model=RequestPage, summary="List disputes (T3)",
            responses=problems())
async def list_disputes(
    caller: Annotated[Caller, Depends(permitted(Action.LIST_DISPUTES))], session: SessionDep,
    status: Annotated[Literal["open", "resolved"] | None, Query()] = None,
    stage: Annotated[Stage | None, Query(description="The level holding the dispute.")
                     ] = None,
    district: Id | None = None, escalated: bool | None = None,
    limit: LIMIT = DEFAULT_LIMIT, cursor: CURSOR = None,
) -> RequestPage:
    """Soonest next deadline first (none last), then dispute id. A token with a
    `district_id` lists the disputes its district is party to."""
    return await list_requests(session, caller, DISPUTE, status, district, escalated, limit,
                               cursor, stage=stage)


@router.get("/disputes/{dispute_id}", response_model=RequestView,
            summary="A dispute with its ladder's deadlines and timeline (T3)",
            responses=problems(404))
async def read_dispute(caller: Annotated[Caller, Depends(permitted(Action.READ_DISPUTE))],
                       dispute_id: str, session: SessionDep) -> RequestView:
    return await request_view(session, await visible_request(session, caller, DISPUTE,
                                                             dispute_id))


@router.post("/disputes/{dispute_id}/referral", response_model=ChangeView,
             summary="Negotiation failed at this level: refer the dispute up (T3)",
             responses=problems(404, 409))
async def refer_dispute(
    caller: Annotated[Caller, Depends(permitted(Action.REFER_DISPUTE))], dispute_id: str,
    body: ReferralIn, session: SessionDep, client: TemporalDep,
) -> ChangeView:
    """The assistant district directors refer to the district directors, they to the
    director, service delivery (whose decision is final: 409). Repeat-safe on
    `from_stage`: the same referral again answers the first time's answer."""
    await visible_request(session, caller, DISPUTE, dispute_id, client)
    message = ReferDispute(from_stage=body.from_stage,
                           referred_by=actor_id(caller, body.referred_by, "referred_by"))
    result: DisputeChanged = await send(client, dispute_workflow_id(dispute_id),
                                        DisputeWorkflow.refer, message, DISPUTE, dispute_id)
    return _changed(result)


@router.post("/disputes/{dispute_id}/resolution", response_model=ChangeView,
             summary="Resolve a dispute, or decide it finally, with the rationale (T3)",
             responses=problems(404, 409))
async def resolve_dispute(
    caller: Annotated[Caller, Depends(permitted(Action.RESOLVE_DISPUTE))], dispute_id: str,
    body: ResolutionIn, session: SessionDep, client: TemporalDep,
) -> ChangeView:
    """`proceed` (the request goes ahead: a transfer then owes its completion afresh) or
    `withdraw`. Agreed at the level holding it, or the director's final decision. The
    rationale is stored as a note; the workflow gets its id. Repeat-safe: the same
    resolution again answers 200 with `duplicate`; another one is 409."""
    row = await visible_request(session, caller, DISPUTE, dispute_id, client)
    decided_by = actor_id(caller, body.decided_by, "decided_by")
    rationale = NoteDraft(note_id(row.case_id, "dispute_rationale", dispute_id),
                          "dispute_rationale", body.rationale, "rationale", dispute_id)
    if row.closed_at is not None:
        return await _already_resolved(session, row, body, rationale)
    message = ResolveDispute(outcome=body.outcome, rationale_id=rationale.note_id,
                             decided_by=decided_by)

    async def deliver() -> DisputeChanged:
        result: DisputeChanged = await send(client, dispute_workflow_id(dispute_id),
                                            DisputeWorkflow.resolve, message, DISPUTE,
                                            dispute_id)
        return result

    try:
        result = await recorded_with_notes(session, row.case_id, decided_by, [rationale],
                                           deliver)
    except ProblemError as exc:
        # The workflow ended between the read and the message: a repeat of the
        # resolution that ended it is answered from the record.
        closed = await session.get(DistrictRequestRow, (DISPUTE, dispute_id),
                                   populate_existing=True)
        if exc.status != 409 or closed is None or closed.closed_at is None:
            raise
        return await _already_resolved(session, closed, body, rationale)
    view = _changed(result)
    view.note_id = rationale.note_id
    return view


async def _already_resolved(session: SessionDep, row: DistrictRequestRow, body: ResolutionIn,
                            rationale: NoteDraft) -> ChangeView:
    """A resolved dispute's workflow has finished; the same resolution again is answered
    from the read model (`duplicate`), another one is 409."""
    snapshot = row.snapshot or {}
    same_text = await check_note(session, rationale.note_id, row.case_id, rationale.text,
                                 rationale.field)
    if snapshot.get("outcome") != body.outcome or not same_text:
        raise Conflict("the dispute was resolved otherwise", field="outcome", rule="T3")
    return ChangeView(id=row.request_id, status=policy.RESOLVED, at=row.updated_at,
                      stage=row.stage, outcome=body.outcome, note_id=rationale.note_id,
                      duplicate=True)


def _changed(result: DisputeChanged) -> ChangeView:
    return ChangeView(id=result.dispute_id, status=result.status, at=result.at,
                      stage=result.stage, outcome=result.outcome, duplicate=result.duplicate)
