"""One-off closure days: business days (R1-R3) change after cases have started."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Response
from sqlalchemy import ColumnElement, or_, select

from activities.upsert import upsert
from api.case_gateway import GatewayDep
from api.closures import closure_changed
from api.deps import SessionDep
from api.errors import Conflict
from api.openapi import problems
from api.permissions import Action, permitted
from api.registration import check_jurisdiction
from api.schemas import ClosureDayIn, ClosureDayView
from models.tables import CalendarClosureRow, CaseRow
from workflows.case_contract import CaseContractWorkflow
from workflows.state import CLOSED

router = APIRouter(tags=["calendar"])

SIGNAL_CONCURRENCY = 16


def _observing(declared_for: str) -> ColumnElement[bool]:
    """Cases that observe a closure declared for `declared_for`: its own, and for a
    country its states' too (the converse of `closure_scopes`)."""
    same = CaseRow.jurisdiction == declared_for
    if "-" in declared_for:
        return same
    return or_(same, CaseRow.jurisdiction.startswith(f"{declared_for}-"))


@router.post(
    "/calendar/closures", status_code=201, response_model=ClosureDayView,
    dependencies=[Depends(permitted(Action.DECLARE_CLOSURE_DAY))],
    summary="Declare a closure day; running cases recompute their deadlines",
    responses={200: {"description": "The same day again: already declared."},
               **problems(409)},
)
async def declare_closure(
    body: ClosureDayIn, response: Response, session: SessionDep, gateway: GatewayDep,
) -> ClosureDayView:
    """Stored for the schedule activity (new cases count it at once), then every running
    case of the jurisdiction -- for a country ("AU"), of each of its states too -- is
    told (`calendar_changed`) to recompute the deadlines that have not passed; what was
    already sent stays sent. Repeat-safe on (jurisdiction, day): a repeat signals again,
    which the workflows ignore, so a repeat also finishes a declaration interrupted
    half-way."""
    check_jurisdiction(body.jurisdiction)
    key = (body.jurisdiction, body.day)
    existing = await session.get(CalendarClosureRow, key)
    if existing is None:
        await upsert(session, CalendarClosureRow, [{
            "jurisdiction": body.jurisdiction, "day": body.day, "name": body.name,
            "created_at": datetime.now(UTC)}], ["jurisdiction", "day"], update=[])
        await session.commit()
        stored = await session.get(CalendarClosureRow, key)
        assert stored is not None
    else:
        stored = existing
        response.status_code = 200
    if stored.name != body.name:
        raise Conflict(f"{body.day} is already declared for {body.jurisdiction} as "
                       f"{stored.name!r}.", field="name")
    running = (await session.scalars(select(CaseRow.case_id).where(
        _observing(body.jurisdiction), CaseRow.status != CLOSED))).all()
    signal = closure_changed(body.jurisdiction, body.day)
    limit = asyncio.Semaphore(SIGNAL_CONCURRENCY)

    async def tell(case_id: str) -> bool:
        async with limit:
            return await gateway.signal(case_id, CaseContractWorkflow.calendar_changed, signal)

    told = await asyncio.gather(*(tell(case_id) for case_id in running))
    return ClosureDayView(jurisdiction=stored.jurisdiction, day=stored.day, name=stored.name,
                          created_at=stored.created_at, signalled_cases=sum(told),
                          duplicate=existing is not None)
