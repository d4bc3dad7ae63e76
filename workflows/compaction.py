"""What a case carries into its next run (issue 13, item 3): the state continue-as-new
passes on grew with every period, about 1.2 KB each, 86% of it the `basis` of the
period's three instants -- the explanation a person reads of why each falls when it
does (DESIGN decision 1). Once a period is settled nothing in the workflow reads its
basis again, and the read model's period row already holds it, so the next run carries
the period without it; reads fill it back from the row (api/case_views.py
`with_recorded_basis`), and a later recording of the period keeps the row's
(activities/read_model.py).

Settled: the period has ended (R5), its outcome is decided (R5: success or failure), it
awaits no resubmission (R4), and no open task names it. A settled period's instants are
never moved again: a reschedule (V5) and a calendar change (R1-R3) replan only instants
still to come. Pure: no I/O, no Temporal.
"""

from __future__ import annotations

from datetime import datetime

from workflows.state import CaseState, PeriodState

DECIDED = frozenset({"success", "failure"})


def settled(state: CaseState, period: PeriodState, now: datetime) -> bool:
    return (period.ends_at <= now and period.outcome in DECIDED
            and not period.awaiting_resubmission
            and not any(t.period_index == period.index for t in state.open_tasks()))


def compact_for_next_run(state: CaseState, now: datetime) -> None:
    """Drop the basis of every settled period (see the module): the carried state of a
    long contract stops growing by the explanation of each period it has closed."""
    for period in state.periods:
        if period.basis and settled(state, period, now):
            period.basis = {}
