"""Reviews (V1-V6) and contact with the child (K1): the rest of a contract's life.

Like `engine_messages`, each message has `validate_*` and `apply_*`; `advance_reviews`
and `advance_contacts` act on instants that have passed and `review_wakeups` says when
to wake next. Plain code: no Temporal imports, no clock.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

from models.errors import PolicyViolation
from models.messages import (
    RequestReview,
    ReviewOutcome,
    ReviewOutcomeRecorded,
    ReviewRequested,
)
from models.terms import ContractTerms
from workflows import engine_contacts as contacts
from workflows import policy
from workflows.engine import CaseEngine, Wakeup
from workflows.errors import conflict, invalid, not_found
from workflows.idempotency import answered_once
from workflows.state import ACTIVE, CLOSED, CaseState, PlanVersion, ReviewState

CONTRACT_REVIEW_DAYS = 14  # V4: a contract review within two weeks of the concern
UNSCHEDULED_REVIEW_DAYS = 14  # V3: our deadline for a requested case plan review
REQUESTER_ROLES = frozenset({"agency", "practitioner", "child_protection", "child_or_family"})


# ------------------------------------------------------------- the V2 review
def schedule_plan_review(engine: CaseEngine, due_at: datetime, reminder_at: datetime,
                         now: datetime) -> None:
    """V2: the scheduled case plan review, opened with its task when the contract starts."""
    state = engine.state
    if any(r.rule == "V2" for r in state.reviews):
        return
    review = ReviewState(review_id="plan-review-scheduled", kind="case_plan", rule="V2",
                         requested_at=now, due_at=due_at, reminder_at=reminder_at,
                         requested_by_role="schedule")
    state.reviews.append(review)
    _review_opened(engine, review, now)


def _review_opened(engine: CaseEngine, review: ReviewState, now: datetime) -> None:
    case_id = engine.case_id
    what = "contract review" if review.kind == "contract" else "case plan review"
    engine.open_task(f"{case_id}:review-{review.review_id}", f"{review.kind}_review",
                     review.rule, f"Hold the {what} ({review.rule}) by "
                     f"{review.due_at.date().isoformat()}", "practitioner", now,
                     due_at=review.due_at)
    engine.pending.event(case_id, f"review-{review.review_id}:opened", now, "review_opened",
                         review.rule, review_id=review.review_id, review_kind=review.kind,
                         concern=review.concern, due_at=review.due_at.isoformat())


# ---------------------------------------------------------------- time passing
def review_wakeups(state: CaseState) -> list[Wakeup]:
    if state.status != ACTIVE:
        return []
    found: list[Wakeup] = []
    for review in state.open_reviews():
        if review.reminder_at and review.reminded_at is None:
            found.append(Wakeup(review.reminder_at, "review_reminder", None))
        if review.escalated_at is None:
            found.append(Wakeup(review.due_at, "review_due", None))
    return found


def advance_reviews(engine: CaseEngine, now: datetime) -> None:
    """V2-V4: remind ahead of the deadline; escalate to the team manager when a review
    is not held by then."""
    case_id = engine.case_id
    if engine.state.status != ACTIVE:
        return
    for review in engine.state.open_reviews():
        if review.reminder_at and review.reminded_at is None and now >= review.reminder_at:
            review.reminded_at = now
            engine.pending.notify(case_id, f"review-{review.review_id}:reminder", now,
                                  "review_reminder", review.rule, "practitioner",
                                  f"Case plan review due by {review.due_at.date().isoformat()}")
        if review.escalated_at is None and now >= review.due_at:
            review.escalated_at = now
            engine.pending.notify(case_id, f"review-{review.review_id}:escalation", now,
                                  "review_escalation", review.rule, "team_manager",
                                  f"{review.kind.replace('_', ' ')} review {review.review_id} "
                                  f"was not held by its deadline")
            engine.open_task(f"{case_id}:review-{review.review_id}:overdue", "review_overdue",
                             review.rule, f"Review {review.review_id} is overdue: arrange it",
                             "team_manager", now)
            engine.pending.event(case_id, f"review-{review.review_id}:overdue", now,
                                 "review_overdue", review.rule, review_id=review.review_id)


def advance_case(engine: CaseEngine, now: datetime) -> bool:
    """Everything time does to a case, reviews and contacts before the reporting cycle
    (which may end the contract). Returns True at a period boundary."""
    advance_reviews(engine, now)
    contacts.advance_contacts(engine, now)
    return engine.advance(now)


def next_wakeup(engine: CaseEngine) -> Wakeup | None:
    wakeups = (engine.wakeups() + review_wakeups(engine.state)
               + contacts.contact_wakeups(engine.state))
    return min(wakeups, key=lambda w: w.at) if wakeups else None


# ------------------------------------------------------------ request review
def review_key(message: RequestReview) -> str:
    return f"review:{message.review_id}"


def validate_request_review(state: CaseState, message: RequestReview, now: datetime
                            ) -> None:
    if not message.review_id.strip():
        raise invalid("review_id must not be empty.", field="review_id")
    if review_key(message) in state.answered:
        return
    if message.kind not in ("case_plan", "contract"):
        raise invalid("kind must be case_plan or contract.", field="kind", rule="V3")
    if message.kind == "contract" and message.concern not in policy.V4_CONCERNS:
        allowed = ", ".join(sorted(policy.V4_CONCERNS))
        raise invalid(f"A contract review needs a concern, one of {allowed}.",
                      field="concern", rule="V4")
    if message.requested_by_role not in REQUESTER_ROLES:
        raise invalid(f"requested_by_role must be one of {', '.join(sorted(REQUESTER_ROLES))}.",
                      field="requested_by_role", rule="V3")
    if state.status != ACTIVE:
        raise conflict(f"The contract is {state.status.replace('_', ' ')}.", field="status",
                       rule="V1")
    if message.raised_on is not None:
        if message.kind != "contract":
            raise invalid("Only a contract concern (V4) counts from the day it was raised; "
                          "a case plan review request (V3) counts from today.",
                          field="raised_on", rule="V3")
        if message.raised_on > now.date() + timedelta(days=1):  # UTC date: a day's grace
            raise invalid("A concern cannot be raised on a day still to come.",
                          field="raised_on", rule="V4")
        if message.raised_on < state.terms.contract_start:
            raise invalid("The concern is before the contract started.", field="raised_on",
                          rule="V4")
    if any(r.review_id == message.review_id for r in state.reviews):
        raise conflict(f"Review {message.review_id} exists already.", field="review_id")


@answered_once(review_key, ReviewRequested)
def apply_request_review(engine: CaseEngine, message: RequestReview, now: datetime
                         ) -> ReviewRequested:
    """V3: an unscheduled case plan review; V4: a contract review within two weeks of
    the concern. Either opens a review with its deadline, a task and, if it lapses, an
    escalation."""
    state = engine.state
    rule = "V4" if message.kind == "contract" else "V3"
    days = CONTRACT_REVIEW_DAYS if rule == "V4" else UNSCHEDULED_REVIEW_DAYS
    due_at = now + timedelta(days=days)
    if message.raised_on is not None:
        # V4: "within two weeks of the concern being raised", counted from the day it
        # was raised when that was before it reached us (end of that day, as K1 counts).
        due_at = min(due_at, contacts.day_end(message.raised_on + timedelta(days=days)))
    review = ReviewState(review_id=message.review_id, kind=message.kind, rule=rule,
                         requested_at=now, due_at=due_at,
                         concern=message.concern, requested_by_role=message.requested_by_role)
    state.reviews.append(review)
    _review_opened(engine, review, now)
    result = ReviewRequested(review_id=review.review_id, kind=review.kind, rule=rule,
                             due_at=review.due_at)
    return result


# ------------------------------------------------------------- review outcome
def outcome_key(message: ReviewOutcome) -> str:
    return f"review_outcome:{message.review_id}"


def _review(state: CaseState, review_id: str) -> ReviewState:
    for review in state.reviews:
        if review.review_id == review_id:
            return review
    raise not_found(f"No review {review_id!r} on this case.", field="review_id")


def settled_due_dates(state: CaseState, now: datetime) -> list[date]:
    """V5: the due dates of the periods a review can no longer renegotiate. The agency
    has been told of them or acted on them: due already, a report received, or the R1
    follow-up sent -- every closed period (issue 13) among them. They are a prefix of the
    schedule (every later period is untouched), and a new schedule starts after the last
    of them."""
    touched = [p.index for p in state.periods
               if p.overdue_at <= now or p.reports or p.follow_up_sent_at is not None]
    last = max(touched, default=state.closed.count - 1)
    return [*state.closed.due_dates, *(p.due_date for p in state.periods if p.index <= last)]


def proposed_due_dates(state: CaseState, message: ReviewOutcome, now: datetime
                       ) -> list[date] | None:
    """V5: settled periods keep their dates; the others are replaced by the new schedule,
    or extended (or cut) at the schedule's interval when only the end date moves."""
    kept = settled_due_dates(state, now)
    if message.new_due_dates is not None:
        return kept + sorted(message.new_due_dates)
    if message.new_contract_end is None:
        return None
    interval = state.terms.schedule.interval_months or 3
    end = min(message.new_contract_end, state.terms.order_expiry)
    dates = [due for due in state.due_dates() if due <= end or due in kept]
    while dates:
        following = policy.add_months(dates[-1], interval)
        if following > end:
            break
        dates.append(following)
    return dates


