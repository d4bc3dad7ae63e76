"""Contracts taken on part-way through (issue 15, `casework import`): an agency moving
to casework brings contracts whose first due dates have passed. Their reports were
handled before casework knew the case, so each period due before the import carries
the outcome (R5) the agency's records give it, instead of casework chasing reports
months late (R1-R3 notices, R2 tasks) and deciding them MISSING -- three of which would
recommend an exception audit (R6) for a contract that may have been on time all along.

A period given its outcome is *settled*: no deadline of it fires, no report counts for
it, its outcome stays as given. The outcomes still count towards R6 with the periods
that follow (two failures given, then one live failure, make three in a row), but a
streak wholly within the given periods is taken as already handled: it recommends no
audit now. Pure: the API checks a registration with it, the workflow applies it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from models.errors import PolicyViolation
from workflows import policy

if TYPE_CHECKING:
    from workflows.engine import CaseEngine

FIELD = "prior_outcomes"
IMPORTABLE_OUTCOMES = ("success", "late", "missing", "inadequate")
"""R5's decided outcomes; `pending` is not one: a period due before today is decided."""


def check_prior_outcomes(due_dates: Sequence[date], outcomes: Sequence[str],
                         today: date) -> None:
    """R5: one outcome, in period order, for each period whose due date is before
    `today` (the case's own today) -- no more, no fewer. None given: a contract as any
    other, whose passed due dates casework then handles itself."""
    if not outcomes:
        return
    for index, outcome in enumerate(outcomes):
        if outcome not in IMPORTABLE_OUTCOMES:
            raise PolicyViolation("R5", f"{FIELD}[{index}]", f"{outcome!r} is not a period "
                                  f"outcome: one of {', '.join(IMPORTABLE_OUTCOMES)}.")
    passed = sum(1 for due in due_dates if due < today)
    if len(outcomes) != passed:
        raise PolicyViolation("R5", FIELD, f"{len(outcomes)} outcome(s) given, but {passed} "
                              f"period(s) of this contract are due before {today}: give "
                              "one for each of those, in order, and none for later ones.")


def check_count(outcomes: Sequence[str], periods: int) -> None:
    """What the workflow can check without a clock: valid outcomes, no more than periods."""
    for index, outcome in enumerate(outcomes):
        if outcome not in IMPORTABLE_OUTCOMES:
            raise PolicyViolation("R5", f"{FIELD}[{index}]", f"{outcome!r} is not a period "
                                  "outcome.")
    if len(outcomes) > periods:
        raise PolicyViolation("R5", FIELD, f"{len(outcomes)} outcome(s) for {periods} "
                              "period(s).")


def apply_prior_outcomes(engine: CaseEngine, outcomes: Sequence[str], now: datetime) -> None:
    """Settle the first periods with the outcomes given (module docstring): no command,
    only the state and what the next recording writes (the period rows, an R5 timeline
    entry each, the case's R6 count)."""
    check_count(outcomes, len(engine.state.periods))
    state = engine.state
    for index, outcome in enumerate(outcomes):
        period = state.periods[index]
        period.outcome = outcome
        period.imported = True
        period.streak_counted = True
        engine.pending.period_indexes.add(index)
        engine.pending.event(state.terms.case_id, f"period-{index}:outcome", now,
                             "period_outcome", "R5", period_index=index, outcome=outcome,
                             imported=True)
    # R6: a streak within the given periods was the agency's earlier business; one that
    # goes on into casework's periods is counted on (it is the same streak).
    given = [(p.index, policy.Outcome(p.outcome)) for p in state.periods[:len(outcomes)]]
    tally = policy.tally_streaks(given, [])
    state.r6_streaks = list(tally.new_streaks)
    state.consecutive_failures = tally.consecutive_failures
    state.streak_triggered = tally.triggered
    engine.pending.case_changed = True
