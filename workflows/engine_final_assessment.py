"""A report left unassessed after its period (R4, for R5/R6; issue 9).

A period whose on-time report still awaits a final assessment (adequate or of
inadequate quality) is undecided: R5 cannot judge it, and R6 skips it until it is
decided (policy.tally_streaks). So that the wait never goes unnoticed, it becomes
work: when the period ends, the practitioner gets a task to assess the report; if it
is still unassessed FINAL_ASSESSMENT_GRACE_DAYS after the period ended, the team
manager is told, once (policy.final_assessment_escalation_at). The task finishes when
the period is decided. A period that ends with the contract gets neither: closure (E2)
already lists every report awaiting assessment, and no timer runs after the end.

Plain functions over the `CaseEngine` (no Temporal imports, no clock), like the rest of
the engine; only runs that follow the `r6-undecided-periods` patch do any of this.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from workflows import policy
from workflows.state import PeriodState

if TYPE_CHECKING:
    from workflows.engine import CaseEngine

TASK_KIND = "final_assessment"
NOTICE_KIND = "final_assessment_overdue"


def task_id(engine: CaseEngine, period: PeriodState) -> str:
    return f"{engine.case_id}:period-{period.index}:{TASK_KIND}"


def escalation_awaited(engine: CaseEngine, period: PeriodState) -> bool:
    """An on-time report awaits its final assessment (the period is undecided, and no
    resubmission is awaited, which would make it MISSING at its end), the period ends
    before the contract does, and the team manager has not been told yet. The engine's
    `wakeups` and `await_final_assessment` both ask this, so a passed instant is always
    acted on and never left as a wakeup."""
    contract_end = engine.contract_end_at()
    return (engine.undecided_periods_skipped and bool(period.reports)
            and period.outcome == policy.Outcome.PENDING
            and not period.awaiting_resubmission
            and period.assessment_escalated_at is None
            and contract_end is not None and period.ends_at < contract_end)


def await_final_assessment(engine: CaseEngine, period: PeriodState, now: datetime) -> None:
    """Once the period has ended undecided: the practitioner's task (due when the team
    manager would be told), then, when that instant has passed, the notice."""
    if now < period.ends_at or not escalation_awaited(engine, period):
        return
    due = period.due_date.isoformat()
    escalate_at = policy.final_assessment_escalation_at(period.ends_at)
    engine.open_task(  # idempotent: an existing task (open or done) is kept as it is
        task_id(engine, period), TASK_KIND, "R4",
        f"The period of the report due {due} has ended with the report awaiting a final "
        "assessment: assess it adequate or of inadequate quality (R5 and R6 wait for it)",
        "practitioner", now, due_at=escalate_at, period_index=period.index,
    )
    if now < escalate_at:
        return
    period.assessment_escalated_at = now
    key = f"period-{period.index}:{NOTICE_KIND}"
    engine.pending.notify(
        engine.case_id, key, now, NOTICE_KIND, "R4", "team_manager",
        f"The progress report due {due} still awaits a final assessment "
        f"{policy.FINAL_ASSESSMENT_GRACE_DAYS} days after its period ended")
    engine.pending.event(engine.case_id, key, now, NOTICE_KIND, "R4",
                         period_index=period.index, due_date=due)
    engine.pending.period_indexes.add(period.index)


def finish_task(engine: CaseEngine, period: PeriodState, now: datetime) -> None:
    """The period is decided, so the task to assess its report is done."""
    wanted = task_id(engine, period)
    for task in engine.state.open_tasks():
        if task.task_id == wanted:
            engine.finish_task(task, now, "workflow: period decided")
