"""The outbox: every notice a case decided to send, to whom, and whether it went."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import SessionDep
from api.listing import notification_list
from api.openapi import problems
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, keyset_page
from api.permissions import Action, Caller, permitted
from api.schemas import NotificationView
from api.schemas.common import Id
from api.schemas.views import NotificationPage
from api.scoping import on_visible_cases
from models.tables import NotificationRow

router = APIRouter(tags=["notifications"])


@router.get("/notifications", response_model=NotificationPage,
            summary="List the outbox, oldest first", responses=problems())
async def list_notifications(
    caller: Annotated[Caller, Depends(permitted(Action.LIST_NOTIFICATIONS))],
    session: SessionDep,
    case_id: Id | None = None,
    agency_id: Id | None = None,
    delivered: Annotated[bool | None, Query(description="Delivered (true) or not yet.")
                         ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")
                      ] = None,
) -> NotificationPage:
    """R1 follow-ups, R2/R3 requests, C6 copies, R6/R7 liaison, V2-V4 reminders ... An
    agency sees only those addressed to it, on its own contracts in force (C7)."""
    statement = on_visible_cases(notification_list(case_id, agency_id, delivered),
                                 NotificationRow.case_id, NotificationRow.agency_id, caller,
                                 addressee=NotificationRow.recipient)
    rows, next_cursor = await keyset_page(
        session, statement, NotificationRow.created_at,
        NotificationRow.notification_key, decode_cursor(cursor), limit)
    return NotificationPage(items=[NotificationView.model_validate(r) for r in rows],
                                  next_cursor=next_cursor)
