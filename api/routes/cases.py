"""Cases: register (C1-C5), endorse (C4), list, read, timeline and notes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import load_only

from api.accepted import PendingWrite, accepted, accepted_write
from api.actors import actor_id
from api.case_gateway import GatewayDep
from api.case_views import case_view
from api.deps import SessionDep, SettingsDep
from api.listing import CaseFilters, case_list, note_list, timeline_list
from api.openapi import accepted_later, problems, write_pending
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, keyset_page
from api.permissions import Action, Caller, permitted
from api.registration import Registration, new_case_view, register, registered_view
from api.schemas import (
    CasePage,
    CaseRegistration,
    CaseSummary,
    CaseView,
    EndorsementIn,
    EndorsementView,
    NotePage,
    NoteView,
    RegisteredCaseView,
    RegistrationPendingView,
    TimelineEntryView,
    TimelinePage,
)
from api.schemas.common import Id, QueryInstant
from api.scoping import visible_case, visible_cases
from models.limits import MAX_PERIODS_PER_CONTRACT
from models.messages import EndorseContract, EndorsementRecorded
from models.tables import CaseRow, NoteRow, TimelineEventRow
from workflows.case_contract import CaseContractWorkflow

router = APIRouter(tags=["cases"])

SUMMARY_ONLY = load_only(*(getattr(CaseRow, name) for name in CaseSummary.model_fields))
"""What a row of `GET /cases` shows, and all the list reads (built once: an option
costs a request as much as its query's compilation)."""

ContractStatus = Literal["awaiting_endorsement", "active", "closing", "closed"]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
CursorQuery = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]


@router.post(
    "/cases", status_code=201, response_model=RegisteredCaseView,
    summary="Register a case contract (starts its workflow)",
    responses={200: {"description": "The same registration again: the existing case, "
                     "`duplicate: true`."},
               **accepted_later(RegistrationPendingView, "The case's workflow runs, but "
                                "the database failed to list it; it is listed by its first "
                                "record, and the same registration again is safe."),
               **problems(409)},
)
async def register_case(
    caller: Annotated[Caller, Depends(permitted(Action.REGISTER_CASE))],
    body: CaseRegistration, response: Response, session: SessionDep, gateway: GatewayDep,
    settings: SettingsDep,
) -> RegisteredCaseView | JSONResponse:
    """Validates the terms (C1-C5; 422 names the rule and field), starts the case's
    workflow and lists the case at once. Repeat-safe on `case_id`: the same body again
    answers 200 with the case, a different body 409. A new case's answer (201) is what
    the registration knows, without asking the workflow (`source: read_model`; its
    `periods` appear once the workflow has computed them: `GET /cases/{case_id}`); a
    repeat's is the live case, or the listed row when the workflow is slow to answer.
    Once the workflow has started, nothing answers 5xx: a database failing answers 202
    (issue 18.3)."""
    terms = body.to_terms(settings.jurisdiction, settings.time_zone)
    registered = await register(session, gateway, terms, body.prior_outcomes)
    registration = registered.outcome
    location = f"/cases/{terms.case_id}"
    view = None
    if registration is Registration.CREATED and registered.row is not None:
        view = new_case_view(terms, registered.row)
    elif registration is not Registration.ACCEPTED:
        view = await registered_view(session, gateway, terms.case_id, caller, registered.row)
    if view is None:
        return accepted(location, RegistrationPendingView(
            case_id=terms.case_id, detail="The case's workflow runs; the database failed "
            "to list it, which its first record does. Registering it again is safe."))
    response.status_code = registration.value
    response.headers["Location"] = location
    # "duplicate": true on a repeat, as every other repeat-safe POST answers (issue 12).
    return RegisteredCaseView(**dict(view),
                              duplicate=registration is Registration.REPEATED)


