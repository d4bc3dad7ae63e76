"""Issue 15: contracts taken on part-way through (`casework import`). The periods due
before the import carry the outcome the agency's records give them (R5); they are
settled -- no R1-R3 of theirs fires, no report counts for them -- and count towards R6
with the periods after them, a streak wholly among them recommending no audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from models.errors import PolicyViolation
from models.messages import SubmitReport
from tests.unit.test_r6_streaks import monthly_state
from workflows import engine_messages as messages
from workflows.engine import CaseEngine
from workflows.errors import CaseError
from workflows.prior_outcomes import apply_prior_outcomes, check_prior_outcomes

DUE = [date(2026, 2, 16), date(2026, 3, 16), date(2026, 4, 16)]


def test_r5_one_outcome_for_each_period_due_before_today() -> None:
    check_prior_outcomes(DUE, ["success", "late"], today=date(2026, 4, 1))
    check_prior_outcomes(DUE, [], today=date(2026, 4, 1))  # none given: as any contract
    for wrong in (["success"], ["success", "late", "missing"]):
        with pytest.raises(PolicyViolation) as refused:
            check_prior_outcomes(DUE, wrong, today=date(2026, 4, 1))
        assert (refused.value.rule, refused.value.field) == ("R5", "prior_outcomes")
    with pytest.raises(PolicyViolation) as refused:
        check_prior_outcomes(DUE, ["success", "pending"], today=date(2026, 4, 1))
    assert refused.value.field == "prior_outcomes[1]"


def imported(*outcomes: str) -> CaseEngine:
    engine = CaseEngine(monthly_state())
    periods = engine.state.periods
    apply_prior_outcomes(engine, list(outcomes), periods[len(outcomes)].follow_up_at
                         - timedelta(days=1))
    return engine


def test_r5_imported_periods_keep_their_outcome_and_fire_no_deadline() -> None:
    engine = imported("success", "missing")
    periods = engine.state.periods
    engine.pending.notifications.clear()
    engine.advance(periods[1].ends_at + timedelta(hours=1))  # both imported periods over
    assert [p.outcome for p in periods[:2]] == ["success", "missing"]
    assert all(p.imported for p in periods[:2]) and not periods[2].imported
    # Only the live period chases its report (its R1 is due by now).
    assert [n.notification_key for n in engine.pending.notifications
            if n.kind in ("follow_up", "overdue_request", "escalation")] == [
        "case-1:period-2:follow_up"]
    assert all(w.period_index not in (0, 1) for w in engine.wakeups()
               if w.kind in ("follow_up", "overdue", "escalation"))
    assert engine.state.consecutive_failures == 1


def test_r4_no_report_counts_for_an_imported_period() -> None:
    engine = imported("late")
    period = engine.state.periods[0]
    with pytest.raises(CaseError):
        messages.validate_report(engine.state, SubmitReport("r-0", period_index=0),
                                 period.ends_at - timedelta(days=1))


def test_r6_a_streak_among_imported_periods_recommends_no_audit_but_goes_on() -> None:
    engine = imported("missing", "late", "inadequate")
    assert engine.state.consecutive_failures == 3 and engine.state.streak_triggered
    engine.advance(engine.state.periods[3].ends_at + timedelta(hours=1))  # 4th missing
    assert engine.state.consecutive_failures == 4
    assert not [n for n in engine.pending.notifications
                if n.kind == "exception_audit_liaison"]


def test_r6_two_imported_failures_and_a_live_one_recommend_an_audit() -> None:
    engine = imported("success", "missing", "late")
    assert engine.state.consecutive_failures == 2 and not engine.state.streak_triggered
    engine.advance(engine.state.periods[3].ends_at + timedelta(hours=1))
    assert engine.state.consecutive_failures == 3
    assert [n.kind for n in engine.pending.notifications].count("exception_audit_liaison") == 1
