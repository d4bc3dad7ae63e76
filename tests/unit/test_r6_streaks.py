"""R6 with undecided periods (issue 9): the pure tally (workflows/policy.py
`tally_streaks`) and the engine that applies it (workflows/engine.py), with the R4 task
and escalation for a report left unassessed after its period.

An undecided period (an on-time report awaiting its final assessment) neither breaks
nor joins a streak until it is decided; decided later, it takes its place in period
order. Sequences are written with F (a failure), S (a success) and P (undecided)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from models.messages import AssessReport, SubmitReport
from tests.unit.test_policy import make_terms
from workflows import engine_messages as messages
from workflows import policy
from workflows.engine import CaseEngine
from workflows.policy import Outcome, StreakSpan, StreakTally
from workflows.state import ACTIVE, CLOSING, CaseState, PeriodState

F, S, P = Outcome.MISSING, Outcome.SUCCESS, Outcome.PENDING


def tally(outcomes: list[Outcome], before: list[StreakSpan] | None = None) -> StreakTally:
    return policy.tally_streaks(list(enumerate(outcomes)), before or [])


# ------------------------------------------------------------------ pure tally
def test_r6_three_decided_failures_around_an_undecided_period_trigger_at_once() -> None:
    assert tally([F, P, F, F]) == StreakTally(3, True, (StreakSpan(0, 3),))
    assert tally([P, F, F, F]) == StreakTally(3, True, (StreakSpan(1, 3),))


def test_r6_undecided_period_neither_breaks_nor_joins_the_count() -> None:
    assert tally([F, F, P]) == StreakTally(2, False, ())
    assert tally([F, P, F]) == StreakTally(2, False, ())
    assert tally([S, P, P]) == StreakTally(0, False, ())
    assert tally([P, P, P]) == StreakTally(0, False, ())


def test_r6_success_resets_and_one_streak_triggers_once() -> None:
    assert tally([F, F, F, S]) == StreakTally(0, False, (StreakSpan(0, 2),))
    assert tally([F, F, F, F, F], [StreakSpan(0, 2)]) == StreakTally(5, True, ())
    assert tally([F, F, F, S, F, F, F], [StreakSpan(0, 2)]) == StreakTally(
        3, True, (StreakSpan(4, 6),))


def test_r6_order_of_outcomes_given_does_not_matter() -> None:
    outcomes = [(3, F), (0, F), (1, P), (2, F)]
    assert policy.tally_streaks(outcomes, []) == StreakTally(3, True, (StreakSpan(0, 3),))


def test_r6_pending_later_decided_failure_joins_the_streak_already_triggered() -> None:
    """F P F F triggered (0..3); P decided a failure: one streak of four, no repeat."""
    before = [StreakSpan(0, 3)]
    assert tally([F, F, F, F], before) == StreakTally(4, True, ())


def test_r6_pending_later_decided_failure_completes_a_streak() -> None:
    """F F P S: no streak; P decided a failure makes three in a row: triggers then."""
    assert tally([F, F, P, S]) == StreakTally(0, False, ())
    assert tally([F, F, F, S]) == StreakTally(0, False, (StreakSpan(0, 2),))


def test_r6_pending_later_decided_success_splits_but_never_untriggers() -> None:
    """F P F F triggered (0..3). P decided a success: the recommendation stands (nothing
    new fires), the count is recomputed to the two failures after it, and the current
    streak has not triggered; one more failure makes it three: a new streak."""
    before = [StreakSpan(0, 3)]
    assert tally([F, S, F, F], before) == StreakTally(2, False, ())
    assert tally([F, S, F, F, F], before) == StreakTally(3, True, (StreakSpan(2, 4),))


def test_r6_split_streak_part_that_holds_a_trigger_end_still_counts_afresh() -> None:
    """F F P F triggered (0..3); P a success leaves 3 alone; 3, 4, 5 failing is a new
    streak of three consecutive periods, which R6 recommends on its own."""
    before = [StreakSpan(0, 3)]
    assert tally([F, F, S, F], before) == StreakTally(1, False, ())
    assert tally([F, F, S, F, F, F], before) == StreakTally(3, True, (StreakSpan(3, 5),))


def test_r6_failure_runs_skip_undecided_periods() -> None:
    assert policy.failure_runs(list(enumerate([F, P, F, S, P, S, F, P]))) == [[0, 2], [6]]
    assert policy.failure_runs([]) == []


def test_r6_legacy_state_keeps_the_streaks_old_code_triggered() -> None:
    """Old code counted a prefix of periods in order and triggered each run at its
    third failure."""
    counted = list(enumerate([F, F, F, F, S, F, F, F, S, F, F]))
    assert policy.legacy_triggered_streaks(counted) == [StreakSpan(0, 2), StreakSpan(5, 7)]
    assert policy.legacy_triggered_streaks(list(enumerate([F, F, S]))) == []


def test_r4_final_assessment_escalates_two_weeks_after_the_period_ended() -> None:
    ended = datetime(2026, 7, 14, 14, 0, tzinfo=UTC)
    assert policy.final_assessment_escalation_at(ended) == ended + timedelta(days=14)


# ------------------------------------------------------------------- the engine
DUE = [date(2026, 2, 16), date(2026, 3, 16), date(2026, 4, 16), date(2026, 5, 18),
       date(2026, 6, 16)]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def monthly_state(ends: int | None = None) -> CaseState:
    """An active case with monthly periods; each ends as the next due date begins, the
    last at the contract's end (`ends`: how many due dates the contract has)."""
    due_dates = DUE[:ends] if ends else DUE
    terms = make_terms(contract_start=date(2026, 1, 15), contract_end=due_dates[-1])
    periods = []
    for index, due in enumerate(due_dates):
        overdue_at = _midnight(due + timedelta(days=1))
        ends_at = (_midnight(due_dates[index + 1]) if index + 1 < len(due_dates)
                   else overdue_at)
        periods.append(PeriodState(
            index=index, due_date=due, follow_up_at=overdue_at - timedelta(days=14),
            overdue_at=overdue_at, escalation_at=overdue_at + timedelta(days=28),
            ends_at=ends_at))
    return CaseState(terms=terms, status=ACTIVE, periods=periods)


