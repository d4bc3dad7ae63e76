"""Progress reports (R4): submission by the agency, assessment by the practitioner."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from api.accepted import PendingWrite, accepted, accepted_write
from api.actors import actor_id
from api.case_gateway import GatewayDep, vouched_received_at
from api.deps import SessionDep
from api.openapi import accepted_later, problems, write_pending
from api.permissions import Action, Caller, permitted
from api.schemas import (
    AssessmentIn,
    AssessmentView,
    ReportAcceptedView,
    ReportIn,
    ReportPendingView,
)
from api.scoping import visible_case
from models.messages import AssessmentRecorded, AssessReport, SubmitReport
from workflows.case_contract import CaseContractWorkflow
from workflows.engine_messages import assessment_key

router = APIRouter(tags=["reports"])

_REPORT_PENDING = {
    "accepted": "The case's worker accepted the report and is still recording it, "
                "arriving at received_at (R5).",
    "stored": "No worker answered in time: the report is stored and will be applied as "
              "soon as the case's worker runs, arriving at received_at (R5).",
}


@router.post(
    "/cases/{case_id}/reports", status_code=201, response_model=ReportAcceptedView,
    summary="A progress report arrived (R4)",
    responses={200: {"description": "The same `report_id` again: the first answer."},
               **accepted_later(ReportPendingView, "No answer in time: the report is "
                                "accepted or stored and will be applied, arriving at "
                                "`received_at`."),
               **problems(404, 409)},
)
async def submit_report(
    caller: Annotated[Caller, Depends(permitted(Action.SUBMIT_REPORT))],
    case_id: str, body: ReportIn, response: Response, session: SessionDep, gateway: GatewayDep,
) -> ReportAcceptedView | JSONResponse:
    """Counts for the period awaiting a report (or `period_index`). It arrived when this
    request was accepted, which decides on-time or late (R5) however long the case's
    worker takes; when none answers within seconds the report is stored and the answer
    is 202 (applied once a worker runs). Repeat-safe on `report_id`."""
    received_at = datetime.now(UTC)  # R5: the service received it now (issue 9.3)
    await visible_case(session, caller, case_id)
    # R5: the workflow believes the stamp only if it leaves within the service's bound
    received_at = vouched_received_at(received_at, datetime.now(UTC))
    message = SubmitReport(report_id=body.report_id, period_index=body.period_index,
                           submitted_by=actor_id(caller, body.submitted_by, "submitted_by"),
                           received_at=received_at)
    result = await gateway.submit_report(case_id, message)
    if isinstance(result, PendingWrite):
        return accepted(f"/cases/{case_id}", ReportPendingView(
            report_id=body.report_id, received_at=received_at,
            detail=_REPORT_PENDING[result.stage]))
    if result.duplicate:
        response.status_code = 200
    return ReportAcceptedView.model_validate(result)


@router.post(
    "/cases/{case_id}/reports/{report_id}/assessment", response_model=AssessmentView,
    summary="The practitioner's assessment of a report (R4, R5)",
    responses={**write_pending(), **problems(404, 409)},
)
async def assess_report(
    caller: Annotated[Caller, Depends(permitted(Action.ASSESS_REPORT))],
    case_id: str, report_id: str, body: AssessmentIn, session: SessionDep, gateway: GatewayDep,
) -> AssessmentView | JSONResponse:
    """Adequate or inadequate quality decide the period's outcome (R5); the others are
    follow-ups, and request_resubmission keeps the period open for a new report.
    Repeat-safe on (report, assessment), or on `assessment_id` when given."""
    await visible_case(session, caller, case_id)
    message = AssessReport(report_id=report_id, assessment=body.assessment,
                           assessed_by=actor_id(caller, body.assessed_by, "assessed_by"),
                           assessment_id=body.assessment_id)
    result = await gateway.update(case_id, CaseContractWorkflow.assess_report, message,
                                  answer_key=assessment_key(message),
                                  answer_type=AssessmentRecorded)
    if isinstance(result, PendingWrite):
        return accepted_write(result)
    return AssessmentView.model_validate(result)
