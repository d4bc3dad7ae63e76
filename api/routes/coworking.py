"""Co-working arrangements between districts (T4): start, list, read, record a review,
end. Each arrangement is its own workflow (`coworking-<arrangement_id>`), reviewed every
three months on the AU-WA calendar; a review's notes are a note, and only the note's id
goes to the workflow (DESIGN decision 6)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
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
from api.errors import ProblemError, Unprocessable
from api.notes import NoteDraft, note_id, recorded_with_notes
from api.openapi import problems
from api.pagination import DEFAULT_LIMIT
from api.permissions import Action, Caller, permitted
from api.schemas.common import Id
from api.schemas.district import (
    ChangeView,
    CoworkingIn,
    CoworkingReviewIn,
    EndCoworkingIn,
    RequestPage,
    RequestView,
)
from models.district import (
    COWORKING,
    WA_TIME_ZONE,
    CoworkingChanged,
    CoworkingInput,
    EndCoworking,
    RecordCoworkingReview,
)
from models.errors import PolicyViolation
from models.tables import DistrictRequestRow
from workflows import district_policy as policy
from workflows.coworking import CoworkingWorkflow, coworking_workflow_id
from workflows.working_days import local_day

router = APIRouter(tags=["coworking"])


def perth_today() -> date:
    """Today where the arrangement's days are counted (Australia/Perth, T4)."""
    return local_day(datetime.now(UTC), WA_TIME_ZONE)


@router.post("/coworking", status_code=201, response_model=RequestView,
             summary="Start a co-working arrangement between districts (T4)",
             responses={200: {"description": "The same `arrangement_id` again."}, **PENDING,
                        **problems(409)})
async def start_coworking(
    caller: Annotated[Caller, Depends(permitted(Action.START_COWORKING))], body: CoworkingIn,
    response: Response, session: SessionDep, client: TemporalDep, settings: SettingsDep,
) -> RequestView | JSONResponse:
    """Reviewed by the end of the day three months after `started_on` (default: today in
    Perth), then three months after each review; both districts' teams are reminded five
    working days before. Repeat-safe on `arrangement_id` (409 for another arrangement
    under the same id); 202 with `Location` while the workflow has not recorded it."""
    check_own_district(caller, body.from_district, body.case_id)
    try:
        policy.check_districts(body.from_district, body.to_district)
    except PolicyViolation as exc:
        raise PolicyViolation("T4", exc.field, exc.message) from exc
    today = perth_today()
    if body.started_on is not None and body.started_on > today:
        raise Unprocessable("an arrangement is recorded once it has started (today or "
                            "earlier, in Perth)", field="started_on", rule="T4")
    same: dict[str, Any] = {"case_id": body.case_id, "from_district": body.from_district,
                            "to_district": body.to_district}
    if body.started_on is not None:  # left out on a repeat: whatever the first one said
        same["started_on"] = body.started_on
    started = await start_request(
        client, CoworkingWorkflow.run,
        CoworkingInput(arrangement_id=body.arrangement_id, case_id=body.case_id,
                       from_district=body.from_district, to_district=body.to_district,
                       started_on=body.started_on or today,
                       opened_by=caller.principal.subject),
        coworking_workflow_id(body.arrangement_id), settings.temporal_task_queue, same)
    return await answer_started(session, response, started, COWORKING, body.arrangement_id,
                                f"/coworking/{body.arrangement_id}")


@router.get("/coworking", response_model=RequestPage,
            summary="List co-working arrangements (T4)", responses=problems())
async def list_coworking(
    caller: Annotated[Caller, Depends(permitted(Action.LIST_COWORKING))], session: SessionDep,
    status: Annotated[Literal["active", "ended"] | None, Query()] = None,
    district: Id | None = None,
    escalated: Annotated[bool | None, Query(description="A review was ever overdue.")
                         ] = None,
    limit: LIMIT = DEFAULT_LIMIT, cursor: CURSOR = None,
) -> RequestPage:
    """Soonest review first (ended ones last), then arrangement id."""
    return await list_requests(session, caller, COWORKING, status, district, escalated,
                               limit, cursor)