def _report_on_time_left_pending(engine: CaseEngine, index: int = 0) -> str:
    """Period `index` gets an on-time report, assessed `seek_further_information`."""
    period = engine.state.periods[index]
    arrived = period.overdue_at - timedelta(hours=12)  # on its due date
    report_id = f"r-{index}"
    messages.apply_report(engine, SubmitReport(report_id=report_id, period_index=index),
                          arrived)
    messages.apply_assessment(engine, AssessReport(report_id, "seek_further_information",
                                                   "prac-1"), arrived + timedelta(hours=1))
    return report_id


def _r6_liaison(engine: CaseEngine) -> list[str]:
    return [n.notification_key for n in engine.pending.notifications
            if n.kind == "exception_audit_liaison"]


def test_r6_engine_pending_first_period_then_three_missing_triggers_at_once() -> None:
    """Issue 9: period 0 left undecided, periods 1-3 missing. Code before the fix
    stopped at period 0 and kept the count at 0; now the third missing period
    triggers R6 as it ends."""
    engine = CaseEngine(monthly_state())
    _report_on_time_left_pending(engine)
    periods = engine.state.periods
    engine.advance(periods[2].ends_at + timedelta(hours=1))
    assert engine.state.consecutive_failures == 2
    assert _r6_liaison(engine) == []
    engine.advance(periods[3].ends_at + timedelta(hours=1))
    assert [p.outcome for p in periods[:4]] == ["pending", "missing", "missing", "missing"]
    assert engine.state.consecutive_failures == 3
    assert engine.state.streak_triggered
    assert engine.state.r6_streaks == [StreakSpan(1, 3)]
    assert _r6_liaison(engine) == ["case-1:period-3:exception_audit"]
    assert [a.rule for a in engine.state.open_audits()] == ["R6"]
    assert any(t.kind == "liaise_leo" for t in engine.state.open_tasks())


def test_r6_engine_late_success_recounts_but_keeps_the_recommendation() -> None:
    """F P F F: triggered at once; the undecided report then assessed adequate: the
    audit stays open, the count drops to the two failures after it."""
    engine = CaseEngine(monthly_state())
    periods = engine.state.periods
    engine.advance(periods[0].ends_at + timedelta(hours=1))  # period 0 missing
    report_id = _report_on_time_left_pending(engine, 1)
    engine.advance(periods[3].ends_at + timedelta(hours=1))
    assert engine.state.consecutive_failures == 3
    assert engine.state.r6_streaks == [StreakSpan(0, 3)]
    recorded = messages.apply_assessment(
        engine, AssessReport(report_id, "adequate", "prac-1"),
        periods[3].ends_at + timedelta(hours=2))
    assert recorded.outcome == "success"
    assert (engine.state.consecutive_failures, engine.state.streak_triggered) == (2, False)
    assert [a.status for a in engine.state.audits] == ["open"]
    assert engine.state.r6_streaks == [StreakSpan(0, 3)]