def _outcome_field(field: str, message: ReviewOutcome, schedule: list[date]) -> str:
    """Name a refused amendment by the request's own field, not the contract terms'
    (`schedule.due_dates[5]`, a position in the whole sorted schedule, becomes
    `new_due_dates[i]` where `i` is that date's place in the request)."""
    if field.startswith("schedule.due_dates["):
        position = int(field[len("schedule.due_dates["):].split("]")[0])
        requested = message.new_due_dates or []
        if 0 <= position < len(schedule) and schedule[position] in requested:
            day = schedule[position]
            copies = [i for i, requested_day in enumerate(requested) if requested_day == day]
            # A repeated date is refused at its later copy: the n-th in the schedule is
            # the n-th in the request.
            copy = min(schedule[:position].count(day), len(copies) - 1)
            return f"new_due_dates[{copies[copy]}]"
        return "new_due_dates" if message.new_due_dates is not None else "new_contract_end"
    if field.startswith("schedule"):
        return "new_due_dates" if message.new_due_dates is not None else "new_contract_end"
    if field.startswith("functions"):
        return f"new_{field}"
    if field == "contract_end":
        return "new_contract_end"
    return field


def _changes_contract(message: ReviewOutcome) -> bool:
    return (message.new_due_dates is not None or message.new_contract_end is not None
            or message.new_functions is not None or message.total_case_management is not None)


