"""workflows/compaction.py (issue 13, item 3): what a case carries into its next run.
Which periods are settled and closable, what compaction drops -- and that a compacted
state answers every message, and decides everything still to come, exactly as the whole
state would have (R4, R5, R6, V5)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from models.messages import (
    AssessmentRecorded,
    AssessReport,
    CompleteTask,
    ReportAccepted,
    ReviewOutcome,
    SubmitReport,
)
from models.terms import ContractTerms, Phase, ReportingSchedule
from tests.unit.test_policy import make_terms
from workflows import engine_messages as messages
from workflows.compaction import closable, compact_for_next_run, settled
from workflows.engine import CaseEngine
from workflows.engine_reviews import proposed_due_dates, settled_due_dates
from workflows.errors import CaseError
from workflows.idempotency import remembered
from workflows.state import (
    ACTIVE,
    AssessmentEntry,
    CaseState,
    PeriodState,
    ReportReceipt,
    TaskState,
)

T0 = datetime(2031, 3, 1, tzinfo=UTC)
TERMS = ContractTerms(
    case_id="c-1", agency_id="a-1", phase=Phase.PROTECTION_ORDER,
    total_case_management=True, functions=[], aboriginal_child=False,
    acsass_consulted_on=None, child_birth_date=date(2020, 1, 1),
    schedule=ReportingSchedule(due_dates=[date(2031, 1, 1)]),
    contract_start=date(2030, 10, 1), contract_end=date(2031, 1, 1),
    order_expiry=date(2031, 6, 1))
BASIS = {"follow_up": {"rule": "R1"}, "overdue": {"rule": "R2"}, "escalation": {"rule": "R3"}}


def _period(index: int, ends_at: datetime, outcome: str, **extra: object) -> PeriodState:
    return PeriodState(index=index, due_date=date(2031, 1, 1), follow_up_at=T0,
                       overdue_at=T0, escalation_at=T0, ends_at=ends_at,
                       basis=copy.deepcopy(BASIS), outcome=outcome,
                       **extra)  # type: ignore[arg-type]


def _assessed(final: str) -> dict[str, Any]:
    return {"reports": [ReportReceipt("r", T0)],
            "assessments": [AssessmentEntry("r", final, T0)]}


def test_r5_only_an_ended_decided_period_with_nothing_open_is_settled() -> None:
    """Every decided outcome counts -- success and each failure (R5); before issue 13's
    second round only `success` did, so a failed period kept its basis for good."""
    now = T0 + timedelta(days=1)
    periods = [_period(0, T0, "success"), _period(1, T0, "late"), _period(2, T0, "missing"),
               _period(3, T0, "inadequate"), _period(4, T0, "pending"),
               _period(5, now + timedelta(days=1), "success"),
               _period(6, T0, "missing", awaiting_resubmission=True), _period(7, T0, "late")]
    state = CaseState(terms=TERMS, periods=periods,
                      tasks=[TaskState("t-1", "follow_up", "R2", "t", "practitioner", T0,
                                       period_index=7)])
    assert [settled(state, p, now) for p in periods] == [
        True, True, True, True, False, False, False, False]


def test_r4_a_settled_period_is_closable_once_nothing_is_left_to_assess() -> None:
    """R4: a settled period whose last report is not finally assessed (its assessment
    task completed by hand) could still take an assessment: it stays whole."""
    now = T0 + timedelta(days=1)
    done = _period(0, T0, "late", **_assessed("adequate"))
    unassessed = _period(1, T0, "late", reports=[ReportReceipt("r", T0)])
    state = CaseState(terms=TERMS, periods=[done, unassessed, _period(2, T0, "missing")])
    assert [closable(state, p, now) for p in state.periods] == [True, False, True]


def test_issue13_compaction_drops_every_basis_closes_a_prefix_and_keeps_the_last() -> None:
    """No period carries its basis (the read model has it); closable periods leave the
    state as a prefix, stopping at the first that is not -- and the last period always
    stays, so a case never looks unscheduled. Closed tasks become id -> status."""
    now = T0 + timedelta(days=1)
    periods = [_period(0, T0, "success", **_assessed("adequate")),
               _period(1, T0, "missing"), _period(2, T0, "pending"),
               _period(3, T0, "missing"), _period(4, T0, "missing")]
    done = TaskState("c-1:t-done", "assess_report", "R4", "t", "practitioner", T0,
                     status="completed")
    still = TaskState("c-1:t-open", "review", "V2", "t", "practitioner", T0)
    state = CaseState(terms=TERMS, periods=periods, tasks=[done, still])
    compact_for_next_run(state, now)
    assert (state.closed.count, state.closed.outcomes, state.closed.reports) == (
        2, "sm", {"r": "adequate"})
    assert [p.index for p in state.periods] == [2, 3, 4]
    assert [p.basis for p in state.periods] == [{}, {}, {}]
    assert state.period(1) is None and state.period(2) == PeriodState(**{
        **vars(_period(2, T0, "pending")), "basis": {}})
    assert state.tasks == [still] and state.closed_tasks == {"c-1:t-done": "completed"}
    only_last = CaseState(terms=TERMS, periods=[_period(0, T0, "missing")])
    compact_for_next_run(only_last, now)
    assert (only_last.closed.count, len(only_last.periods)) == (0, 1)


def test_a_live_view_reads_each_instants_basis_the_state_lacks_from_its_row() -> None:
    """api/case_views.py: the live view fills what the state no longer carries, instant
    by instant; the state's own basis (a calendar change's, this run) stands."""
    from api.case_views import fill_basis, view_from_status
    from workflows.state import CaseStatus

    recorded = {"follow_up": {"rule": "R1", "local_time": "09:00"},
                "overdue": {"rule": "R2", "old": True}, "escalation": {"rule": "R3"}}
    state = CaseState(terms=TERMS, status="active",
                      periods=[_period(0, T0, "success"), _period(1, T0, "success")])
    state.periods[0].basis = {}
    state.periods[1].basis = {"overdue": {"rule": "R2", "new": True}}
    view = view_from_status(CaseStatus("c-1", "a-1", "active", state, None, None, False))
    filled = fill_basis(view, {0: recorded, 1: recorded})
    assert filled.periods[0].basis == recorded
    assert filled.periods[1].basis == {**recorded, "overdue": {"rule": "R2", "new": True}}


# ------------------------------------------- a compacted state behaves as the whole one
DUE = [date(2026, 2, 16) + timedelta(days=30 * i) for i in range(9)]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _case() -> CaseEngine:
    """Nine monthly periods, each ending as the next due date begins."""
    terms = make_terms(contract_start=date(2026, 1, 15), contract_end=DUE[-1],
                       schedule=ReportingSchedule(due_dates=list(DUE)),
                       order_expiry=DUE[-1] + timedelta(days=200))
    periods = []
    for index, due in enumerate(DUE):
        overdue_at = _midnight(due + timedelta(days=1))
        ends_at = _midnight(DUE[index + 1]) if index + 1 < len(DUE) else overdue_at
        periods.append(PeriodState(
            index=index, due_date=due, follow_up_at=overdue_at - timedelta(days=14),
            overdue_at=overdue_at, escalation_at=overdue_at + timedelta(days=28),
            ends_at=ends_at, basis=copy.deepcopy(BASIS)))
    return CaseEngine(CaseState(terms=terms, status=ACTIVE, periods=periods))


def _report(engine: CaseEngine, index: int, report_id: str, hours_before_due_end: int,
            *assessments: str) -> None:
    period = engine.state.periods[index]
    at = period.overdue_at - timedelta(hours=hours_before_due_end)
    messages.apply_report(engine, SubmitReport(report_id, index), at)
    for number, kind in enumerate(assessments, 1):
        messages.apply_assessment(engine, AssessReport(report_id, kind, "prac-1"),
                                  at + timedelta(hours=number))


def _history() -> tuple[CaseEngine, datetime]:
    """Period 0 on time and adequate; 1 late (after R2), adequate; 2 missing, its R2 task
    done; 3 on time, resubmission requested, the new report adequate; 4 on time, left
    undecided (seek further information). The moment: period 4 has ended, 5 is under
    way."""
    engine = _case()
    p = engine.state.periods
    _report(engine, 0, "r-0", 30, "adequate")
    engine.advance(p[0].ends_at + timedelta(hours=1))
    engine.advance(p[1].overdue_at + timedelta(hours=1))
    _report(engine, 1, "r-1", -30, "adequate")
    engine.advance(p[2].escalation_at + timedelta(hours=1))  # 2: missing at its end
    messages.apply_complete_task(engine, CompleteTask("case-1:period-2:overdue_follow_up"),
                                 p[2].escalation_at + timedelta(hours=2))
    _report(engine, 3, "r-3", 60, "request_resubmission")
    _report(engine, 3, "r-3b", 10, "adequate")
    _report(engine, 4, "r-4", 20, "seek_further_information")
    now = p[4].ends_at + timedelta(days=2)
    engine.advance(now)
    return engine, now


def _carried(state: CaseState, compact: bool, now: datetime) -> CaseState:
    """The state as the next run reads it: through the converter's JSON."""
    state = copy.deepcopy(state)
    if compact:
        compact_for_next_run(state, now)
    adapter = TypeAdapter(CaseState)
    return adapter.validate_json(adapter.dump_json(state))