def test_r6_engine_state_carried_from_old_code_loads_and_triggers_once() -> None:
    """A state the old code carried: periods 0-2 missing were counted and triggered;
    period 3 undecided held the count, and 4-5 missing were never counted. The first
    tally keeps the old streak (no second recommendation for it) and counts on."""
    state = monthly_state()
    state.periods += [
        PeriodState(index=5, due_date=date(2026, 7, 16),
                    follow_up_at=_midnight(date(2026, 7, 2)),
                    overdue_at=_midnight(date(2026, 7, 17)),
                    escalation_at=_midnight(date(2026, 8, 14)),
                    ends_at=_midnight(date(2026, 8, 17)))]
    state.periods[4].ends_at = _midnight(date(2026, 7, 16))
    for period in state.periods[:3]:
        period.outcome, period.streak_counted = "missing", True
    state.consecutive_failures, state.streak_triggered = 3, True
    assert state.r6_streaks is None  # as an old carried state loads
    engine = CaseEngine(state)
    _report_on_time_left_pending(engine, 3)
    engine.decide_outcomes(state.periods[5].ends_at + timedelta(hours=1))
    assert [p.outcome for p in state.periods] == ["missing"] * 3 + ["pending"] + ["missing"] * 2
    assert state.r6_streaks == [StreakSpan(0, 2)]
    assert state.consecutive_failures == 5  # 0, 1, 2, 4, 5: one streak, triggered once
    assert _r6_liaison(engine) == []


def test_r6_engine_before_the_patch_still_counts_in_order() -> None:
    """A run started by older code (the workflow sets the flag from `workflow.patched`)
    keeps the old count, so its history replays; it switches at continue-as-new."""
    engine = CaseEngine(monthly_state())
    engine.undecided_periods_skipped = False
    _report_on_time_left_pending(engine)
    engine.advance(engine.state.periods[3].ends_at + timedelta(hours=1))
    assert engine.state.consecutive_failures == 0
    assert engine.state.r6_streaks is None
    assert not any(t.kind == "final_assessment" for t in engine.state.tasks)


def test_r4_engine_unassessed_report_after_its_period_is_a_task_that_escalates() -> None:
    engine = CaseEngine(monthly_state())
    _report_on_time_left_pending(engine)
    period = engine.state.periods[0]
    escalate_at = period.ends_at + timedelta(days=policy.FINAL_ASSESSMENT_GRACE_DAYS)
    assert ("assessment_escalation", escalate_at) in {(w.kind, w.at)
                                                      for w in engine.wakeups()}
    engine.advance(period.ends_at - timedelta(hours=1))
    assert not any(t.kind == "final_assessment" for t in engine.state.tasks)
    engine.advance(period.ends_at + timedelta(hours=1))
    task = next(t for t in engine.state.tasks if t.kind == "final_assessment")
    assert (task.task_id, task.rule, task.assignee_role, task.due_at, task.period_index) == (
        "case-1:period-0:final_assessment", "R4", "practitioner", escalate_at, 0)
    assert not [n for n in engine.pending.notifications if n.recipient == "team_manager"]
    engine.advance(escalate_at)
    engine.advance(escalate_at + timedelta(days=1))  # told once
    told = [n for n in engine.pending.notifications if n.recipient == "team_manager"]
    assert [(n.kind, n.rule) for n in told] == [("final_assessment_overdue", "R4")]
    assert period.assessment_escalated_at == escalate_at
    assert "assessment_escalation" not in {w.kind for w in engine.wakeups()}
    messages.apply_assessment(engine, AssessReport("r-0", "inadequate_quality", "prac-1"),
                              escalate_at + timedelta(days=2))
    assert period.outcome == "inadequate"
    assert task.status == "completed"


def test_r4_engine_no_task_for_the_period_that_ends_with_the_contract() -> None:
    """E2 closure already lists a report awaiting assessment, and no timer runs after
    the contract's end."""
    engine = CaseEngine(monthly_state(ends=2))
    _report_on_time_left_pending(engine, 1)
    engine.advance(engine.state.periods[1].ends_at + timedelta(days=30))
    assert engine.state.status == CLOSING
    assert not any(t.kind == "final_assessment" for t in engine.state.tasks)
    assert not [n for n in engine.pending.notifications if n.recipient == "team_manager"]
