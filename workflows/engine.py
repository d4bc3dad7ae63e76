"""The reporting cycle as plain code: what a case does when time passes (R1-R3, R5, R6).

`CaseEngine` owns a `CaseState` and records what it decided in `Pending`. It has no
Temporal imports and reads no clock: the workflow passes `workflow.now()` in. That keeps
the rules testable without a server and replay-safe inside one.
Messages from outside (reports, assessments, events, audits) are in `engine_messages`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows import engine_final_assessment as final_assessment
from workflows import policy
from workflows.outbox import Pending
from workflows.state import (
    ACTIVE,
    CLOSING,
    OUTCOMES_BY_LETTER,
    AuditState,
    CaseState,
    PeriodState,
    TaskState,
)


@dataclass(frozen=True)
class Wakeup:
    at: datetime
    kind: str
    period_index: int | None

    def summary(self, state: CaseState) -> str:
        """Readable timer summary for the Temporal UI history."""
        if self.period_index is None:
            return f"{self.kind} of contract {state.terms.case_id}"
        period = state.period(self.period_index)
        if period is None:  # never: only open periods have wakeups
            return f"{self.kind} of period {self.period_index}"
        rule = {"follow_up": "R1", "overdue": "R2", "escalation": "R3", "period_end": "R5",
                "assessment_escalation": "R4"}
        return f"{rule.get(self.kind, '')} {self.kind} for report due {period.due_date}".strip()


class CaseEngine:
    """Applies the passage of time to a case. One instance per workflow run."""

    def __init__(self, state: CaseState, pending: Pending | None = None) -> None:
        self.state = state
        self.pending = pending if pending is not None else Pending()
        # R6/R4 as since the `r6-undecided-periods` patch: an undecided period neither
        # breaks nor joins a streak, and one left unassessed after its period is a task
        # that escalates. The workflow sets it from `workflow.patched`, so a run started
        # by older code keeps counting as it did until it continues-as-new.
        self.undecided_periods_skipped = True
        # The `lean-periods` patch (issue 13): a timer waits only for the end of a period
        # still undecided (`_period_end_awaited`), and a report that came late before
        # R2's instant was acted on is no boundary (`_overdue`). The workflow sets it from
        # `workflow.patched`: a run started before the patch keeps the old way.
        self.lean_periods = True

    @property
    def case_id(self) -> str:
        return self.state.terms.case_id

    # ----------------------------------------------------------------- deadlines
    def contract_end_at(self) -> datetime | None:
        """E1: the last period ends when the contract does (end date or order expiry)."""
        return self.state.periods[-1].ends_at if self.state.periods else None

    def wakeups(self) -> list[Wakeup]:
        """Every future instant at which the case may have to act, earliest first."""
        if self.state.status != ACTIVE:
            return []
        found: list[Wakeup] = []
        end = self.contract_end_at()
        for period in self.state.periods:
            if self._period_end_awaited(period):
                found.append(Wakeup(period.ends_at, "period_end", period.index))
            if final_assessment.escalation_awaited(self, period):
                found.append(Wakeup(policy.final_assessment_escalation_at(period.ends_at),
                                    "assessment_escalation", period.index))
            if period.reports or period.imported:  # imported: settled (issue 15)
                continue
            if period.follow_up_sent_at is None and period.overdue_marked_at is None:
                found.append(Wakeup(period.follow_up_at, "follow_up", period.index))
            if period.overdue_marked_at is None:
                found.append(Wakeup(period.overdue_at, "overdue", period.index))
            if self._escalation_awaited(period):
                found.append(Wakeup(period.escalation_at, "escalation", period.index))
        if end is not None:
            found.append(Wakeup(end, "contract_end", None))
        return sorted(found, key=lambda w: (w.at, w.kind))

    def _period_end_awaited(self, period: PeriodState) -> bool:
        """Whether a timer waits for the end of `period`. R5 decides an undecided period
        at its end (MISSING, or a report left awaiting its final assessment, R4). A
        decided one needs nothing then (issue 13, patch `lean-periods`): no timer waits
        for it, and the case continues-as-new at its first wake after the end (DESIGN
        decision 3) -- a timer of its own was five events and an action a period.
        Before the patch the end of the first period not yet counted as ended was always
        awaited (the boundary), and that of a later one while it had no report."""
        pending = period.outcome == policy.Outcome.PENDING
        ended = self.state.periods_ended
        if not self.lean_periods:
            return period.index == ended or (
                pending and not period.reports and period.index > ended)
        return pending and period.index >= ended

    def replace_periods(self, periods: list[PeriodState]) -> None:
        """Swap in a new list of periods (first schedule, V5 reschedule, E1 early end)
        and say so in the batch: every period written, the dropped ones removed."""
        dropped = {p.index for p in self.state.periods} - {p.index for p in periods}
        self.state.periods = periods
        self.pending.removed_periods.update(dropped)
        self.pending.period_indexes.difference_update(dropped)
        self.pending.period_indexes.update(p.index for p in periods)

    def next_deadline(self) -> Wakeup | None:
        """The next deadline shown to people: follow-up, overdue, escalation or end."""
        for wakeup in self.wakeups():
            if wakeup.kind != "period_end":
                return wakeup
        return None

    def is_overdue(self, now: datetime) -> bool:
        """A report is outstanding past its due date and can still arrive (R2)."""
        return any(
            p.overdue_marked_at is not None and not p.reports and now < p.ends_at
            for p in self.state.periods
        )

    # ------------------------------------------------------------ time passing
    def advance(self, now: datetime) -> bool:
        """Act on every instant that has passed. Returns True when a period ended or
        went overdue in this call (a boundary: a good moment to continue-as-new)."""
        if self.state.status != ACTIVE:
            return False
        boundary = False
        for period in self.state.periods:
            self._follow_up(period, now)
            boundary |= self._overdue(period, now)
            self._escalate(period, now)
        self.decide_outcomes(now)
        for period in self.state.periods:
            final_assessment.await_final_assessment(self, period, now)
        ended = self.state.closed.count + sum(
            1 for period in self.state.periods if period.ends_at <= now)
        if ended > self.state.periods_ended:
            self.state.periods_ended = ended
            boundary = True
        end = self.contract_end_at()
        if end is not None and now >= end:
            self.end_contract(end, "contract_end")
        return boundary

    def _follow_up(self, period: PeriodState, now: datetime) -> None:
        """R1: remind the agency that the report is due, unless it has arrived. Sent at
        the follow-up instant; a contract endorsed later than that sends it at once
        (still before the due date)."""
        if period.reports or period.follow_up_sent_at is not None or period.imported:
            return
        if not (period.follow_up_at <= now < period.overdue_at):
            return
        period.follow_up_sent_at = now
        key = f"period-{period.index}:follow_up"
        subject = f"Progress report due on {period.due_date.isoformat()}"
        self.pending.notify(self.case_id, key, now, "follow_up", "R1", "agency", subject)
        self.pending.event(self.case_id, key, now, "follow_up_sent", "R1",
                           period_index=period.index, due_date=period.due_date.isoformat())
        self.pending.period_indexes.add(period.index)

    def _overdue(self, period: PeriodState, now: datetime) -> bool:
        """R2: no report by the end of D -> ask the agency and give the practitioner a
        task to follow up CSO line management."""
        if period.overdue_marked_at is not None or now < period.overdue_at or period.imported:
            return False
        if period.reports and period.reports[0].received_at < period.overdue_at:
            return False
        if period.reports:
            # It arrived late but before we got here (e.g. a long worker outage, or as
            # R2's timer fired): the period is late (R5) and there is nothing to chase.
            # Before `lean-periods` this was a boundary every time it was asked, so every
            # run of the case continued-as-new at once, for ever (issue 13).
            return not self.lean_periods
        period.overdue_marked_at = period.overdue_at
        if period.ends_at <= period.overdue_at:
            # R2 asks for a report the period can still accept. Here the report window
            # closed as D ended (the contract ends on its last due date, or the next D
            # is the day after), so there is nothing to chase: R5 records it MISSING.
            # Marked all the same, so no follow-up or overdue wakeup stays behind.
            self.pending.period_indexes.add(period.index)
            return True
        key = f"period-{period.index}:overdue"
        due = period.due_date.isoformat()
        self.pending.notify(self.case_id, key, now, "overdue_request", "R2", "agency",
                            f"Progress report due {due} is overdue: please submit it")
        self.open_task(
            f"{self.case_id}:period-{period.index}:overdue_follow_up", "overdue_follow_up", "R2",
            f"Report due {due} not received: follow up CSO line management", "practitioner",
            now, period_index=period.index,
        )
        self.pending.event(self.case_id, key, now, "marked_overdue", "R2",
                           period_index=period.index, due_date=due)
        self.pending.period_indexes.add(period.index)
        return True

    def _escalation_awaited(self, period: PeriodState) -> bool:
        """R3 asks the program manager for a report still missing four weeks after D.
        When the period's report window closed first (a schedule shorter than D + 28,
        or the contract's end), no report could be accepted any more: like R2 on a
        closed window, nothing is requested, and R5 has already decided the period
        MISSING (a failure that counts towards R6). `wakeups` and `_escalate` both ask
        this, so a passed instant is always acted on and never left as a wakeup."""
        if period.escalated_at is not None or period.reports or period.imported:
            return False
        return period.escalation_at < period.ends_at

    def _escalate(self, period: PeriodState, now: datetime) -> None:
        """R3: still no report four weeks after D -> written request to the agency's
        program manager."""
        if now < period.escalation_at or not self._escalation_awaited(period):
            return
        period.escalated_at = now
        key = f"period-{period.index}:escalation"
        due = period.due_date.isoformat()
        self.pending.notify(self.case_id, key, now, "escalation", "R3", "program_manager",
                            f"Progress report due {due} still not received after four weeks")
        self.pending.event(self.case_id, key, now, "escalated", "R3",
                           period_index=period.index, due_date=due)
        self.pending.period_indexes.add(period.index)

    def decide_outcomes(self, now: datetime) -> None:
        """R5 for every period, then R6 over the decided ones in period order."""
        for period in self.state.periods:
            if period.imported:  # its outcome is the one given at import (issue 15)
                continue
            outcome = policy.period_outcome(
                overdue_at=period.overdue_at,
                first_report_at=period.first_report_at,
                final_assessment=(
                    policy.Assessment(period.final_assessment) if period.final_assessment
                    else None
                ),
                period_ended=now >= period.ends_at,
                awaiting_resubmission=period.awaiting_resubmission,
            )
            if outcome.value != period.outcome:
                period.outcome = outcome.value
                self.pending.period_indexes.add(period.index)
                if outcome != policy.Outcome.PENDING:
                    self.pending.event(
                        self.case_id, f"period-{period.index}:outcome", now, "period_outcome",
                        "R5", period_index=period.index, outcome=outcome.value,
                    )
                    final_assessment.finish_task(self, period, now)
        if self.undecided_periods_skipped:
            self._tally_streaks(now)
        else:
            self._count_streak_in_order(now)

    def _tally_streaks(self, now: datetime) -> None:
        """R6 over every decided period, undecided ones skipped (policy.tally_streaks):
        three decided failures in a row trigger at once, and a period decided late takes
        its place in period order. A state carried from older code gets the streaks
        that code triggered first, so none is recommended twice."""
        state = self.state
        if state.r6_streaks is None:
            state.r6_streaks = policy.legacy_triggered_streaks(
                [(p.index, policy.Outcome(p.outcome)) for p in state.periods
                 if p.streak_counted])
        closed = [(index, policy.Outcome(OUTCOMES_BY_LETTER[letter]))
                  for index, letter in enumerate(state.closed.outcomes)]
        tally = policy.tally_streaks(
            [*closed, *((p.index, policy.Outcome(p.outcome)) for p in state.periods)],
            state.r6_streaks)
        if (tally.consecutive_failures, tally.triggered) != (
                state.consecutive_failures, state.streak_triggered):
            state.consecutive_failures = tally.consecutive_failures
            state.streak_triggered = tally.triggered
            self.pending.case_changed = True
        for span in tally.new_streaks:
            # Named by the period that completed it; by both ends in the rare case that
            # an earlier streak ended on the same period (a late success split it).
            same_end = any(s.last_period == span.last_period for s in state.r6_streaks)
            name = (f"period-{span.first_period}-{span.last_period}" if same_end
                    else f"period-{span.last_period}")
            state.r6_streaks.append(span)
            self.pending.case_changed = True
            self._recommend_audit(name, span.last_period, now)

    def _count_streak_in_order(self, now: datetime) -> None:
        """R6 before the `r6-undecided-periods` patch, for runs started by that code:
        feed decided outcomes in period order; an undecided period holds the count until
        it is decided."""
        for period in self.state.periods:
            if period.streak_counted:
                continue
            if period.outcome == policy.Outcome.PENDING:
                break
            period.streak_counted = True
            streak, triggered = policy.advance_streak(
                policy.StreakState(self.state.consecutive_failures, self.state.streak_triggered),
                policy.Outcome(period.outcome),
            )
            self.state.consecutive_failures = streak.consecutive_failures
            self.state.streak_triggered = streak.triggered
            self.pending.case_changed = True
            if triggered:
                self._recommend_audit(f"period-{period.index}", period.index, now)

    def _recommend_audit(self, name: str, period_index: int, now: datetime) -> None:
        """R6: each streak triggers liaison with the LEO and an exception-audit
        recommendation, once. A streak that completes while an earlier R6 audit is still
        open is recorded on that audit rather than opening a second one, but the LEO is
        still told and the practitioner still gets a liaison task: it is a new streak."""
        key = f"{name}:exception_audit"
        existing = next((a for a in self.state.open_audits() if a.rule == "R6"), None)
        if existing is None:
            audit = self.open_audit("R6", "three_consecutive_failures", now)
            task_id = f"{self.case_id}:{audit.audit_id}:liaise_leo"
        else:
            audit = existing
            self.pending.event(self.case_id, key, now, "streak_recorded_on_open_audit", "R6",
                               audit_id=audit.audit_id, period_index=period_index)
            # Per period (one audit may carry several streaks), under the audit's prefix
            # so that closing the audit (R8) finishes it like the first liaison task.
            task_id = f"{self.case_id}:{audit.audit_id}:{name}:liaise_leo"
        self.pending.notify(self.case_id, key, now, "exception_audit_liaison", "R6", "leo",
                            "Three consecutive reporting failures: exception audit recommended")
        self.open_task(
            task_id, "liaise_leo", "R6",
            "Liaise with the LEO: exception audit recommended after three consecutive "
            "reporting failures", "practitioner", now,
        )

    def end_contract(self, at: datetime, reason: str) -> None:
        """E1: no new periods start; the case moves to closing."""
        self.state.status = CLOSING
        self.state.ended_at = at
        self.state.end_reason = reason
        self.pending.event(self.case_id, "contract_ended", at, "contract_ended", "E1",
                           reason=reason)

    # ---------------------------------------------------------- tasks, audits
    def open_task(
        self, task_id: str, kind: str, rule: str, title: str, assignee_role: str,
        now: datetime, *, due_at: datetime | None = None, period_index: int | None = None,
    ) -> TaskState | None:
        """Open the task, unless one of this id exists (open or done, or closed before
        this run: None)."""
        for task in self.state.tasks:
            if task.task_id == task_id:
                return task
        if task_id in self.state.closed_tasks:
            return None
        task = TaskState(task_id=task_id, kind=kind, rule=rule, title=title,
                         assignee_role=assignee_role, created_at=now, due_at=due_at,
                         period_index=period_index)
        self.state.tasks.append(task)
        self.pending.task_ids.add(task_id)
        self.pending.event(self.case_id, f"task:{task_id}:opened", now, "task_opened", rule,
                           task_id=task_id, task_kind=kind)
        return task

    def finish_task(self, task: TaskState, now: datetime, by: str, status: str = "completed"
                    ) -> None:
        if task.status != "open":
            return
        task.status = status
        task.completed_at = now
        task.completed_by = by
        self.pending.task_ids.add(task.task_id)
        self.pending.event(self.case_id, f"task:{task.task_id}:{status}", now,
                           f"task_{status}", task.rule, task_id=task.task_id, by=by)

    def open_audit(self, rule: str, trigger: str, now: datetime) -> AuditState:
        audit = AuditState(audit_id=f"audit-{len(self.state.audits) + 1}", rule=rule,
                           trigger=trigger, opened_at=now)
        self.state.audits.append(audit)
        self.pending.audit_ids.add(audit.audit_id)
        self.pending.event(self.case_id, f"{audit.audit_id}:opened", now, "audit_opened", rule,
                           audit_id=audit.audit_id, trigger=trigger)
        return audit