@router.get("/coworking/{arrangement_id}", response_model=RequestView,
            summary="A co-working arrangement with its next review and timeline (T4)",
            responses=problems(404))
async def read_coworking(
    caller: Annotated[Caller, Depends(permitted(Action.READ_COWORKING))],
    arrangement_id: str, session: SessionDep) -> RequestView:
    return await request_view(session, await visible_request(session, caller, COWORKING,
                                                             arrangement_id))


@router.post("/coworking/{arrangement_id}/reviews", status_code=201,
             response_model=ChangeView, summary="Record a co-working review (T4)",
             responses={200: {"description": "The same `review_id` again."},
                        **problems(404, 409)})
async def record_coworking_review(
    caller: Annotated[Caller, Depends(permitted(Action.RECORD_COWORKING_REVIEW))],
    arrangement_id: str, body: CoworkingReviewIn, response: Response, session: SessionDep,
    client: TemporalDep,
) -> ChangeView:
    """The review held on `reviewed_on` (default: today in Perth; not before the start or
    the last review, not in the future: 422); the next is due three months after it.
    The notes are stored as a note. Repeat-safe on `review_id`."""
    row = await visible_request(session, caller, COWORKING, arrangement_id, client)
    reviewed_by = actor_id(caller, body.reviewed_by, "reviewed_by")
    notes = NoteDraft(note_id(row.case_id, "coworking_review",
                              f"{arrangement_id}:{body.review_id}"),
                      "coworking_review", body.notes, "notes", arrangement_id)
    message = RecordCoworkingReview(review_id=body.review_id,
                                    reviewed_on=body.reviewed_on or perth_today(),
                                    notes_id=notes.note_id, reviewed_by=reviewed_by)

    async def deliver() -> CoworkingChanged:
        result: CoworkingChanged = await send(
            client, coworking_workflow_id(arrangement_id), CoworkingWorkflow.record_review,
            message, COWORKING, arrangement_id)
        return result

    result = await recorded_with_notes(session, row.case_id, reviewed_by, [notes], deliver)
    if result.duplicate:
        response.status_code = 200
    return ChangeView(id=body.review_id, status=result.status, at=result.at,
                      note_id=notes.note_id, duplicate=result.duplicate)


@router.post("/coworking/{arrangement_id}/end", response_model=ChangeView,
             summary="End a co-working arrangement (T4)", responses=problems(404))
async def end_coworking(
    caller: Annotated[Caller, Depends(permitted(Action.END_COWORKING))], arrangement_id: str,
    body: EndCoworkingIn, session: SessionDep, client: TemporalDep,
) -> ChangeView:
    """No more reviews are due. Repeat-safe: ending an ended arrangement answers its end."""
    row = await visible_request(session, caller, COWORKING, arrangement_id, client)
    if row.closed_at is not None:
        return _ended(row)
    message = EndCoworking(ended_by=actor_id(caller, body.ended_by, "ended_by"))
    try:
        result: CoworkingChanged = await send(
            client, coworking_workflow_id(arrangement_id), CoworkingWorkflow.end, message,
            COWORKING, arrangement_id)
    except ProblemError as exc:
        # Ended (and finished) between the read and the message: the same answer.
        ended = await session.get(DistrictRequestRow, (COWORKING, arrangement_id),
                                  populate_existing=True)
        if exc.status != 409 or ended is None or ended.closed_at is None:
            raise
        return _ended(ended)
    return ChangeView(id=arrangement_id, status=result.status, at=result.at)


def _ended(row: DistrictRequestRow) -> ChangeView:
    assert row.closed_at is not None
    return ChangeView(id=row.request_id, status=row.status, at=row.closed_at, duplicate=True)