def validate_review_outcome(state: CaseState, message: ReviewOutcome, now: datetime) -> None:
    if outcome_key(message) in state.answered:
        return
    review = _review(state, message.review_id)
    if review.status != "open":
        raise conflict(f"Review {review.review_id} already has an outcome.", field="review_id")
    if state.status == CLOSED:
        raise conflict("The case is closed.", field="status", rule="E2")
    if state.reschedule_due_dates is not None and (
            message.new_due_dates is not None or message.new_contract_end is not None):
        raise conflict("An earlier review's new schedule is still being applied; send "
                       "this outcome again in a moment.", field="review_id", rule="V5")
    if state.status != ACTIVE and (_changes_contract(message) or message.return_to_cp):
        raise conflict(
            f"The contract is {state.status}: a review can no longer change its schedule, "
            "end date or functions, or return it to CP.", field="status", rule="E1")
    if message.return_to_cp and (message.new_due_dates is not None
                                 or message.new_contract_end is not None):
        raise invalid("Returning case management to CP ends the contract (E1); it cannot "
                      "also set new due dates or a new end date.", field="return_to_cp",
                      rule="E1")
    settled = settled_due_dates(state, now)
    if message.new_due_dates is not None:
        for position, due in enumerate(message.new_due_dates):
            if due < now.date():  # UTC date: a day's grace either side of the dateline
                raise invalid(f"{due} has passed: a new due date must be in the future.",
                              field=f"new_due_dates[{position}]", rule="V5")
            if settled and due <= settled[-1]:
                raise invalid(
                    f"{due} is not after {settled[-1]}, the last period already due, "
                    "reported or followed up; those keep their dates.",
                    field=f"new_due_dates[{position}]", rule="V5")
    due_dates = proposed_due_dates(state, message, now)
    if message.new_contract_end is not None:
        if message.new_contract_end < now.date():  # UTC date: a day's grace
            raise invalid(f"{message.new_contract_end} has passed: a contract cannot be "
                          "ended retroactively (return it to CP to end it now).",
                          field="new_contract_end", rule="E1")
        last_settled = settled[-1] if settled else None
        if last_settled is not None and message.new_contract_end < last_settled:
            raise invalid(
                f"{message.new_contract_end} is before {last_settled}, the due date of a "
                "period already due, reported or followed up.", field="new_contract_end",
                rule="V5")
        if due_dates == []:
            raise invalid(f"No report would fall due by {message.new_contract_end}; the "
                          "contract needs a reporting schedule.", field="new_contract_end",
                          rule="C5")
    _validate_plan_versions(state, message)
    candidate = _amended_terms(state, message, due_dates)
    try:
        policy.validate_terms(candidate, within_limits=_within_limits(state.terms))
    except PolicyViolation as exc:
        schedule = sorted(candidate.schedule.due_dates or [])
        raise invalid(exc.message, field=_outcome_field(exc.field, message, schedule),
                      rule=exc.rule) from exc


