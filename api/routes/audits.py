"""Exception audits (R8): findings and recommendations, then closure."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from api.accepted import PendingWrite, accepted_write
from api.actors import actor_id
from api.case_gateway import GatewayDep
from api.deps import SessionDep
from api.notes import NoteDraft, note_id, recorded_with_notes
from api.openapi import problems, write_pending
from api.permissions import Action, Caller, permitted
from api.schemas import AuditChangedView, CloseAuditIn, FindingsIn
from api.scoping import visible_case
from models.messages import AuditChanged, CloseAudit, RecordAuditFindings
from workflows.case_contract import CaseContractWorkflow
from workflows.engine_audits import close_audit_key, findings_key

router = APIRouter(tags=["audits"])


@router.post(
    "/cases/{case_id}/audits/{audit_id}/findings", status_code=201,
    response_model=AuditChangedView,
    summary="Record an exception audit's findings and recommendations (R8)",
    responses={200: {"description": "The same `findings_id` again: the first answer."},
               **write_pending(), **problems(404, 409)},
)
async def record_findings(
    caller: Annotated[Caller, Depends(permitted(Action.RECORD_AUDIT_FINDINGS))],
    case_id: str, audit_id: str, body: FindingsIn, response: Response, session: SessionDep,
    gateway: GatewayDep,
) -> AuditChangedView | JSONResponse:
    """The texts are stored as notes; the workflow records the findings note's id.
    Repeat-safe on `findings_id` (a different text under the same id: 409)."""
    await visible_case(session, caller, case_id)
    recorded_by = actor_id(caller, body.recorded_by, "recorded_by")
    key = f"{audit_id}:{body.findings_id}"
    findings = NoteDraft(note_id(case_id, "findings", key), "audit_findings", body.findings,
                         "findings", audit_id)
    advice = NoteDraft(note_id(case_id, "recommendations", key), "audit_recommendations",
                       body.recommendations, "recommendations", audit_id)
    message = RecordAuditFindings(audit_id=audit_id, findings_id=findings.note_id,
                                  recorded_by=recorded_by)

    async def send() -> AuditChanged | PendingWrite:
        return await gateway.update(case_id, CaseContractWorkflow.record_audit_findings,
                                    message, answer_key=findings_key(message),
                                    answer_type=AuditChanged)

    result = await recorded_with_notes(session, case_id, recorded_by,
                                       [findings, advice], send)
    if isinstance(result, PendingWrite):
        return accepted_write(result)
    if result.duplicate:
        response.status_code = 200
    view = AuditChangedView.model_validate(result)
    view.note_ids = [findings.note_id, advice.note_id]
    return view


@router.post(
    "/cases/{case_id}/audits/{audit_id}/close", response_model=AuditChangedView,
    summary="Close an exception audit once its findings are recorded (R8)",
    responses={**write_pending(), **problems(404, 409)},
)
async def close_audit(
    caller: Annotated[Caller, Depends(permitted(Action.CLOSE_AUDIT))],
    case_id: str, audit_id: str, session: SessionDep, gateway: GatewayDep,
    body: CloseAuditIn | None = None,
) -> AuditChangedView | JSONResponse:
    """Repeat-safe: closing a closed audit again answers with the first result."""
    await visible_case(session, caller, case_id)
    message = CloseAudit(audit_id=audit_id,
                         closed_by=actor_id(caller, body.closed_by if body else "", "closed_by"))
    result = await gateway.update(case_id, CaseContractWorkflow.close_audit, message,
                                  answer_key=close_audit_key(message), answer_type=AuditChanged)
    if isinstance(result, PendingWrite):
        return accepted_write(result)
    return AuditChangedView.model_validate(result)
