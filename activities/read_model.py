"""The read-model activity: writes a case's decided effects in one transaction.

Every row is written by natural key (upsert), so a retried activity or a replayed
workflow leaves the tables exactly as one run would. Notices are written to the outbox
in the same transaction, then delivered (activities/notifications.py).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.contacts import record_contacts
from activities.notifications import Deliverer, LogDeliverer, deliver_undelivered
from activities.upsert import upsert
from models.effects import AccessEntry, CaseEffects
from models.tables import (
    AccessLogRow,
    AuditRow,
    CaseRow,
    NotificationRow,
    PeriodRow,
    TaskRow,
    TimelineEventRow,
)
from workflows.deadlines import DEADLINE_KINDS


async def write_effects(session: AsyncSession, effects: CaseEffects) -> None:
    case = effects.case
    now = datetime.now(UTC)
    case_row = {
        "case_id": case.case_id,
        "agency_id": case.agency_id,
        "jurisdiction": case.jurisdiction,
        "status": case.status,
        "workflow_id": case.workflow_id,
        "contract_start": case.contract_start,
        "contract_end": case.contract_end,
        "order_expiry": case.order_expiry,
        "next_deadline": case.next_deadline,
        "next_deadline_kind": case.next_deadline_kind,
        "overdue": case.overdue,
        "consecutive_failures": case.consecutive_failures,
        "audit_open": case.audit_open,
        "terms_fingerprint": case.terms_fingerprint,
        "snapshot": case.summary,
        "reads_recorded_contacts": case.reads_recorded_contacts,
        "created_at": now,
        "updated_at": case.updated_at,
        "closed_at": case.closed_at,
    }
    await upsert(session, CaseRow, [case_row], ["case_id"],
                 [c for c in case_row if c not in ("case_id", "created_at")])
    # K1: contacts that came to the workflow as messages (issue 13: the figures on the
    # case's row count every contact, however it was recorded).
    await record_contacts(session, case.case_id, effects.contacts)
    if effects.removed_periods:
        await session.execute(delete(PeriodRow).where(
            PeriodRow.case_id == case.case_id,
            PeriodRow.period_index.in_(effects.removed_periods)))
    kept = await _recorded_bases(session, case.case_id,
                                 [p.index for p in effects.periods
                                  if not DEADLINE_KINDS <= set(p.state.get("basis") or {})])
    await upsert(session, PeriodRow, [
        {
            "case_id": case.case_id,
            "period_index": p.index,
            "due_date": p.due_date,
            "follow_up_at": p.follow_up_at,
            "overdue_at": p.overdue_at,
            "escalation_at": p.escalation_at,
            "report_id": p.report_id,
            "report_received_at": p.report_received_at,
            "assessment": p.assessment,
            "outcome": p.outcome,
            "state": ({**p.state, "basis": {**kept[p.index], **(p.state.get("basis") or {})}}
                      if p.index in kept else p.state),
            "updated_at": case.updated_at,
        }
        for p in effects.periods
    ], ["case_id", "period_index"])
    await upsert(session, TimelineEventRow, [
        {"event_key": e.event_key, "case_id": case.case_id, "agency_id": case.agency_id,
         "occurred_at": e.occurred_at, "kind": e.kind, "rule": e.rule, "detail": e.detail}
        for e in effects.timeline
    ], ["event_key"], update=[])
    await upsert(session, NotificationRow, [
        {"notification_key": n.notification_key, "case_id": case.case_id,
         "agency_id": case.agency_id, "kind": n.kind, "rule": n.rule,
         "recipient": n.recipient, "subject": n.subject, "created_at": n.created_at,
         "delivered_at": None, "attempts": 0, "last_error": None}
        for n in effects.notifications
    ], ["notification_key"], update=[])
    await upsert(session, TaskRow, [
        {"task_id": t.task_id, "case_id": case.case_id, "agency_id": case.agency_id,
         "kind": t.kind, "rule": t.rule, "title": t.title, "assignee_role": t.assignee_role,
         "status": t.status, "due_at": t.due_at, "created_at": t.created_at,
         "completed_at": t.completed_at, "completed_by": t.completed_by or None}
        for t in effects.tasks
    ], ["task_id"])
    await upsert(session, AuditRow, [
        {"audit_id": f"{case.case_id}:{a.audit_id}", "case_id": case.case_id,
         "agency_id": case.agency_id, "rule": a.rule, "trigger": a.trigger,
         "status": a.status, "opened_at": a.opened_at,
         "findings": {"findings_ids": a.findings_ids}, "closed_at": a.closed_at}
        for a in effects.audits
    ], ["audit_id"])
    await write_access(session, effects.access)


async def _recorded_bases(session: AsyncSession, case_id: str, indexes: list[int]
                          ) -> dict[int, Any]:
    """The basis already recorded for each of these periods, which the workflow no longer
    carries whole (workflows/compaction.py): a later recording of a period keeps the
    row's basis of every instant it does not name (a calendar change names only those it
    moved, R1-R3)."""
    if not indexes:
        return {}
    rows = await session.execute(select(PeriodRow.period_index, PeriodRow.state).where(
        PeriodRow.case_id == case_id, PeriodRow.period_index.in_(indexes)))
    return {index: state["basis"] for index, state in rows
            if isinstance(state, dict) and state.get("basis")}


async def write_access(session: AsyncSession, entries: list[AccessEntry]) -> None:
    """Issue 10: access-log rows for messages refused at the workflow's door. The path
    names the refusal's own entry, so a retried activity adds no second row."""
    for entry in entries:
        if await session.scalar(select(AccessLogRow.id).where(
                AccessLogRow.case_id == entry.case_id[:64],
                AccessLogRow.path == entry.path[:500]).limit(1)) is not None:
            continue
        session.add(AccessLogRow(
            at=entry.at, subject=entry.subject[:256], roles=(entry.roles or None) and
            entry.roles[:200], agency_id=entry.agency_id and entry.agency_id[:64],
            method=entry.method[:8], path=entry.path[:500], action=entry.action,
            case_id=entry.case_id[:64], status_code=entry.status_code,
            outcome=entry.outcome))


