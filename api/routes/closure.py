"""Closing a case (E2) once its contract has ended (E1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from api.accepted import PendingWrite, accepted_write
from api.actors import actor_id
from api.case_gateway import GatewayDep
from api.deps import SessionDep
from api.notes import NoteDraft, note_id, recorded_with_notes
from api.openapi import problems, write_pending
from api.permissions import Action, Caller, permitted
from api.schemas import ClosureIn, ClosureView
from api.scoping import visible_case
from models.messages import CarryOver, CaseClosed, CloseCase
from workflows.case_contract import CaseContractWorkflow
from workflows.engine_closure import CLOSE_KEY

router = APIRouter(tags=["closure"])


@router.post(
    "/cases/{case_id}/closure", response_model=ClosureView,
    summary="Close the case with a summary, carrying over open items (E2)",
    responses={**write_pending(), **problems(404, 409)},
)
async def close_case(
    caller: Annotated[Caller, Depends(permitted(Action.CLOSE_CASE))],
    case_id: str, body: ClosureIn, session: SessionDep, gateway: GatewayDep,
) -> ClosureView | JSONResponse:
    """Refused (409) while the contract is still active (E1), or while any item is open
    and not carried over with a reason: the refusal's `open_items` lists every one. The
    summary and each reason are stored as notes; the workflow gets their ids. Then the
    workflow completes and the read model keeps the closed case. Repeat-safe."""
    await visible_case(session, caller, case_id)
    closed_by = actor_id(caller, body.closed_by, "closed_by")
    summary = NoteDraft(note_id(case_id, "closure_summary", "closure"), "closure_summary",
                        body.summary, "summary")
    reasons = [NoteDraft(note_id(case_id, "carry_over", c.item_id), "carry_over_reason",
                         c.reason, f"carried_over[{i}].reason", c.item_id)
               for i, c in enumerate(body.carried_over)]
    message = CloseCase(summary_id=summary.note_id, closed_by=closed_by,
                        carried_over=[CarryOver(item_id=c.item_id, reason=r.note_id)
                                      for c, r in zip(body.carried_over, reasons, strict=True)])

    async def send() -> CaseClosed | PendingWrite:
        return await gateway.update(case_id, CaseContractWorkflow.close_case, message,
                                    answer_key=CLOSE_KEY, answer_type=CaseClosed)

    result = await recorded_with_notes(session, case_id, closed_by,
                                       [summary, *reasons], send)
    if isinstance(result, PendingWrite):
        return accepted_write(result)
    return ClosureView(status=result.status, closed_at=result.closed_at,
                       carried_over=list(result.carried_over), summary_id=summary.note_id,
                       duplicate=result.duplicate)