def _answer(call: Callable[[], object]) -> object:
    try:
        return ("answer", call())
    except CaseError as exc:
        return ("refused", exc.kind, exc.message, exc.field, exc.rule)


def _battery(state: CaseState, now: datetime) -> list[object]:
    """Every message a client could send about the periods the compacted state closed,
    and the answers it gets: validation first (as an update's validator), then the
    remembered answer of a repeat (as the handler's `answered_once`)."""
    answers: list[object] = []
    for index in (0, 1, 2, 3, 4, 9):
        answers.append(_answer(lambda i=index: messages.validate_report(  # type: ignore[misc]
            state, SubmitReport("new-report", i), now)))
    for report_id in ("r-0", "r-1", "r-3", "r-3b", "r-4", "nope"):
        for kind in ("adequate", "inadequate_quality", "request_resubmission",
                     "hold_meeting"):
            answers.append(_answer(lambda r=report_id, k=kind: messages.validate_assessment(
                state, AssessReport(r, k), now)))  # type: ignore[misc]
        answers.append(remembered(state, f"report:{report_id}", ReportAccepted))
        answers.append(remembered(state, f"assess:{report_id}:adequate", AssessmentRecorded))
    for task in ("report-r-0:assess", "report-r-1:assess", "report-r-3:assess",
                 "period-1:overdue_follow_up", "period-2:overdue_follow_up",
                 "report-r-4:assess", "no-such-task"):
        task_id = f"case-1:{task}"
        answers.append(_answer(lambda t=task_id: messages.validate_complete_task(  # type: ignore[misc]
            state, CompleteTask(t))))
    answers.append(settled_due_dates(state, now))
    answers.append(proposed_due_dates(state, ReviewOutcome(
        "review-1", new_contract_end=DUE[-1] + timedelta(days=60)), now))
    answers.append(state.due_dates())
    return answers