FIRST_DELIVERY_BUDGET_SECONDS = 30.0
"""The activity's first attempts stop well inside its two-minute limit (a hanging
endpoint takes its timeout per notice); what is left goes out by redelivery."""

LOCAL_DELIVERY_BUDGET_SECONDS = 3.0
"""Issue 13: as a local activity the recording runs inside the case's workflow task, which
Temporal gives ten seconds before it must be extended: first deliveries there stop after
a few seconds, and a slow endpoint's notices go out by redelivery instead."""

HEARTBEAT_INTERVAL_SECONDS = 1.0
"""How often the recording activity tells Temporal it is alive; well inside the
workflow's `RECORDING_HEARTBEAT_TIMEOUT` (workflows/case_contract.py)."""


@asynccontextmanager
async def heartbeating(interval_seconds: float = HEARTBEAT_INTERVAL_SECONDS
                       ) -> AsyncIterator[None]:
    """Heartbeat in the background while the block runs (issue 18). A worker that dies
    mid-recording stops heartbeating, so Temporal retries the activity on another worker
    after the short heartbeat timeout instead of waiting out the two-minute limit with
    the case stalled; a live one that is merely slow (a webhook taking its time) keeps
    its attempt."""

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(interval_seconds)

    if activity.info().is_local:  # a local activity has no heartbeat (issue 13)
        yield
        return
    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


def recording_claim_token() -> str:
    """The outbox claim of this recording activity (the same for every attempt of it):
    a retry after a worker died takes over what the dead attempt had claimed and sends
    it at once -- at most once more -- rather than after the claim's lease."""
    info = activity.info()
    name = f"record_case_effects:{info.workflow_id}:{info.workflow_run_id}:{info.activity_id}"
    return hashlib.sha256(name.encode()).hexdigest()[:32]


class ReadModelActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 deliverer: Deliverer | None = None) -> None:
        self._sessions = sessions
        self._deliverer = deliverer or LogDeliverer()

    @activity.defn(name="record_case_effects")
    async def record_case_effects(self, effects: CaseEffects) -> int:
        """Write the batch, then try its notices once; returns how many were delivered.
        Only writing can fail the activity: an undelivered notice waits for redelivery
        (activities/notifications.py) instead of holding the workflow here. Notices are
        claimed before they are sent, so a redelivery round running at the same moment
        never sends them too (issue 18)."""
        async with heartbeating():
            async with self._sessions() as session:
                await write_effects(session, effects)
                await session.commit()
            keys = [n.notification_key for n in effects.notifications]
            async with self._sessions() as session:
                return await deliver_undelivered(
                    session, self._deliverer, keys,
                    budget_seconds=(LOCAL_DELIVERY_BUDGET_SECONDS if activity.info().is_local
                                    else FIRST_DELIVERY_BUDGET_SECONDS),
                    claim_token=recording_claim_token())