def _within_limits(terms: ContractTerms) -> bool:
    """Issue 9: a review keeps the contract within models/limits.py -- unless the case was
    registered before the limits and already breaks one, so that its reviews are not
    refused for a date nobody can change any more."""
    try:
        policy.check_limits(terms)
    except PolicyViolation:
        return False
    return True


def _validate_plan_versions(state: CaseState, message: ReviewOutcome) -> None:
    """V6: a new draft has a fresh version; only a draft (an earlier one or the one this
    outcome records) can be endorsed, so exactly one endorsed plan stays current."""
    known = {v.version: v.status for v in state.plan_versions}
    draft = message.draft_plan_version
    if draft is not None and known.get(draft, "draft") != "draft":
        raise invalid(f"Case plan {draft!r} is already {known[draft]}; a new draft needs a "
                      "new version.", field="draft_plan_version", rule="V6")
    endorse = message.endorse_plan_version
    if endorse is not None and endorse != draft and known.get(endorse) != "draft":
        raise invalid(f"No draft case plan {endorse!r} to endorse.",
                      field="endorse_plan_version", rule="V6")


def _amended_terms(state: CaseState, message: ReviewOutcome, due_dates: list[date] | None
                   ) -> ContractTerms:
    """The contract as the outcome leaves it, given its `proposed_due_dates`."""
    terms = state.terms
    schedule = terms.schedule
    if due_dates is not None:
        schedule = dataclasses.replace(schedule, due_dates=due_dates, start_date=None,
                                       interval_months=None)
    return dataclasses.replace(
        terms,
        schedule=schedule,
        contract_end=message.new_contract_end or terms.contract_end,
        total_case_management=(message.total_case_management
                               if message.total_case_management is not None
                               else terms.total_case_management),
        functions=(list(message.new_functions) if message.new_functions is not None
                   else [] if message.total_case_management else list(terms.functions)),
    )