@router.post(
    "/cases/{case_id}/endorsement", response_model=EndorsementView,
    summary="Team manager endorsement: the contract becomes active (C4)",
    responses={**write_pending(), **problems(404, 409)},
)
async def endorse(
    caller: Annotated[Caller, Depends(permitted(Action.ENDORSE_CONTRACT))],
    case_id: str, body: EndorsementIn, session: SessionDep, gateway: GatewayDep,
) -> EndorsementView | JSONResponse:
    """Repeat-safe: the same endorsement again answers with the first result."""
    await visible_case(session, caller, case_id)
    team_manager_id = actor_id(caller, body.team_manager_id, "team_manager_id")
    result = await gateway.update(
        case_id, CaseContractWorkflow.endorse,
        EndorseContract(body.to_endorsement(team_manager_id)),
        answer_key="endorse", answer_type=EndorsementRecorded, field_prefix="endorsement.")
    if isinstance(result, PendingWrite):
        return accepted_write(result)
    return EndorsementView.model_validate(result)


@router.get("/cases", response_model=CasePage, summary="List cases",
            responses=problems())
async def list_cases(
    caller: Annotated[Caller, Depends(permitted(Action.LIST_CASES))],
    session: SessionDep,
    agency_id: Id | None = None,
    status: Annotated[ContractStatus | None, Query(description="The contract's status.")
                      ] = None,
    deadline_before: Annotated[QueryInstant | None, Query(
        description="Next deadline before this instant (ISO 8601).")] = None,
    overdue: Annotated[bool | None, Query(description="A report is overdue (R2).")] = None,
    min_consecutive_failures: Annotated[int | None, Query(
        ge=0, le=MAX_PERIODS_PER_CONTRACT, description="R6")] = None,
    audit_open: Annotated[bool | None, Query(description="An exception audit is open (R8).")
                          ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> CasePage:
    """From the read model, soonest next deadline first (cases without one last), then by
    case id; keyset pagination. An agency sees its own contracts in force only (C7)."""
    filters = CaseFilters(agency_id=agency_id, status=status, deadline_before=deadline_before,
                          overdue=overdue, min_consecutive_failures=min_consecutive_failures,
                          audit_open=audit_open)
    # Only the summary's columns: the snapshot (reviews, plans, contacts) is for a case's
    # own view, and decoding it for every row of a page was most of a page's cost.
    statement = visible_cases(case_list(filters), caller).options(SUMMARY_ONLY)
    rows, next_cursor = await keyset_page(
        session, statement, CaseRow.next_deadline, CaseRow.case_id, decode_cursor(cursor),
        limit, nullable=True)
    return CasePage(items=[CaseSummary.model_validate(r) for r in rows],
                             next_cursor=next_cursor)


@router.get("/cases/{case_id}", response_model=CaseView, summary="A case's full status",
            responses=problems(404))
async def get_case(caller: Annotated[Caller, Depends(permitted(Action.READ_CASE))],
                   case_id: str, session: SessionDep, gateway: GatewayDep) -> CaseView:
    """Live from the workflow while it runs; from the read model once the case closed."""
    return await case_view(session, gateway, case_id, caller)


@router.get("/cases/{case_id}/timeline", response_model=TimelinePage,
            summary="What happened on a case, oldest first", responses=problems(404))
async def timeline(caller: Annotated[Caller, Depends(permitted(Action.READ_TIMELINE))],
                   case_id: str, session: SessionDep, limit: Limit = DEFAULT_LIMIT,
                   cursor: CursorQuery = None) -> TimelinePage:
    await visible_case(session, caller, case_id)
    rows, next_cursor = await keyset_page(
        session, timeline_list(case_id, agency_view=caller.agency_scoped),
        TimelineEventRow.occurred_at,
        TimelineEventRow.event_key, decode_cursor(cursor), limit)
    return TimelinePage(items=[TimelineEntryView.model_validate(r) for r in rows],
                                   next_cursor=next_cursor)


@router.get("/cases/{case_id}/notes", response_model=NotePage,
            summary="Free text recorded on a case (findings, reasons, summaries)",
            responses=problems(404))
async def notes(caller: Annotated[Caller, Depends(permitted(Action.READ_NOTES))],
                case_id: str, session: SessionDep, limit: Limit = DEFAULT_LIMIT,
                cursor: CursorQuery = None) -> NotePage:
    """Notes are what the workflow refers to by id (`findings_ids`, `summary_id` ...)."""
    await visible_case(session, caller, case_id)
    rows, next_cursor = await keyset_page(session, note_list(case_id), NoteRow.created_at,
                                          NoteRow.note_id, decode_cursor(cursor), limit)
    return NotePage(items=[NoteView.model_validate(r) for r in rows],
                          next_cursor=next_cursor)
