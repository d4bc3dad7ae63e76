"""What a case carries into its next run (issue 13, item 3): the state continue-as-new
passes on must stay small and stop growing after the first year, however long the
contract (target: 64 KB for ten years of monthly periods). It grew with every period,
about 1.2 KB each, 86% of it the `basis` of the period's three instants -- the
explanation a person reads of why each falls when it does (DESIGN decision 1) -- and
the rest the closed periods themselves, their tasks and the answers to their messages.
The read model already holds all of that, and the case's views read it there
(api/case_views.py), so the next run carries only what its rules still ask:

- no period's `basis`: every period's was recorded when it was planned, and a later
  recording of a period keeps the row's basis for each instant it does not name
  (activities/read_model.py). The workflow never reads a basis; a calendar change
  (R1-R3) or a review (V5) that replans an instant gives it its new one, recorded then.
- no closed period (`closable`): the schedule's prefix of settled periods that await no
  assessment goes into `ClosedPeriods` (due dates, one-letter outcomes, report ids), which
  is what R6, V5 and R4's refusals still read of them. The last period always stays.
- no closed task: only its id and status (`closed_tasks`), so it is never opened again
  and completing it is refused as before.
- answers as lists of values, not dicts of fields (workflows/idempotency.py).

Settled: the period has ended (R5), its outcome is decided (R5: success or one of the
failures), it awaits no resubmission (R4), and no open task names it. A settled period's
instants are never moved again: a reschedule (V5) and a calendar change (R1-R3) replan
only instants still to come. Pure: no I/O, no Temporal.
"""

from __future__ import annotations

from datetime import datetime

from workflows import policy
from workflows.idempotency import compact_answers
from workflows.policy import Outcome
from workflows.state import CLOSED_OUTCOME_LETTERS, CaseState, PeriodState


def settled(state: CaseState, period: PeriodState, now: datetime) -> bool:
    return (period.ends_at <= now and period.outcome != Outcome.PENDING
            and not period.awaiting_resubmission
            and not any(t.period_index == period.index for t in state.open_tasks()))


def closable(state: CaseState, period: PeriodState, now: datetime) -> bool:
    """Settled, and its last report (if any) finally assessed: no message can change the
    period any more -- a new report is refused (ended), an assessment too (R4: already
    assessed, or a newer report) -- so the state need not keep it whole."""
    return settled(state, period, now) and (
        not period.reports or period.final_assessment is not None)


def close_periods(state: CaseState, now: datetime) -> None:
    """Move the prefix of closable periods into `state.closed` (never the last period)."""
    closed = state.closed
    while len(state.periods) > 1 and closable(state, state.periods[0], now):
        period = state.periods.pop(0)
        closed.count += 1
        closed.due_dates.append(period.due_date)
        closed.outcomes += CLOSED_OUTCOME_LETTERS[period.outcome]
        final = period.final_assessment or ""
        for report in period.reports:
            closed.reports[report.report_id] = (
                final if report is period.reports[-1] else "")


def compact_for_next_run(state: CaseState, now: datetime) -> None:
    """What the next run carries (see the module): no basis, closed periods and tasks in
    their compact forms, answers as lists."""
    for period in state.periods:
        period.basis = {}
    if state.r6_streaks is None:
        # R6 as counted before `r6-undecided-periods` (a run of that code ends here): the
        # streaks it triggered, read from the periods it counted before any is closed --
        # what the next run's first tally would read of them (CaseEngine._tally_streaks).
        state.r6_streaks = policy.legacy_triggered_streaks(
            [(p.index, Outcome(p.outcome)) for p in state.periods if p.streak_counted])
    close_periods(state, now)
    for task in [t for t in state.tasks if t.status != "open"]:
        state.closed_tasks[task.task_id] = task.status
    state.tasks = state.open_tasks()
    compact_answers(state)