def _belongs_to(task_id: str, case_id: str, review_id: str) -> bool:
    """A review's tasks are `<case>:review-<id>` and `<case>:review-<id>:<what>`; review
    `r1` does not own `r10`'s."""
    base = f"{case_id}:review-{review_id}"
    return task_id == base or task_id.startswith(f"{base}:")


@answered_once(outcome_key, ReviewOutcomeRecorded)
def apply_review_outcome(engine: CaseEngine, message: ReviewOutcome, now: datetime
                         ) -> ReviewOutcomeRecorded:
    """V1: every held review also reviews the contract; V5: the outcome may change the
    schedule, end date or functions, or return case management to CP (E1); V6: endorse a
    new case plan version (the previous one is superseded)."""
    state = engine.state
    review = _review(state, message.review_id)
    case_id = engine.case_id
    changed: list[str] = []
    due_dates = proposed_due_dates(state, message, now)
    amended = _amended_terms(state, message, due_dates)
    end_moved = amended.contract_end != state.terms.contract_end
    if due_dates is not None and due_dates != state.due_dates():
        changed.append("schedule")
    if due_dates is not None and ("schedule" in changed or end_moved):
        # E1: the last period ends with the contract, so a new end date alone reschedules.
        state.reschedule_due_dates = due_dates
    if end_moved:
        changed.append("contract_end")
    if (amended.functions, amended.total_case_management) != (
            state.terms.functions, state.terms.total_case_management):
        changed.append("functions")
    state.terms = amended
    _plan_versions(state, message, now, changed)
    review.status = "held"
    review.held_at = now
    review.changed = changed
    engine.pending.event(case_id, f"review-{review.review_id}:held", now, "review_held",
                         review.rule, review_id=review.review_id, changed=changed,
                         contract_reviewed=True, decided_by=message.decided_by)
    # V1/V4: a held review reviews the contract, which answers every open concern.
    for other in state.open_reviews():
        if other.kind == "contract":
            other.status = "held"
            other.held_at = now
            engine.pending.event(case_id, f"review-{other.review_id}:held", now,
                                 "review_held", other.rule, review_id=other.review_id,
                                 answered_by=review.review_id)
    still_open = state.open_reviews()
    for task in state.open_tasks():
        if task.task_id.startswith(f"{case_id}:review-") and not any(
                _belongs_to(task.task_id, case_id, r.review_id) for r in still_open):
            engine.finish_task(task, now, message.decided_by or "review held")
    if message.return_to_cp:
        changed.append("returned_to_cp")
        end_contract_early(engine, now, "returned_to_cp")
    result = ReviewOutcomeRecorded(review_id=review.review_id, status=review.status,
                                   contract_status=state.status, changed=changed)
    return result


def _plan_versions(state: CaseState, message: ReviewOutcome, now: datetime,
                   changed: list[str]) -> None:
    if message.draft_plan_version is not None and not any(
            v.version == message.draft_plan_version for v in state.plan_versions):
        state.plan_versions.append(PlanVersion(message.draft_plan_version, "draft", now))
        changed.append("plan_draft")
    if message.endorse_plan_version is not None:
        for version in state.plan_versions:
            if version.status == "endorsed":
                version.status = "superseded"
        for version in state.plan_versions:
            if version.version == message.endorse_plan_version:
                version.status = "endorsed"
                version.recorded_at = now
        changed.append("plan_endorsed")


def end_contract_early(engine: CaseEngine, now: datetime, reason: str) -> None:
    """E1: case management returns to CP: periods not yet due are dropped unless a report
    already came for them, every kept period ends now at the latest (so each gets its R5
    outcome), and the case moves to closing."""
    state = engine.state
    last = max((p.index for p in state.periods if p.overdue_at <= now or p.reports),
               default=state.closed.count - 1)  # closed periods (issue 13) stay as they are
    kept = [p for p in state.periods if p.index <= last]
    for period in kept:
        period.ends_at = min(period.ends_at, now)
    engine.replace_periods(kept)
    engine.decide_outcomes(now)
    engine.end_contract(now, reason)
