"""workflows/compaction.py: which periods are settled, and what compaction drops."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from models.terms import ContractTerms, Phase, ReportingSchedule
from workflows.compaction import compact_for_next_run, settled
from workflows.state import CaseState, PeriodState, TaskState

T0 = datetime(2031, 3, 1, tzinfo=UTC)
TERMS = ContractTerms(
    case_id="c-1", agency_id="a-1", phase=Phase.PROTECTION_ORDER,
    total_case_management=True, functions=[], aboriginal_child=False,
    acsass_consulted_on=None, child_birth_date=date(2020, 1, 1),
    schedule=ReportingSchedule(due_dates=[date(2031, 1, 1)]),
    contract_start=date(2030, 10, 1), contract_end=date(2031, 1, 1),
    order_expiry=date(2031, 6, 1))


def _period(index: int, ends_at: datetime, outcome: str, **extra: object) -> PeriodState:
    return PeriodState(index=index, due_date=date(2031, 1, 1), follow_up_at=T0,
                       overdue_at=T0, escalation_at=T0, ends_at=ends_at,
                       basis={"follow_up": {"rule": "R1"}}, outcome=outcome,
                       **extra)  # type: ignore[arg-type]


def test_r5_only_an_ended_decided_period_with_nothing_open_is_settled() -> None:
    now = T0 + timedelta(days=1)
    done = _period(0, T0, "success")
    failed = _period(1, T0, "failure")
    pending = _period(2, T0, "pending")
    running = _period(3, now + timedelta(days=1), "success")
    resubmitting = _period(4, T0, "failure", awaiting_resubmission=True)
    tasked = _period(5, T0, "failure")
    state = CaseState(terms=TERMS, periods=[done, failed, pending, running, resubmitting,
                                            tasked],
                      tasks=[TaskState("t-1", "follow_up", "R2", "t", "practitioner", T0,
                                       period_index=5)])
    assert [settled(state, p, now) for p in state.periods] == [
        True, True, False, False, False, False]
    compact_for_next_run(state, now)
    assert [bool(p.basis) for p in state.periods] == [False, False, True, True, True, True]


def test_a_live_view_reads_a_settled_periods_basis_from_its_row() -> None:
    """api/case_views.py: the live view of a case fills what the state no longer carries."""
    from api.case_views import fill_basis, view_from_status
    from workflows.state import CaseStatus

    kept = {"follow_up": {"rule": "R1", "local_time": "09:00"}}
    state = CaseState(terms=TERMS, status="active",
                      periods=[_period(0, T0, "success"), _period(1, T0, "success")])
    state.periods[0].basis = {}
    view = view_from_status(CaseStatus("c-1", "a-1", "active", state, None, None, False))
    filled = fill_basis(view, {0: kept, 1: {"other": {}}})
    assert [p.basis for p in filled.periods] == [kept, {"follow_up": {"rule": "R1"}}]
