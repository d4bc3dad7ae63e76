"""Pure contract rules: validating terms and endorsements (C1-C5), the outcome of a
reporting period (R5) and the exception-audit streak (R6).

Imported inside the Temporal workflow sandbox: standard library and `models.*` only,
no clock reads, no calendars, no I/O. Every input ("today" included) is an argument.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from models import limits
from models.errors import PolicyViolation
from models.terms import (
    CONTRACTABLE_FUNCTIONS,
    NON_CONTRACTABLE_FUNCTIONS,
    ContractTerms,
    Endorsement,
    Phase,
    ReportingSchedule,
    SignatoryRole,
)

# Ids are codes, never names or free text (DESIGN decision 6); 64 fits the read model.
_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
MAX_REPORT_INTERVAL_MONTHS = 3  # C5: quarterly is the minimum frequency
CHILD_SIGNATURE_AGE_YEARS = 10  # C4: "over the age of 10 years" (procedure 1028)
STREAK_THRESHOLD = 3  # R6
FINAL_ASSESSMENT_GRACE_DAYS = 14
"""R4/R6: how long after its period ended a report may await its final assessment
before the team manager is told (see `final_assessment_escalation_at`)."""

# R7: exception-audit triggers other than report failures (advice 2056).
R7_TRIGGERS: frozenset[str] = frozenset({
    "lack_of_client_contact",
    "case_plan_deviation",
    "failure_to_report_significant_events",
    "complaint_from_child_or_family",
})
# V4: concerns that require a contract review within two weeks (advice 2056).
V4_CONCERNS: frozenset[str] = frozenset({
    "child_or_family",
    "agency",
    "child_protection",
    "escalated_risk",
    "placement_ended_unexpectedly",
    "conflict_of_interest",
})


# ------------------------------------------------------------------------ dates
def add_months(day: date, months: int) -> date:
    """`day` moved by whole calendar months, clamped to the end of a shorter month
    (2025-11-30 + 3 -> 2026-02-28)."""
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _is_month_end(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def _three_months_after(day: date) -> date:
    """The last day that is no more than three calendar months after `day`. From a
    month's last day it is the last day three months on (end-of-month rule), so a
    schedule anchored on the 30th or 31st, clamped to 28 February, may return to the
    30th or 31st without that counting as a gap longer than three months."""
    later = add_months(day, MAX_REPORT_INTERVAL_MONTHS)
    if _is_month_end(day):
        later = later.replace(day=calendar.monthrange(later.year, later.month)[1])
    return later


def ends_on(terms: ContractTerms) -> date:
    """E1: case management ends at the contract's end or the order's expiry, whichever
    is first."""
    return min(terms.contract_end, terms.order_expiry)


# -------------------------------------------------------------------- C1 - C5
def resolve_due_dates(schedule: ReportingSchedule, contract_start: date,
                      contract_end: date) -> list[date]:
    """C5: the schedule's due dates, sorted. Explicit dates are taken as given; otherwise
    every `interval_months` from `start_date` (or `contract_start` when omitted), the
    first one interval after it, up to and including `contract_end` (pass the end of
    case management, E1). Raises PolicyViolation for a schedule of the wrong shape."""
    has_interval = schedule.start_date is not None or schedule.interval_months is not None
    if schedule.due_dates:
        if has_interval:
            raise PolicyViolation("C5", "schedule", "Give either explicit due dates or an "
                                  "interval in months, not both.")
        return sorted(schedule.due_dates)
    if schedule.interval_months is None:
        if schedule.start_date is not None:
            raise PolicyViolation("C5", "schedule.interval_months",
                                  "A schedule with a start date needs an interval in months.")
        raise PolicyViolation("C5", "schedule", "The contract needs a reporting schedule: "
                              "explicit due dates or an interval in months.")
    interval = schedule.interval_months
    if not 1 <= interval <= MAX_REPORT_INTERVAL_MONTHS:
        raise PolicyViolation("C5", "schedule.interval_months",
                              f"Reports are due every 1 to {MAX_REPORT_INTERVAL_MONTHS} months "
                              f"(quarterly is the minimum), not every {interval}.")
    anchor = schedule.start_date or contract_start
    due_dates: list[date] = []
    # Each date from the anchor, not from the previous date, so clamping never drifts.
    while (due := add_months(anchor, interval * (len(due_dates) + 1))) <= contract_end:
        due_dates.append(due)
    return due_dates


def validate_terms(terms: ContractTerms, *, today: date | None = None,
                   within_limits: bool = True) -> list[date]:
    """C1-C5 (and the E1 dates): raises the first PolicyViolation found, in rule order,
    and returns the reporting due dates, sorted. With `within_limits` the terms must
    also keep to `check_limits` (issue 9); with `today`, the contract must not have
    ended before it."""
    _check_phase(terms)
    _check_functions(terms)
    _check_acsass(terms)
    _check_shape(terms)
    if within_limits:
        check_limits(terms, today)
    return _check_schedule(terms)


def _check_day(day: date | None, where: str) -> None:
    if day is not None and not limits.in_date_window(day):
        raise PolicyViolation("input", where, f"{day} is outside the dates this service "
                              f"accepts, {limits.EARLIEST_DATE} to {limits.LATEST_DATE}.")


def _check_count(values: list[date], where: str, most: int) -> None:
    if len(values) > most:
        raise PolicyViolation("input", where, f"{len(values)} dates: at most {most} per "
                              "contract.")


def check_limits(terms: ContractTerms, today: date | None = None) -> None:
    """The bounds of models/limits.py (issue 9), so that no accepted contract can break its
    own workflow: a real IANA time zone (a directory such as "America" made every
    schedule computation fail), every date in the accepted window (9999-12-31 overflowed
    the deadline arithmetic), a contract of at most MAX_CONTRACT_YEARS and bounded lists
    (a schedule of 1,400 dates outgrew Temporal's 2 MB payload). With `today` (E1), a
    contract whose end of case management has already passed is refused: it could
    never be endorsed (C4) and would wait for ever."""
    if not limits.is_time_zone(terms.time_zone):
        raise PolicyViolation("input", "time_zone", f"{terms.time_zone[:64]!r} is not an IANA "
                              "time zone name such as 'Australia/Melbourne'.")
    schedule = terms.schedule
    _check_count(schedule.due_dates, "schedule.due_dates", limits.MAX_PERIODS_PER_CONTRACT)
    _check_count(terms.extra_closures, "extra_closures", limits.MAX_CALENDAR_OVERRIDES)
    _check_count(terms.removed_holidays, "removed_holidays", limits.MAX_CALENDAR_OVERRIDES)
    for name in ("contract_start", "contract_end", "order_expiry", "acsass_consulted_on",
                 "child_birth_date"):
        _check_day(getattr(terms, name), name)
    _check_day(schedule.start_date, "schedule.start_date")
    for name, days in (("schedule.due_dates", schedule.due_dates),
                       ("extra_closures", terms.extra_closures),
                       ("removed_holidays", terms.removed_holidays)):
        for index, day in enumerate(days):
            _check_day(day, f"{name}[{index}]")
    longest = add_months(terms.contract_start, 12 * limits.MAX_CONTRACT_YEARS)
    if terms.contract_end > longest:
        raise PolicyViolation("input", "contract_end", f"A contract lasts at most "
                              f"{limits.MAX_CONTRACT_YEARS} years: from {terms.contract_start} "
                              f"it ends by {longest}.")
    if today is not None and ends_on(terms) < today:
        where = "contract_end" if terms.contract_end <= terms.order_expiry else "order_expiry"
        raise PolicyViolation("E1", where, f"Case management ended on {ends_on(terms)}, "
                              f"before today ({today}): there is nothing left to contract.")


def _check_phase(terms: ContractTerms) -> None:
    """C1: only a case in the protection order phase can be contracted."""
    if terms.phase != Phase.PROTECTION_ORDER:
        raise PolicyViolation(
            "C1", "phase", f"A case in the {terms.phase.value.replace('_', ' ')} phase cannot "
            "be contracted: case contracting is only possible in the protection order phase.")


def _check_functions(terms: ContractTerms) -> None:
    """C2: total case management with no function list, or a non-empty list of distinct
    contractable functions. A list next to total case management is refused rather than
    ignored, so a function someone believed they had listed is never silently dropped."""
    if terms.total_case_management:
        if terms.functions:
            raise PolicyViolation("C2", "functions", "A contract for total case management "
                                  "lists no functions; send an empty list.")
        return
    if not terms.functions:
        raise PolicyViolation("C2", "functions", "List the contracted functions, or contract "
                              "total case management.")
    seen: set[str] = set()
    for index, code in enumerate(terms.functions):
        where = f"functions[{index}]"
        if code in NON_CONTRACTABLE_FUNCTIONS:
            raise PolicyViolation("C2", where, f"{code!r} is a responsibility of child "
                                  "protection and can never be contracted.")
        if code not in CONTRACTABLE_FUNCTIONS:
            allowed = ", ".join(sorted(CONTRACTABLE_FUNCTIONS))
            raise PolicyViolation("C2", where, f"Unknown function {code!r}; contractable "
                                  f"functions are: {allowed}.")
        if code in seen:
            raise PolicyViolation("C2", where, f"{code!r} is listed twice.")
        seen.add(code)


def _check_acsass(terms: ContractTerms) -> None:
    """C3: for an Aboriginal child, ACSASS is consulted on or before the contract start."""
    if not terms.aboriginal_child:
        return
    consulted = terms.acsass_consulted_on
    if consulted is None:
        raise PolicyViolation("C3", "acsass_consulted_on", "For an Aboriginal child, the "
                              "consultation with ACSASS must be recorded before contracting.")
    if consulted > terms.contract_start:
        raise PolicyViolation("C3", "acsass_consulted_on", f"ACSASS was consulted on "
                              f"{consulted}, after the contract start {terms.contract_start}.")


def is_id(value: str) -> bool:
    """An id as every id of this service is: a code of at most 64 characters."""
    return _ID_PATTERN.fullmatch(value) is not None


def _require_id(value: str | None, where: str, rule: str = "input") -> None:
    if not value or not value.strip():
        raise PolicyViolation(rule, where, "Required.")
    if not is_id(value):
        raise PolicyViolation("input", where, "An id of at most 64 letters, digits and "
                              "'.', '_', ':' or '-' (ids only: no names or free text).")


MAX_CONTACT_FREQUENCY_DAYS = 365
"""K1: contact is expected at the plan's frequency, and at least once a year."""


def _check_shape(terms: ContractTerms) -> None:
    """Plain input errors (rule "input"), then the contract's dates (E1)."""
    _require_id(terms.case_id, "case_id")
    _require_id(terms.agency_id, "agency_id")
    for name in ("jurisdiction", "time_zone"):
        if not getattr(terms, name).strip():
            raise PolicyViolation("input", name, "Required.")
    if not 1 <= terms.contact_frequency_days <= MAX_CONTACT_FREQUENCY_DAYS:
        raise PolicyViolation("K1", "contact_frequency_days",
                              f"Between 1 and {MAX_CONTACT_FREQUENCY_DAYS} days: the child is "
                              "seen at least once a year.")
    if terms.contract_end <= terms.contract_start:
        raise PolicyViolation("E1", "contract_end", f"The contract ends on "
                              f"{terms.contract_end}, not after its start {terms.contract_start}.")
    if terms.order_expiry <= terms.contract_start:
        raise PolicyViolation("E1", "order_expiry", f"The protection order expires on "
                              f"{terms.order_expiry}, not after the contract start "
                              f"{terms.contract_start}.")


def _check_schedule(terms: ContractTerms) -> list[date]:
    """C5: at least one report; each due date after the contract start and its
    predecessor, none after the end of case management (E1: no report is owed once the
    agency no longer holds the case); and no gap longer than three calendar months from
    the start to the first report, between reports, or from the last report to the end."""
    schedule, start, end = terms.schedule, terms.contract_start, ends_on(terms)
    explicit = bool(schedule.due_dates)
    if not explicit and schedule.start_date is not None and schedule.start_date < start:
        raise PolicyViolation("C5", "schedule.start_date", f"The schedule starts on "
                              f"{schedule.start_date}, before the contract start {start}.")
    resolved = resolve_due_dates(schedule, start, end)
    if not resolved:
        raise PolicyViolation("C5", "schedule", f"No report falls due before the end of case "
                              f"management on {end}.")
    due_dates = schedule.due_dates if explicit else resolved

    def where(index: int) -> str:
        if explicit:
            return f"schedule.due_dates[{index}]"
        return "schedule.start_date" if index == 0 else "schedule.interval_months"

    previous = start
    for index, due in enumerate(due_dates):
        if index > 0 and due <= previous:
            raise PolicyViolation("C5", where(index), f"{due} is not after the previous due "
                                  f"date {previous}; list each date once, in order.")
        if due <= start:
            raise PolicyViolation("C5", where(index), f"{due} is not after the contract "
                                  f"start {start}.")
        if due > end:
            raise PolicyViolation("C5", where(index), f"{due} is after the end of case "
                                  f"management on {end} (contract end or order expiry).")
        if due > _three_months_after(previous):
            raise PolicyViolation("C5", where(index), f"{due} is more than three months "
                                  f"after {previous}: quarterly reporting is the minimum.")
        previous = due
    if end > _three_months_after(previous):
        raise PolicyViolation("C5", "schedule.due_dates", f"No report between {previous} and "
                              f"the end of case management on {end}, more than three months: "
                              "quarterly reporting is the minimum.")
    return resolved


def child_must_sign(child_birth_date: date | None, on: date,
                    min_age_years: int = CHILD_SIGNATURE_AGE_YEARS) -> bool:
    """C4/C6: the child signs (and gets a copy) from their `min_age_years`th birthday.
    "Over the age of 10 years" (procedure 1028) is read as having turned 10: on their
    10th birthday a child is 10 years of age and over. A 29 February birthday falls on
    1 March in common years. Unknown birth date: not required by age (the practitioner
    may still add the child as a signatory)."""
    if child_birth_date is None:
        return False
    before_birthday = (on.month, on.day) < (child_birth_date.month, child_birth_date.day)
    return on.year - child_birth_date.year - before_birthday >= min_age_years


def validate_endorsement(terms: ContractTerms, endorsement: Endorsement) -> None:
    """C4: the team manager endorses; the case planning decision maker, the agency
    representative, the child (when child_must_sign on the endorsement day, unless a
    recorded decision says signing is not age-appropriate for them) and a parent or
    guardian have signed on or before it. A parent may decline only with a recorded
    best-interests decision. C3: never endorsed before the ACSASS consultation. The
    endorsement may precede the contract start (a contract signed in advance is active
    from its start) but not the end of case management."""
    on = endorsement.endorsed_on
    _require_id(endorsement.team_manager_id, "team_manager_id", rule="C4")
    _check_day(on, "endorsed_on")
    if len(endorsement.signatories) > limits.MAX_SIGNATORIES:
        raise PolicyViolation("input", "signatories", f"At most {limits.MAX_SIGNATORIES} "
                              "signatories.")
    # Ids travel into history whether or not a rule needs them (DESIGN decision 6).
    if endorsement.best_interests_decision_id is not None:
        _require_id(endorsement.best_interests_decision_id, "best_interests_decision_id",
                    rule="C4")
    if terms.aboriginal_child and (terms.acsass_consulted_on is None
                                   or on < terms.acsass_consulted_on):
        raise PolicyViolation("C3", "endorsed_on", "An Aboriginal child's contract is endorsed "
                              "only after the ACSASS consultation is recorded.")
    if on >= ends_on(terms):
        raise PolicyViolation("C4", "endorsed_on", f"Endorsed on {on}, when case management "
                              f"has ended ({ends_on(terms)}).")
    signed: set[SignatoryRole] = set()
    declined_parent = False
    for index, signatory in enumerate(endorsement.signatories):
        where = f"signatories[{index}]"
        _require_id(signatory.person_id, f"{where}.person_id")
        _check_day(signatory.signed_on, f"{where}.signed_on")
        if signatory.declined:
            if signatory.role != SignatoryRole.PARENT_GUARDIAN:
                raise PolicyViolation("C4", f"{where}.declined", "Only a parent or guardian "
                                      "may decline to sign.")
            declined_parent = True
            continue
        if signatory.signed_on is None:
            raise PolicyViolation("C4", f"{where}.signed_on", "Not signed yet.")
        if signatory.signed_on > on:
            raise PolicyViolation("C4", f"{where}.signed_on", f"Signed on "
                                  f"{signatory.signed_on}, after the endorsement on {on}.")
        signed.add(signatory.role)
    required = [SignatoryRole.CP_DECISION_MAKER, SignatoryRole.AGENCY_REPRESENTATIVE]
    if endorsement.child_not_signing_decision_id is not None:
        _require_id(endorsement.child_not_signing_decision_id,
                    "child_not_signing_decision_id", rule="C4")
    elif child_must_sign(terms.child_birth_date, on):
        required.append(SignatoryRole.CHILD)
    missing = [role.value for role in required if role not in signed]
    if not declined_parent and SignatoryRole.PARENT_GUARDIAN not in signed:
        missing.append(SignatoryRole.PARENT_GUARDIAN.value)
    if missing:
        raise PolicyViolation("C4", "signatories", f"Missing signatures: {', '.join(missing)}.")
    if declined_parent:
        _require_id(endorsement.best_interests_decision_id, "best_interests_decision_id",
                    rule="C4")


# ------------------------------------------------------------------ R4 - R6
class Assessment(StrEnum):
    """R4: the practitioner's assessment of a report."""

    ADEQUATE = "adequate"
    SEEK_FURTHER_INFORMATION = "seek_further_information"
    REQUEST_RESUBMISSION = "request_resubmission"
    DISCUSS_PROGRESS = "discuss_progress"
    HOLD_MEETING = "hold_meeting"
    INADEQUATE_QUALITY = "inadequate_quality"


# The others are follow-ups that leave the period awaiting a final assessment;
# REQUEST_RESUBMISSION also keeps the period open for a new report (R4).
FINAL_ASSESSMENTS: frozenset[Assessment] = frozenset({
    Assessment.ADEQUATE, Assessment.INADEQUATE_QUALITY})


class Outcome(StrEnum):
    PENDING = "pending"
    SUCCESS = "success"
    LATE = "late"
    MISSING = "missing"
    INADEQUATE = "inadequate"


def period_outcome(*, overdue_at: datetime, first_report_at: datetime | None,
                   final_assessment: Assessment | None, period_ended: bool,
                   awaiting_resubmission: bool = False) -> Outcome:
    """R5: judged on the FIRST report's arrival (on time when before `overdue_at`, the
    instant the due date ends). A late report is a failure whatever its quality, so LATE
    is known on arrival; no report by the period's end is MISSING; an on-time report is
    SUCCESS or INADEQUATE once finally assessed, PENDING until then.

    A requested resubmission (R4) that has not arrived when the period ends is MISSING
    too: R5 fails a report that "never arrived before the next due date", and the
    period can no longer accept one, so waiting longer would leave it PENDING for good
    and stall the R6 count behind it."""
    if first_report_at is None:
        return Outcome.MISSING if period_ended else Outcome.PENDING
    if first_report_at >= overdue_at:
        return Outcome.LATE
    if final_assessment == Assessment.ADEQUATE:
        return Outcome.SUCCESS
    if final_assessment == Assessment.INADEQUATE_QUALITY:
        return Outcome.INADEQUATE
    if awaiting_resubmission and period_ended:
        return Outcome.MISSING
    return Outcome.PENDING


def is_failure(outcome: Outcome) -> bool:
    """R5: late, missing or of inadequate quality."""
    return outcome in (Outcome.LATE, Outcome.MISSING, Outcome.INADEQUATE)


@dataclass
class StreakState:
    consecutive_failures: int = 0
    triggered: bool = False


def advance_streak(state: StreakState, outcome: Outcome) -> tuple[StreakState, bool]:
    """R6 as counted before the `r6-undecided-periods` patch (kept so that runs started
    by that code replay): feed decided outcomes in period order. A failure extends the
    streak, a success resets it; the exception-audit recommendation fires once per
    streak, when it reaches STREAK_THRESHOLD. PENDING changes nothing. Returns a new
    state (the input is not modified) and whether this outcome fires the
    recommendation."""
    if outcome == Outcome.PENDING:
        return replace(state), False
    if not is_failure(outcome):
        return StreakState(), False
    count = state.consecutive_failures + 1
    fires = count >= STREAK_THRESHOLD and not state.triggered
    return StreakState(count, state.triggered or fires), fires


# R6 since the `r6-undecided-periods` patch (issue 9): an undecided period never hides
# a streak.
@dataclass(frozen=True)
class StreakSpan:
    """R6: a streak that triggered, as the first and last period it covered when it did.
    A streak of decided failures is contiguous in period order (undecided periods inside
    it skipped), so the two ends identify it, however long the contract."""

    first_period: int
    last_period: int


@dataclass(frozen=True)
class StreakTally:
    """R6 over a case's periods: the current count, whether the current streak has
    already triggered, and the streaks that trigger now (not yet in `triggered_before`)."""

    consecutive_failures: int
    triggered: bool
    new_streaks: tuple[StreakSpan, ...]


def failure_runs(outcomes: Sequence[tuple[int, Outcome]]) -> list[list[int]]:
    """R6: the maximal runs of consecutive DECIDED failures, in period order, as period
    indexes. An undecided (PENDING) period neither breaks nor joins a run: it is
    skipped, so F, PENDING, F, F is one run of three. A success ends a run."""
    runs: list[list[int]] = []
    current: list[int] = []
    for index, outcome in sorted(outcomes):
        if outcome == Outcome.PENDING:
            continue
        if is_failure(outcome):
            current.append(index)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _contains(run: list[int], span: StreakSpan) -> bool:
    """The run still holds the whole triggered streak (ends included, so everything
    between): it is that streak, grown or joined by a period decided later."""
    return run[0] <= span.first_period and span.last_period <= run[-1]


def tally_streaks(outcomes: Sequence[tuple[int, Outcome]],
                  triggered_before: Sequence[StreakSpan]) -> StreakTally:
    """R6: failures on three consecutive periods trigger LEO liaison and an exception
    audit recommendation; a success resets the count; one streak triggers once.

    Computed afresh from every period's outcome (`(index, outcome)`, any order), so a
    period decided late takes its place in period order:
    - an undecided period neither breaks nor joins a streak until it is decided, so
      three decided failures in a row always trigger at once, whatever waits between;
    - decided a failure, it joins the streak around it (two runs may become one: still
      one streak if either had triggered);
    - decided a success, it splits the streak around it. A recommendation already made
      stands (`triggered_before` keeps it), but the count is recomputed, and a part
      that grows to three failures again without holding the whole triggered streak is
      a new streak that triggers on its own.
    A run of STREAK_THRESHOLD or more triggers unless it contains a streak in
    `triggered_before`. The count is the run the last decided period ends (0 when that
    period succeeded); `triggered` says whether that run has triggered."""
    runs = failure_runs(outcomes)
    new_streaks = tuple(
        StreakSpan(run[0], run[-1]) for run in runs
        if len(run) >= STREAK_THRESHOLD
        and not any(_contains(run, span) for span in triggered_before)
    )
    decided = sorted(i for i, outcome in outcomes if outcome != Outcome.PENDING)
    current = runs[-1] if runs and decided and runs[-1][-1] == decided[-1] else []
    triggered = bool(current) and any(
        _contains(current, span) for span in (*triggered_before, *new_streaks))
    return StreakTally(len(current), triggered, new_streaks)


def legacy_triggered_streaks(counted: Sequence[tuple[int, Outcome]]) -> list[StreakSpan]:
    """R6: the streaks that code before the `r6-undecided-periods` patch triggered, from
    the periods it had counted (`PeriodState.streak_counted`, a prefix of the periods,
    all decided). It triggered every run that reached STREAK_THRESHOLD, at its third
    failure, so a state carried from it loads with those recommendations kept and
    nothing recommended twice."""
    return [StreakSpan(run[0], run[STREAK_THRESHOLD - 1]) for run in failure_runs(counted)
            if len(run) >= STREAK_THRESHOLD]


def final_assessment_escalation_at(period_ends_at: datetime) -> datetime:
    """R4/R6: a period that ended with its on-time report still awaiting a final
    assessment is undecided, and holds its place in the R6 count until it is decided.
    The practitioner gets a task to assess it when the period ends; if it is still
    unassessed FINAL_ASSESSMENT_GRACE_DAYS (two weeks, as for a V4 review) after the
    period ended, the team manager is told. Calendar days on the UTC instant: no holiday
    calendar is needed inside the workflow (DESIGN decision 1), and across a daylight
    saving change the notice moves by the hour, which a two-week grace can bear."""
    return period_ends_at + timedelta(days=FINAL_ASSESSMENT_GRACE_DAYS)
