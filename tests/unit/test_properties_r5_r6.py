"""Property tests (issue 16.2) for R5 (a period's outcome, workflows/policy.py
`period_outcome`) and R6 (streaks, `tally_streaks`) against small reference models
written from DOMAIN.md and README "Rules as applied", over random sequences of periods
whose outcomes include undecided ones decided later, in any order.

The R6 reference is a counter fed the decided outcomes one at a time in period order --
the rule as a practitioner would count on paper: a failure adds one, a success resets
to zero, the third failure in a row recommends an audit once per streak."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from workflows import policy
from workflows.policy import Assessment, Outcome, StreakSpan

DECIDED = [Outcome.SUCCESS, Outcome.LATE, Outcome.MISSING, Outcome.INADEQUATE]
OVERDUE_AT = datetime(2031, 4, 15, 14, 0, tzinfo=UTC)


# ------------------------------------------------------------------------- R5
def reference_outcome(arrived_minutes: int | None, assessments: list[Assessment],
                      period_ended: bool, resubmission_requested: bool) -> Outcome:
    """R5 as DOMAIN.md words it: success when the report arrived by D and was assessed
    adequate; failure when it arrived late, never arrived before the period ended, or was
    of inadequate quality; otherwise not yet decided. The last final assessment counts."""
    if arrived_minutes is None:
        return Outcome.MISSING if period_ended else Outcome.PENDING
    if arrived_minutes >= 0:  # at or after the instant D ends
        return Outcome.LATE
    finals = [a for a in assessments if a in (Assessment.ADEQUATE,
                                              Assessment.INADEQUATE_QUALITY)]
    if finals:
        return Outcome.SUCCESS if finals[-1] == Assessment.ADEQUATE else Outcome.INADEQUATE
    if resubmission_requested and period_ended:
        return Outcome.MISSING  # the resubmission never arrived before the period ended
    return Outcome.PENDING


@settings(max_examples=150)
@given(arrived_minutes=st.none() | st.integers(-60 * 24 * 90, 60 * 24 * 90),
       assessments=st.lists(st.sampled_from(list(Assessment)), max_size=4),
       period_ended=st.booleans())
def test_r5_outcome_equals_the_reference(arrived_minutes: int | None,
                                         assessments: list[Assessment],
                                         period_ended: bool) -> None:
    finals = [a for a in assessments if a in policy.FINAL_ASSESSMENTS]
    resubmission = (not finals and Assessment.REQUEST_RESUBMISSION in assessments)
    first_report_at = (None if arrived_minutes is None
                       else OVERDUE_AT + timedelta(minutes=arrived_minutes))
    outcome = policy.period_outcome(
        overdue_at=OVERDUE_AT, first_report_at=first_report_at,
        final_assessment=finals[-1] if finals else None, period_ended=period_ended,
        awaiting_resubmission=resubmission)
    assert outcome == reference_outcome(arrived_minutes, assessments, period_ended,
                                        resubmission)
    assert policy.is_failure(outcome) == (outcome in (Outcome.LATE, Outcome.MISSING,
                                                      Outcome.INADEQUATE))


# ------------------------------------------------------------------------- R6
@dataclass
class ReferenceCounter:
    """R6 on paper: decided outcomes in period order, one at a time."""

    count: int = 0
    triggered: bool = False
    recommendations: int = 0
    streak_periods: list[int] = field(default_factory=list)

    def feed(self, index: int, outcome: Outcome) -> None:
        if not policy.is_failure(outcome):
            self.count, self.triggered, self.streak_periods = 0, False, []
            return
        self.count += 1
        self.streak_periods.append(index)
        if self.count >= policy.STREAK_THRESHOLD and not self.triggered:
            self.triggered = True
            self.recommendations += 1


def reference_over(outcomes: list[Outcome]) -> ReferenceCounter:
    """The counter over the decided periods in period order, undecided ones skipped."""
    counter = ReferenceCounter()
    for index, outcome in enumerate(outcomes):
        if outcome != Outcome.PENDING:
            counter.feed(index, outcome)
    return counter


sequences = st.lists(st.sampled_from([*DECIDED, Outcome.PENDING]), max_size=14)


@settings(max_examples=200)
@given(outcomes=sequences)
def test_r6_streaks_equal_the_reference_counter_with_undecided_periods_skipped(
        outcomes: list[Outcome]) -> None:
    """Periods decided as they end (undecided ones still waiting): the count, whether
    the current streak has triggered, and the recommendations made along the way equal
    the reference counter's; and an undecided period changes nothing."""
    triggered: list[StreakSpan] = []
    for end in range(1, len(outcomes) + 1):
        tally = policy.tally_streaks(list(enumerate(outcomes[:end])), triggered)
        triggered.extend(tally.new_streaks)
        reference = reference_over(outcomes[:end])
        assert (tally.consecutive_failures, tally.triggered) == (
            reference.count, reference.triggered), outcomes[:end]
    assert len(triggered) == reference_over(outcomes).recommendations
    decided_only = [(i, o) for i, o in enumerate(outcomes) if o != Outcome.PENDING]
    assert policy.tally_streaks(decided_only, triggered) == policy.tally_streaks(
        list(enumerate(outcomes)), triggered)


@st.composite
def late_decisions(draw: st.DrawFn) -> tuple[list[Outcome], list[int]]:
    """Final outcomes of a run of periods, and the order in which the periods are
    decided: each is decided when it ends, or later (an assessment that waited)."""
    final = draw(st.lists(st.sampled_from(DECIDED), min_size=1, max_size=12))
    order = draw(st.permutations(range(len(final))))
    return final, list(order)


@settings(max_examples=200)
@given(case=late_decisions())
def test_r6_decided_in_any_order_every_streak_is_recommended_and_none_twice(
        case: tuple[list[Outcome], list[int]]) -> None:
    """Periods decided in a random order (the rest undecided meanwhile). At every step
    the count equals the reference counter over what is decided so far; a streak that
    is recommended never is again while it stands; and once everything is decided every
    run of three or more failures holds a recommendation."""
    final, order = case
    known: dict[int, Outcome] = {}
    triggered: list[StreakSpan] = []
    for index in order:
        known[index] = final[index]
        outcomes = [known.get(i, Outcome.PENDING) for i in range(len(final))]
        tally = policy.tally_streaks(list(enumerate(outcomes)), triggered)
        reference = reference_over(outcomes)
        assert tally.consecutive_failures == reference.count, (outcomes, triggered)
        for span in tally.new_streaks:
            run = next(r for r in policy.failure_runs(list(enumerate(outcomes)))
                       if r[0] <= span.first_period <= r[-1])
            assert len(run) >= policy.STREAK_THRESHOLD
            assert not any(run[0] <= old.first_period and old.last_period <= run[-1]
                           for old in triggered), "one streak triggers once"
        triggered.extend(tally.new_streaks)
    runs = policy.failure_runs(list(enumerate(final)))
    for run in runs:
        if len(run) >= policy.STREAK_THRESHOLD:
            assert any(run[0] <= span.first_period and span.last_period <= run[-1]
                       for span in triggered), (final, order, triggered)
    if order == sorted(order):  # decided as they ended: exactly the reference's count
        assert len(triggered) == reference_over(final).recommendations
