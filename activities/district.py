"""Activities of the district request workflows (DOMAIN T1-T4): their deadlines from the
AU-WA calendar, and recording what they decided.

`district_deadlines` reads the jurisdiction's declared closure days and counts working
days with the pure rules of workflows/working_days.py; its answer is recorded in the
workflow's history (DESIGN decision 1), so a new `holidays` release never makes a running
request replay differently. `record_request_effects` writes the request's row, its
timeline and its notices in one transaction by natural key (a retry writes nothing
twice), then tries the notices once; the outbox's redelivery does the rest, as for cases.
"""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.notifications import Deliverer, LogDeliverer, deliver_undelivered
from activities.read_model import FIRST_DELIVERY_BUDGET_SECONDS, heartbeating, write_access
from activities.upsert import upsert
from models.district import DeadlinesRequest, RequestDeadline, RequestEffects
from models.tables import (
    CalendarClosureRow,
    DistrictRequestEventRow,
    DistrictRequestRow,
    NotificationRow,
)
from workflows.business_calendar import BusinessCalendar, CalendarSpec, closure_scopes
from workflows.working_days import deadline_for

CP_AGENCY = ""
"""Notices between districts are CP's own work: no agency's (C7: an agency token never
lists them, since its agency id is never empty)."""


def deadlines_for(request: DeadlinesRequest, declared_closures: list[date]
                  ) -> list[RequestDeadline]:
    """Pure part: each spec on the jurisdiction's calendar plus its declared closures."""
    calendar = BusinessCalendar(CalendarSpec(
        jurisdiction=request.jurisdiction, time_zone=request.time_zone,
        extra_closures=tuple(sorted(set(declared_closures)))))
    return [deadline_for(spec, request.counted_from, calendar) for spec in request.specs]


async def write_request_effects(session: AsyncSession, effects: RequestEffects) -> None:
    await write_access(session, effects.access)
    entry = effects.request
    if entry is None:
        return
    row = {
        "kind": entry.kind, "request_id": entry.request_id, "case_id": entry.case_id,
        "from_district": entry.from_district, "to_district": entry.to_district,
        "status": entry.status, "stage": entry.stage, "child_in_care": entry.child_in_care,
        "workflow_id": entry.workflow_id, "next_deadline": entry.next_deadline,
        "next_deadline_kind": entry.next_deadline_kind, "escalated": entry.escalated,
        "snapshot": entry.summary, "opened_at": entry.opened_at,
        "updated_at": entry.updated_at, "closed_at": entry.closed_at,
    }
    await upsert(session, DistrictRequestRow, [row], ["kind", "request_id"])
    await upsert(session, DistrictRequestEventRow, [
        {"event_key": e.event_key, "kind": entry.kind, "request_id": entry.request_id,
         "case_id": entry.case_id, "occurred_at": e.occurred_at, "event": e.kind,
         "rule": e.rule, "detail": e.detail}
        for e in effects.timeline
    ], ["event_key"], update=[])
    await upsert(session, NotificationRow, [
        {"notification_key": n.notification_key, "case_id": entry.case_id,
         "agency_id": CP_AGENCY, "kind": n.kind, "rule": n.rule,
         "recipient": n.recipient, "subject": n.subject, "created_at": n.created_at,
         "delivered_at": None, "attempts": 0, "last_error": None}
        for n in effects.notifications
    ], ["notification_key"], update=[])


class DistrictActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 deliverer: Deliverer | None = None) -> None:
        self._sessions = sessions
        self._deliverer = deliverer or LogDeliverer()

    @activity.defn(name="district_deadlines")
    async def district_deadlines(self, request: DeadlinesRequest) -> list[RequestDeadline]:
        """T1-T4 deadlines counted on the AU-WA calendar and its declared closures."""
        async with self._sessions() as session:
            rows = await session.scalars(select(CalendarClosureRow.day).where(
                CalendarClosureRow.jurisdiction.in_(closure_scopes(request.jurisdiction))))
            declared = sorted(set(rows))
        return deadlines_for(request, list(declared))

    @activity.defn(name="record_request_effects")
    async def record_request_effects(self, effects: RequestEffects) -> int:
        """Write the batch, then try its notices once; returns how many were delivered."""
        async with heartbeating():
            async with self._sessions() as session:
                await write_request_effects(session, effects)
                await session.commit()
            keys = [n.notification_key for n in effects.notifications]
            async with self._sessions() as session:
                return await deliver_undelivered(
                    session, self._deliverer, keys,
                    budget_seconds=FIRST_DELIVERY_BUDGET_SECONDS,
                    claim_token=_claim_token())


def _claim_token() -> str:
    """The outbox claim of this recording (the same for every attempt of it)."""
    info = activity.info()
    name = (f"record_request_effects:{info.workflow_id}:{info.workflow_run_id}:"
            f"{info.activity_id}")
    return hashlib.sha256(name.encode()).hexdigest()[:32]

