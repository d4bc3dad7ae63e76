"""`casework reconcile` for the requests between districts (T1-T4): one the read model
shows open whose workflow was ended from outside -- terminated, reset away, timed out or
failed, which workflow code cannot refuse (a cancellation it refuses, issue 10 review) --
has no deadline left to fire. It is reported, and the repair marks it as a case is
(casework/reconcile.py): a `workflow_ended` entry on the request's timeline naming the
workflow's status, and no next deadline in its row. The request stays as it was
otherwise: reopening it is a person's decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError

from activities.upsert import upsert
from casework.reconcile import ENDED_FROM_OUTSIDE
from models.tables import DistrictRequestEventRow, DistrictRequestRow


@dataclass
class EndedRequest:
    """An open request between districts whose workflow has ended from outside."""

    kind: str
    request_id: str
    workflow_id: str
    workflow_status: str
    run_id: str
    marked: bool = False


async def ended_requests(client: Client, sessions: async_sessionmaker[AsyncSession]
                         ) -> list[EndedRequest]:
    """Every request the read model shows open whose workflow ended from outside."""
    async with sessions() as session:
        open_rows = (await session.execute(select(
            DistrictRequestRow.kind, DistrictRequestRow.request_id,
            DistrictRequestRow.workflow_id).where(DistrictRequestRow.closed_at.is_(None))
            .order_by(DistrictRequestRow.kind, DistrictRequestRow.request_id))).all()
    found = []
    for kind, request_id, workflow_id in open_rows:
        try:
            description = await client.get_workflow_handle(workflow_id).describe()
        except RPCError:
            continue  # no workflow to compare with (history gone after retention)
        if description.status in ENDED_FROM_OUTSIDE:
            found.append(EndedRequest(kind, request_id, workflow_id,
                                      ENDED_FROM_OUTSIDE[description.status],
                                      description.run_id))
    return found


async def mark_ended_request(session: AsyncSession, ended: EndedRequest) -> None:
    """Say on the request what happened to its workflow (repeat-safe) and clear the next
    deadline its row promised."""
    row = await session.get(DistrictRequestRow, (ended.kind, ended.request_id))
    if row is None:
        return
    now = datetime.now(UTC)
    await upsert(session, DistrictRequestEventRow, [{
        "event_key": f"{ended.kind}:{ended.request_id}:workflow_ended:{ended.run_id}",
        "kind": ended.kind, "request_id": ended.request_id, "case_id": row.case_id,
        "occurred_at": now, "event": "workflow_ended", "rule": None,
        "detail": {"workflow_status": ended.workflow_status, "run_id": ended.run_id,
                   "found_by": "reconcile"}}], ["event_key"], update=[])
    await session.execute(update(DistrictRequestRow).where(
        DistrictRequestRow.kind == ended.kind,
        DistrictRequestRow.request_id == ended.request_id).values(
        next_deadline=None, next_deadline_kind=None, updated_at=now))
    await session.commit()
    ended.marked = True


async def reconcile_requests(client: Client, sessions: async_sessionmaker[AsyncSession], *,
                             repair: bool = True, say: Callable[[str], None] = print
                             ) -> list[EndedRequest]:
    """Report (and unless `repair` is False, mark) the open requests whose workflow ended."""
    found = await ended_requests(client, sessions)
    for ended in found:
        say(f"{ended.kind} {ended.request_id}: its workflow {ended.workflow_id} was "
            f"{ended.workflow_status} (run {ended.run_id}) while the read model shows it "
            "open: no deadline of it will fire")
        if repair:
            async with sessions() as session:
                await mark_ended_request(session, ended)
            say(f"{ended.kind} {ended.request_id}: marked (timeline `workflow_ended`, no "
                "next deadline)")
    say(f"reconcile: {len(found)} request(s) between districts with an ended workflow"
        f"{' (marked)' if repair and found else ''}")
    return found
