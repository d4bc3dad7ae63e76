"""The read-model rows a case's status implies, as the `CaseEffects` the workflow's own
`record_case_effects` activity writes (models/effects.py).

`casework reconcile` compares these with the tables and, to repair drift, writes them
with the activity's own `write_effects`, so a repaired row is exactly what the
workflow would have written: both build rows with workflows/effects_builder.py.
"""

from __future__ import annotations

from datetime import datetime

from models.effects import CaseEffects
from workflows import effects_builder as rows
from workflows.case_contract import workflow_id_for
from workflows.state import CaseStatus


def effects_from_status(status: CaseStatus, now: datetime,
                        stale_period_indexes: set[int] | None = None) -> CaseEffects:
    """Every row of the case that the status determines; no timeline or notifications
    (those are facts recorded once, not state)."""
    state = status.state
    return CaseEffects(
        case=rows.case_entry(status, workflow_id=workflow_id_for(status.case_id), now=now),
        periods=[rows.period_entry(p) for p in state.periods],
        tasks=[rows.task_entry(t) for t in state.tasks],
        audits=[rows.audit_entry(a) for a in state.audits],
        removed_periods=sorted(stale_period_indexes or set()),
    )
