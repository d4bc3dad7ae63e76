"""`casework reconcile`: check that the read model agrees with every open case's own
status, and repair what drifted.

The read model is written only by the workflow's idempotent activity, so it should
always agree (periods and tasks closed before a case's current run, issue 13, are in
the rows only and are not compared); drift means a lost write, a manual edit or a bug.
For every case the read model shows open whose workflow is running (or has completed
since: its last record lost), the workflow's status is compared with the case, period,
task and audit rows; where they differ, the rows are rewritten from the status through
the activity's own `write_effects` (casework/status_effects.py).

A case may move on between the query and the comparison (a report arriving, a timer
firing), which would look like drift: a difference is therefore confirmed with a second
query before anything is written, and the repair uses that second answer.

A case whose workflow was ended from outside -- terminated (`temporal workflow
terminate`, which no workflow code can refuse), cancelled or failed -- while the read
model still shows it open has no deadline left to fire (issue 10 review): it is reported
as `ended`, and the repair marks it (a `workflow_ended` timeline entry naming the
workflow's status, and no next deadline in its row) so that lists stop promising one.
Its rows are left as they are otherwise: the case did not close (E2), and reviving it is
a person's decision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from activities.read_model import write_effects
from activities.upsert import upsert
from casework.status_effects import effects_from_status
from models.effects import CaseEffects
from models.tables import AuditRow, CaseRow, PeriodRow, TaskRow, TimelineEventRow
from workflows.case_contract import CaseContractWorkflow, workflow_id_for
from workflows.state import CLOSED, CaseStatus

CASE_FIELDS = ("status", "next_deadline", "next_deadline_kind", "overdue",
               "consecutive_failures", "audit_open")
PERIOD_FIELDS = ("due_date", "follow_up_at", "overdue_at", "escalation_at", "report_id",
                 "report_received_at", "assessment", "outcome")


@dataclass
class CaseDrift:
    case_id: str
    differences: list[str] = field(default_factory=list)
    repaired: bool = False


ENDED_FROM_OUTSIDE: dict[WorkflowExecutionStatus, str] = {
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.CANCELED: "cancelled",
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.TIMED_OUT: "timed_out",
}
"""Workflow statuses no open case should have: its workflow ended without closing it."""


@dataclass
class EndedCase:
    """An open case whose workflow has ended (terminated, cancelled, failed, timed out)."""

    case_id: str
    workflow_status: str
    run_id: str
    marked: bool = False


@dataclass
class ReconcileReport:
    checked: int = 0
    skipped: list[str] = field(default_factory=list)
    drifted: list[CaseDrift] = field(default_factory=list)
    ended: list[EndedCase] = field(default_factory=list)


def _same(left: Any, right: Any) -> bool:
    """Equal, with instants compared in UTC (SQLite returns them naive, as written)."""
    if isinstance(left, datetime) and isinstance(right, datetime):
        return _utc(left) == _utc(right)
    return bool(left == right)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    return value.isoformat() if isinstance(value, date) else repr(value)


def differences(expected: CaseEffects, case: CaseRow | None, periods: list[PeriodRow],
                tasks: list[TaskRow], audits: list[AuditRow]) -> list[str]:
    """What the rows say that the status does not, one line each."""
    found: list[str] = []
    if case is None:
        return ["cases: row missing"]
    for name in CASE_FIELDS:
        want, have = getattr(expected.case, name), getattr(case, name)
        if not _same(want, have):
            found.append(f"cases.{name}: read model {_show(have)}, workflow {_show(want)}")
    rows = {p.period_index: p for p in periods}
    for entry in expected.periods:
        row = rows.pop(entry.index, None)
        if row is None:
            found.append(f"periods[{entry.index}]: row missing")
            continue
        for name in PERIOD_FIELDS:
            want, have = getattr(entry, name), getattr(row, name)
            if not _same(want, have):
                found.append(f"periods[{entry.index}].{name}: read model {_show(have)}, "
                             f"workflow {_show(want)}")
    found.extend(f"periods[{index}]: not in the workflow" for index in sorted(rows))
    task_rows = {t.task_id: t for t in tasks}
    for task in expected.tasks:
        task_row = task_rows.get(task.task_id)
        if task_row is None or task_row.status != task.status:
            have = task_row.status if task_row else "missing"
            found.append(f"tasks[{task.task_id}].status: read model {have}, "
                         f"workflow {task.status}")
    audit_rows = {a.audit_id: a for a in audits}
    for audit in expected.audits:
        audit_row = audit_rows.get(f"{expected.case.case_id}:{audit.audit_id}")
        if audit_row is None or audit_row.status != audit.status:
            have = audit_row.status if audit_row else "missing"
            found.append(f"audits[{audit.audit_id}].status: read model {have}, "
                         f"workflow {audit.status}")
    return found


async def _rows(session: AsyncSession, case_id: str
                ) -> tuple[CaseRow | None, list[PeriodRow], list[TaskRow], list[AuditRow]]:
    case = await session.get(CaseRow, case_id, populate_existing=True)
    periods = (await session.scalars(select(PeriodRow).where(PeriodRow.case_id == case_id)
                                     .execution_options(populate_existing=True))).all()
    tasks = (await session.scalars(select(TaskRow).where(TaskRow.case_id == case_id)
                                   .execution_options(populate_existing=True))).all()
    audits = (await session.scalars(select(AuditRow).where(AuditRow.case_id == case_id)
                                    .execution_options(populate_existing=True))).all()
    return case, list(periods), list(tasks), list(audits)


async def _workflow_status(client: Client, case_id: str) -> CaseStatus | EndedCase | None:
    """The live status of a running workflow; for one that completed since the row was
    last written (its closing record lost), the status it returned; for one ended from
    outside, an `EndedCase`. None otherwise (no workflow)."""
    handle = client.get_workflow_handle_for(CaseContractWorkflow.run, workflow_id_for(case_id))
    try:
        description = await handle.describe()
        if description.status == WorkflowExecutionStatus.RUNNING:
            return await handle.query(CaseContractWorkflow.status)
        if description.status == WorkflowExecutionStatus.COMPLETED:
            return await handle.result()
        if description.status in ENDED_FROM_OUTSIDE:
            return EndedCase(case_id, ENDED_FROM_OUTSIDE[description.status],
                             description.run_id)
    except RPCError:
        return None
    return None


async def _check(client: Client, session: AsyncSession, case_id: str
                 ) -> tuple[CaseStatus, CaseEffects, list[str]] | EndedCase | None:
    status = await _workflow_status(client, case_id)
    if status is None or isinstance(status, EndedCase):
        return status
    case, periods, tasks, audits = await _rows(session, case_id)
    # The periods closed before this run (issue 13) are in the rows only, by design:
    # nothing to compare them with, and not stale.
    periods = [p for p in periods if p.period_index >= status.state.closed.count]
    stale = {p.period_index for p in periods} - {p.index for p in status.state.periods}
    expected = effects_from_status(status, datetime.now(UTC), stale)
    return status, expected, differences(expected, case, periods, tasks, audits)


async def reconcile(client: Client, sessions: async_sessionmaker[AsyncSession], *,
                    repair: bool = True, say: Callable[[str], None] = print,
                    case_ids: Sequence[str] | None = None) -> ReconcileReport:
    """Check every case the read model shows open (or only `case_ids`); repair unless
    `repair` is False."""
    report = ReconcileReport()
    if case_ids is None:
        async with sessions() as session:
            case_ids = (await session.scalars(select(CaseRow.case_id).where(
                CaseRow.status != CLOSED).order_by(CaseRow.case_id))).all()
    for case_id in case_ids:
        async with sessions() as session:
            first = await _check(client, session, case_id)
            if first is None:
                report.skipped.append(case_id)
                continue
            report.checked += 1
            if isinstance(first, EndedCase):
                report.ended.append(first)
                say(f"{case_id}: its workflow was {first.workflow_status} (run "
                    f"{first.run_id}) while the read model shows it open: no deadline of "
                    "it will fire")
                if repair:
                    await mark_ended(session, first)
                    say(f"{case_id}: marked (timeline `workflow_ended`, no next deadline)")
                continue
            if not first[2]:
                continue
            # Confirm with a fresh look: the case may simply have moved on meanwhile.
            second = await _check(client, session, case_id)
            if second is None or isinstance(second, EndedCase) or not second[2]:
                continue
            drift = CaseDrift(case_id, second[2])
            report.drifted.append(drift)
            for line in drift.differences:
                say(f"{case_id}: {line}")
            if repair:
                await write_effects(session, second[1])
                await session.commit()
                drift.repaired = True
                say(f"{case_id}: repaired from the workflow's status")
    say(f"reconcile: {report.checked} case(s) checked, {len(report.drifted)} drifted"
        f"{' and repaired' if repair and report.drifted else ''}, {len(report.ended)} "
        f"with an ended workflow{' (marked)' if repair and report.ended else ''}, "
        f"{len(report.skipped)} without a workflow to compare with")
    return report


async def mark_ended(session: AsyncSession, ended: EndedCase) -> None:
    """Say on the case what happened to its workflow (once per run: repeat-safe), and
    clear the next deadline its row promised, since nothing will fire it."""
    case = await session.get(CaseRow, ended.case_id)
    if case is None:
        return
    now = datetime.now(UTC)
    await upsert(session, TimelineEventRow, [{
        "event_key": f"{ended.case_id}:workflow_ended:{ended.run_id}",
        "case_id": ended.case_id, "agency_id": case.agency_id, "occurred_at": now,
        "kind": "workflow_ended", "rule": None,
        "detail": {"workflow_status": ended.workflow_status, "run_id": ended.run_id,
                   "found_by": "reconcile"}}], ["event_key"], update=[])
    await session.execute(update(CaseRow).where(CaseRow.case_id == ended.case_id).values(
        next_deadline=None, next_deadline_kind=None, updated_at=now))
    await session.commit()
    ended.marked = True
