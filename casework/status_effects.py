"""The read-model rows a case's status implies, as the `CaseEffects` the workflow's own
`record_case_effects` activity writes (models/effects.py).

`casework reconcile` compares these with the tables and, to repair drift, writes them
with the activity's own `write_effects`, so a repaired row is exactly what the
workflow would have written. Periods and summary are built by the workflow's own
(pure) helpers, so the two cannot disagree about what a row should say.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from models.effects import AuditEntry, CaseEffects, CaseEntry, PeriodEntry, TaskEntry
from workflows.case_contract import CaseContractWorkflow, workflow_id_for
from workflows.state import CaseState, CaseStatus, PeriodState


def period_entry(period: PeriodState) -> PeriodEntry:
    # A staticmethod with no Temporal calls: safe outside the workflow.
    return CaseContractWorkflow._period_entry(period)


def case_summary(state: CaseState) -> dict[str, Any]:
    """The `cases.snapshot` (reviews, plan versions, contacts). `_summary` reads only
    `self.state`, so it runs on a stand-in for the workflow instance."""
    stand_in = cast(CaseContractWorkflow, SimpleNamespace(state=state))
    return CaseContractWorkflow._summary(stand_in)


def case_entry(status: CaseStatus, now: datetime) -> CaseEntry:
    state, terms = status.state, status.state.terms
    return CaseEntry(
        case_id=terms.case_id, agency_id=terms.agency_id, jurisdiction=terms.jurisdiction,
        status=state.status, workflow_id=workflow_id_for(terms.case_id),
        terms_fingerprint=state.terms_fingerprint, contract_start=terms.contract_start,
        contract_end=terms.contract_end, order_expiry=terms.order_expiry,
        next_deadline=status.next_deadline, next_deadline_kind=status.next_deadline_kind,
        overdue=status.overdue, consecutive_failures=state.consecutive_failures,
        audit_open=bool(state.open_audits()), updated_at=now, closed_at=state.closed_at,
        summary=case_summary(state),
    )


def effects_from_status(status: CaseStatus, now: datetime,
                        stale_period_indexes: set[int] | None = None) -> CaseEffects:
    """Every row of the case that the status determines; no timeline or notifications
    (those are facts recorded once, not state)."""
    state = status.state
    return CaseEffects(
        case=case_entry(status, now),
        periods=[period_entry(p) for p in state.periods],
        tasks=[TaskEntry(task_id=t.task_id, kind=t.kind, rule=t.rule, title=t.title,
                         assignee_role=t.assignee_role, status=t.status,
                         created_at=t.created_at, due_at=t.due_at,
                         completed_at=t.completed_at, completed_by=t.completed_by)
               for t in state.tasks],
        audits=[AuditEntry(audit_id=a.audit_id, rule=a.rule, trigger=a.trigger,
                           status=a.status, opened_at=a.opened_at,
                           findings_ids=list(a.findings_ids), closed_at=a.closed_at)
                for a in state.audits],
        removed_periods=sorted(stale_period_indexes or set()),
    )
