"""R5 and bounded history (issue 13, patch `lean-periods`): a timer waits for the end of
a period only while R5 still has something to decide there. The engine's wakeups, as
plain code (workflows/engine.py `CaseEngine.wakeups`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.unit.test_compaction import TERMS
from workflows.engine import CaseEngine, Wakeup
from workflows.state import ACTIVE, CaseState, PeriodState, ReportReceipt

D0 = datetime(2031, 3, 1, 13, tzinfo=UTC)  # the instant the first due date begins


def _period(index: int, outcome: str = "pending", reported: bool = False) -> PeriodState:
    """Quarterly-ish periods: follow-up 14 days before D, overdue at D + 1, escalation
    at D + 28, the end at the next D."""
    due = D0 + timedelta(days=91 * index)
    period = PeriodState(index=index, due_date=date(2031, 3, 1) + timedelta(days=91 * index),
                         follow_up_at=due - timedelta(days=14), overdue_at=due + timedelta(
                             days=1), escalation_at=due + timedelta(days=28),
                         ends_at=due + timedelta(days=91), outcome=outcome)
    if reported:
        period.reports.append(ReportReceipt("r", due - timedelta(days=3)))
        period.follow_up_sent_at = period.follow_up_at
    return period


def _ends(engine: CaseEngine) -> list[tuple[int | None, datetime]]:
    return [(w.period_index, w.at) for w in engine.wakeups() if w.kind == "period_end"]


def _engine(*periods: PeriodState, periods_ended: int = 0) -> CaseEngine:
    state = CaseState(terms=TERMS, status=ACTIVE, periods=list(periods),
                      periods_ended=periods_ended)
    return CaseEngine(state)


def test_r5_no_timer_waits_for_the_end_of_a_decided_period() -> None:
    """Period 0's on-time report was assessed adequate: R5 decided it SUCCESS, nothing
    happens at its end, so no wakeup is set for it; the case continues-as-new at its
    next wake (the follow-up of period 1 here)."""
    engine = _engine(_period(0, "success", reported=True), _period(1))
    assert _ends(engine) == [(1, engine.state.periods[1].ends_at)]
    first: Wakeup = engine.wakeups()[0]
    assert (first.kind, first.period_index) == ("follow_up", 1)


def test_r5_r4_a_timer_still_waits_for_the_end_of_an_undecided_period() -> None:
    """An on-time report awaiting its final assessment (R4), or no report at all (R5
    MISSING at the end): decided at the period's end, which a timer waits for -- also
    while the stored count of ended periods lags behind (the boundary not yet seen)."""
    awaiting = _engine(_period(0, reported=True), _period(1, reported=True))
    assert _ends(awaiting) == [(0, awaiting.state.periods[0].ends_at),
                               (1, awaiting.state.periods[1].ends_at)]
    missing = _engine(_period(0, "success", reported=True), _period(1), _period(2))
    assert [index for index, _ in _ends(missing)] == [1, 2]


def test_r5_before_the_patch_the_boundary_period_end_was_always_awaited() -> None:
    """A run recorded before `lean-periods` replays with the old wakeups: the end of the
    first period not counted as ended, decided or not, and that of a later undecided one
    without a report."""
    engine = _engine(_period(0, "success", reported=True), _period(1, reported=True),
                     _period(2))
    engine.lean_periods = False
    assert [index for index, _ in _ends(engine)] == [0, 2]


def test_r2_r5_a_late_report_before_r2_was_acted_on_is_no_boundary_again_and_again() -> None:
    """A report that reached the case after its due date ended but before R2's instant
    was acted on (a worker outage across it, or the timer and the report in one task) is
    late (R5) with nothing to chase. Before `lean-periods` that was a boundary each time
    time was applied -- and the workflow continues-as-new at a boundary, so every new
    run did so at once, for ever. It is not one any more."""
    engine = _engine(_period(0), _period(1))
    period = engine.state.periods[0]
    period.reports.append(ReportReceipt("r-0", period.overdue_at + timedelta(hours=2)))
    now = period.overdue_at + timedelta(hours=3)
    assert [engine.advance(now), engine.advance(now)] == [False, False]
    assert (period.outcome, period.overdue_marked_at) == ("late", None)
    engine.lean_periods = False  # as a run recorded before the patch replays it
    assert [engine.advance(now), engine.advance(now)] == [True, True]
