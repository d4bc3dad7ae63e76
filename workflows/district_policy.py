"""Pure rules of requests between districts (DOMAIN T1-T4; WA procedure 2.2.9).

Which deadlines a request has, what each decision may follow, and how a dispute climbs
its ladder. No clock and no I/O: workflows call these with `workflow.now()`, tests call
them directly.
"""

from __future__ import annotations

from models.district import DeadlineSpec
from models.errors import PolicyViolation
from workflows.errors import conflict, invalid

# T1: case transfer requests.
T1_RESOLVE_WORKING_DAYS = 2
T1_COMPLETE_WORKING_DAYS = 5
T1_IN_CARE_RESOLVE_WORKING_DAYS = 5
T1_IN_CARE_COMPLETE_CALENDAR_DAYS = 28  # "transferred in under four weeks"
# T2: requests for services.
T2_ACCEPT_WORKING_DAYS = 1
# T3: the dispute ladder.
T3_DISAGREEMENT_WORKING_DAYS = 2
T3_WHOLE_PROCESS_WORKING_DAYS = 10
ASSISTANT_DIRECTORS = "assistant_directors"
DISTRICT_DIRECTORS = "district_directors"
DIRECTOR = "director"  # a director, service delivery, Professional Practice Unit
LADDER: tuple[tuple[str, int], ...] = (
    (ASSISTANT_DIRECTORS, 1),
    (DISTRICT_DIRECTORS, 2),
    (DIRECTOR, 5),
)
"""T3: each level and the working days it has from receiving the dispute."""
STAGE_RECIPIENT = {
    ASSISTANT_DIRECTORS: "assistant_district_director",
    DISTRICT_DIRECTORS: "district_director",
    DIRECTOR: "director_service_delivery",
}
OUTCOMES = ("proceed", "withdraw")
# T4: co-working arrangements.
T4_REVIEW_MONTHS = 3
T4_REMINDER_WORKING_DAYS = 5

# Request statuses.
OPEN = "open"
ACCEPTED = "accepted"  # resolved in principle (T1) / accepted (T2)
COMPLETED = "completed"
DISPUTED = "disputed"
DECLINED = "declined"  # a dispute ended with the request withdrawn
RESOLVED = "resolved"  # a dispute that has its decision
ACTIVE = "active"
ENDED = "ended"
DECISIONS = ("accept", "complete", "reject")


def check_districts(from_district: str, to_district: str) -> None:
    """T1-T4 are between two districts: a district does not request itself."""
    if from_district == to_district:
        raise PolicyViolation("T1", "to_district",
                              "the receiving district must differ from the requesting one")


def transfer_deadlines(child_in_care: bool) -> list[DeadlineSpec]:
    """T1: resolved in principle within 2 working days and completed within 5; for a
    child in the CEO's care, resolved within 5 working days and transferred in under
    four weeks."""
    if child_in_care:
        return [DeadlineSpec("resolve", "T1", working_days=T1_IN_CARE_RESOLVE_WORKING_DAYS),
                DeadlineSpec("complete", "T1",
                             calendar_days=T1_IN_CARE_COMPLETE_CALENDAR_DAYS)]
    return [DeadlineSpec("resolve", "T1", working_days=T1_RESOLVE_WORKING_DAYS),
            DeadlineSpec("complete", "T1", working_days=T1_COMPLETE_WORKING_DAYS)]


def completion_after_dispute(child_in_care: bool) -> DeadlineSpec:
    """T1 after a T3 decision that the transfer proceeds: the decision resolves it, and
    completion runs afresh from the decision (5 working days, under four weeks in care)."""
    return transfer_deadlines(child_in_care)[1]


def service_deadlines() -> list[DeadlineSpec]:
    """T2: requests for services are accepted within 1 working day."""
    return [DeadlineSpec("accept", "T2", working_days=T2_ACCEPT_WORKING_DAYS)]


def dispute_deadlines() -> list[DeadlineSpec]:
    """T3, counted from the request's opening: the receiving district's disagreement is
    due within 2 working days of receiving it, and the whole process within 10."""
    return [DeadlineSpec("disagreement", "T3", working_days=T3_DISAGREEMENT_WORKING_DAYS),
            DeadlineSpec("whole_process", "T3",
                         working_days=T3_WHOLE_PROCESS_WORKING_DAYS)]


def stage_deadline(stage: str) -> DeadlineSpec:
    """T3: the level's working days, counted from the day it received the dispute."""
    for name, working_days in LADDER:
        if name == stage:
            return DeadlineSpec(stage, "T3", working_days=working_days)
    raise ValueError(f"unknown dispute stage {stage!r}")


def next_stage(stage: str) -> str | None:
    """T3: the level a dispute goes to when this one cannot resolve it (or its deadline
    passes); None after the director, whose decision is final."""
    names = [name for name, _ in LADDER]
    position = names.index(stage)
    return names[position + 1] if position + 1 < len(names) else None


def coworking_review() -> DeadlineSpec:
    """T4: ongoing co-working arrangements are reviewed every three months."""
    return DeadlineSpec("review", "T4", months=T4_REVIEW_MONTHS,
                        reminder_working_days=T4_REMINDER_WORKING_DAYS)


def check_decision(kind: str, status: str, decision: str, reason_id: str | None) -> None:
    """What a decision may follow (T1, T2): accept and reject an open request; complete
    an accepted transfer (or an open one: completing resolves it too). A service request
    is done once accepted. A rejection needs its reason (the disagreement, T3)."""
    if decision not in DECISIONS or (kind != "transfer" and decision == "complete"):
        raise invalid(f"unknown decision {decision!r}", field="decision", rule=_rule(kind))
    if decision == "reject" and not reason_id:
        raise invalid("a rejection states its reason (T3 disagreement)", field="reason",
                      rule="T3")
    allowed = {"accept": (OPEN,), "reject": (OPEN,), "complete": (OPEN, ACCEPTED)}
    if status not in allowed[decision]:
        raise conflict(f"the request is {status}; it cannot be {_past(decision)} now",
                       field="status", rule=_rule(kind))


def check_referral(stage: str, status: str, from_stage: str) -> None:
    """T3: a referral names the level it leaves, so a repeat after the move (or a race
    with the deadline's own escalation) is not taken for a second referral."""
    if status != OPEN:
        raise conflict("the dispute is decided", field="status", rule="T3")
    if from_stage != stage:
        raise conflict(f"the dispute is with the {stage}, not the {from_stage}",
                       field="from_stage", rule="T3")
    if next_stage(stage) is None:
        raise conflict("the director's decision is final; there is no level above",
                       field="from_stage", rule="T3")


def check_resolution(status: str, outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise invalid(f"outcome must be one of {', '.join(OUTCOMES)}", field="outcome",
                      rule="T3")
    if status != OPEN:
        raise conflict("the dispute is decided", field="status", rule="T3")


def _rule(kind: str) -> str:
    return "T1" if kind == "transfer" else "T2"


def _past(decision: str) -> str:
    return {"accept": "accepted", "reject": "rejected", "complete": "completed"}[decision]