def test_issue13_r4_r5_a_compacted_state_answers_every_message_as_the_whole_one() -> None:
    engine, now = _history()
    whole, compacted = _carried(engine.state, False, now), _carried(engine.state, True, now)
    assert compacted.closed.count == 4  # 0-3 closed; 4 awaits its final assessment
    assert _battery(compacted, now) == _battery(whole, now)


def test_issue13_r5_r6_a_compacted_state_decides_what_is_to_come_as_the_whole_one() -> None:
    """From the moment of compaction on, both go through the same events: periods 5 and
    6 missing (with 2, and 4 decided inadequate, a streak R6 recommends once), 7 on time,
    a task completed, the contract's end. Same notices, timeline, tasks, outcomes and R6
    tally, in the same order."""
    engine, now = _history()
    runs = []
    for compact in (False, True):
        state = _carried(engine.state, compact, now)
        case = CaseEngine(state)
        p = {period.index: period for period in state.periods}
        decided = []
        messages.apply_assessment(case, AssessReport("r-4", "inadequate_quality", "prac-1"),
                                  now + timedelta(hours=1))
        for instant in (p[5].ends_at, p[6].ends_at):
            case.advance(instant + timedelta(hours=1))
        messages.apply_report(case, SubmitReport("r-7", 7), p[7].overdue_at - timedelta(days=1))
        messages.apply_complete_task(case, CompleteTask("case-1:report-r-7:assess"),
                                     p[7].overdue_at)
        case.advance(p[8].ends_at + timedelta(days=1))
        decided.append([(e.event_key, e.kind, e.detail) for e in case.pending.timeline])
        decided.append([n.notification_key for n in case.pending.notifications])
        decided.append(sorted(case.pending.task_ids))
        decided.append([(q.index, q.outcome) for q in state.periods if q.index >= 5])
        decided.append((state.consecutive_failures, state.streak_triggered, state.r6_streaks,
                        state.status, [t.task_id for t in state.open_tasks()]))
        runs.append(decided)
    assert runs[0] == runs[1]
    assert ("case-1:period-6:exception_audit") in runs[0][1]


def test_issue13_a_closed_period_is_a_few_bytes_and_answers_lose_their_field_names() -> None:
    """A whole period is hundreds of bytes even with this test's stub of a basis (over a
    kilobyte with a real one); closed, its outline is tens of bytes, and the answers to
    its messages keep their values only."""
    engine, now = _history()
    whole, compacted = _carried(engine.state, False, now), _carried(engine.state, True, now)

    def size(value: object, kind: Any) -> int:
        return len(TypeAdapter(kind).dump_json(value))

    closed = compacted.closed
    assert size(closed, type(closed)) / closed.count < 60
    assert size(whole.periods[:closed.count], list[PeriodState]) / closed.count > 500
    answers = dict[str, dict[str, object] | list[object]]
    assert size(compacted.answered, answers) < 0.6 * size(whole.answered, answers)
    assert size(compacted, CaseState) < 0.55 * size(whole, CaseState)
