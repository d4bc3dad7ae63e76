"""Request bodies. Each mirrors the workflow message it becomes (models/messages.py,
models/terms.py) but carries free text too: the routes store that text as a note and
send the workflow only the note's id (DESIGN decision 6).

Codes that the workflow checks (assessment, event kind, review kind ...) are plain
strings here, listed as `enum` in the OpenAPI schema, so that a wrong value is refused
by the rule that owns it and the 422 names that rule (`R4`, `R7`, `V3` ...)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, JsonValue, field_validator

from api.schemas.common import Id, IsoDate, ItemId, PersonRef, StrictInput, Text, TimeZoneName
from models import limits
from models.terms import (
    ContractTerms,
    Endorsement,
    Phase,
    ReportingSchedule,
    Signatory,
    SignatoryRole,
)
from workflows import policy
from workflows.engine_contacts import CONTACT_KINDS
from workflows.engine_reviews import REQUESTER_ROLES
from workflows.prior_outcomes import IMPORTABLE_OUTCOMES


def _actor(what: str) -> Any:
    """An actor id field (issue 9): who did it is the token's subject."""
    return Field(default="", description=f"Who {what}. Default: the caller's token subject; "
                 "any other id is refused (403) unless the caller is an admin.")


def _role(values: Any, rule: str) -> Any:
    """A domain role field (issue 9): derived from the caller's token role when left
    out (README: *Who did it*); a role the token does not hold is refused (403)."""
    allowed: list[JsonValue] = [*sorted(values), None]
    return Field(default=None, description=f"A code checked by {rule}. Default: derived "
                 "from the caller's token role (README, *Who did it*); a role the token "
                 "does not vouch for is refused (403).",
                 json_schema_extra={"enum": allowed, "x-rule": rule})


def _codes(values: Any, rule: str, **field: Any) -> Any:
    """A code field: its allowed values are documented, and checked by rule `rule`."""
    allowed: list[JsonValue] = sorted(values)
    if "default" in field and field["default"] is None:
        allowed.append(None)
    return Field(**field, description=f"A code checked by {rule}.",
                 json_schema_extra={"enum": allowed, "x-rule": rule})


class ScheduleIn(StrictInput):
    """C5: explicit due dates, or an interval of 1-3 months from `start_date` (default:
    the contract start)."""

    due_dates: list[IsoDate] = Field(default_factory=list,
                                     max_length=limits.MAX_PERIODS_PER_CONTRACT)
    start_date: IsoDate | None = None
    interval_months: int | None = None


class CaseRegistration(StrictInput):
    """A case contract to register (C1-C5). Ids, codes and dates only: names and notes
    about the child or family never go here."""

    # Its examples are dated from the day /openapi.json is served
    # (api/openapi_dated_examples.py), as are those of the endorsement, the contact, the
    # review outcome, the closure and the closure day: sent in order they succeed on any
    # day (issue 12).

    case_id: Id = Field(description="The case's id; the workflow is case-contract-<case_id>.")
    agency_id: Id
    phase: Phase = Field(strict=False, description="C1: only protection_order can be "
                         "contracted.")
    total_case_management: bool = Field(description="C2: total case management, or ...")
    functions: list[str] = Field(
        default_factory=list, max_length=len(policy.CONTRACTABLE_FUNCTIONS),
        description="C2: ... the specified functions (codes).",
        json_schema_extra={"items": {"enum": list[JsonValue](
            sorted(policy.CONTRACTABLE_FUNCTIONS))}})
    aboriginal_child: bool = False
    acsass_consulted_on: IsoDate | None = Field(default=None, description="C3")
    child_birth_date: IsoDate | None = Field(default=None,
                                             description="C4: child signs from 10")
    schedule: ScheduleIn
    contract_start: IsoDate
    contract_end: IsoDate = Field(description="Not before today; at most MAX_CONTRACT_YEARS "
                                  "after the start.")
    order_expiry: IsoDate = Field(description="A real date in the accepted window (no "
                                  "9999-12-31 for \"no expiry\").")
    jurisdiction: str | None = Field(default=None, min_length=2, max_length=16,
                                     description="Default: the JURISDICTION setting.")
    time_zone: TimeZoneName | None = Field(
        default=None, description="An IANA zone name. Default: the TIME_ZONE setting.")
    extra_closures: list[IsoDate] = Field(default_factory=list,
                                          max_length=limits.MAX_CALENDAR_OVERRIDES)
    removed_holidays: list[IsoDate] = Field(default_factory=list,
                                            max_length=limits.MAX_CALENDAR_OVERRIDES)
    contact_frequency_days: int = Field(
        default=14, ge=1, le=policy.MAX_CONTACT_FREQUENCY_DAYS,
        description="K1: the case plan's contact frequency; a longer gap is evidence of "
        "lack of client contact (R7).")
    prior_outcomes: list[str] = Field(
        default_factory=list, max_length=limits.MAX_PERIODS_PER_CONTRACT,
        description="A contract taken on part-way through (issue 15, `casework import`): "
        "the outcome (R5) of each period due before today, in period order -- one for "
        "each, none for later ones. Those periods are settled: no R1-R3 deadline of "
        "theirs fires, and they count towards R6 with the periods that follow (a streak "
        "wholly among them recommends no audit). Not part of the terms: registering "
        "the same terms again with other outcomes is still the same registration.",
        json_schema_extra={"items": {"enum": list[JsonValue](IMPORTABLE_OUTCOMES)}})

    def to_terms(self, jurisdiction: str, time_zone: str) -> ContractTerms:
        return ContractTerms(
            case_id=self.case_id, agency_id=self.agency_id, phase=self.phase,
            total_case_management=self.total_case_management, functions=list(self.functions),
            aboriginal_child=self.aboriginal_child,
            acsass_consulted_on=self.acsass_consulted_on,
            child_birth_date=self.child_birth_date,
            schedule=ReportingSchedule(due_dates=list(self.schedule.due_dates),
                                       start_date=self.schedule.start_date,
                                       interval_months=self.schedule.interval_months),
            contract_start=self.contract_start, contract_end=self.contract_end,
            order_expiry=self.order_expiry,
            jurisdiction=self.jurisdiction or jurisdiction,
            time_zone=self.time_zone or time_zone,
            extra_closures=list(self.extra_closures),
            removed_holidays=list(self.removed_holidays),
            contact_frequency_days=self.contact_frequency_days,
        )


class SignatoryIn(StrictInput):
    role: SignatoryRole = Field(strict=False)
    person_id: Id
    signed_on: IsoDate | None = None
    declined: bool = Field(default=False, description="C4: a parent or guardian only.")


class EndorsementIn(StrictInput):
    """C4: the team manager's endorsement; the contract is active from it."""

    team_manager_id: PersonRef = _actor("endorsed (C4)")
    endorsed_on: IsoDate
    signatories: list[SignatoryIn] = Field(max_length=limits.MAX_SIGNATORIES)
    best_interests_decision_id: Id | None = None
    child_not_signing_decision_id: Id | None = Field(
        default=None, description="C4: id of the recorded decision that signing is not "
        "age-appropriate for this child, who then need not sign whatever their age.")

    def to_endorsement(self, team_manager_id: str) -> Endorsement:
        """`team_manager_id` as checked against the caller's token (api/actors.py)."""
        return Endorsement(
            team_manager_id=team_manager_id, endorsed_on=self.endorsed_on,
            signatories=[Signatory(role=s.role, person_id=s.person_id, signed_on=s.signed_on,
                                   declined=s.declined) for s in self.signatories],
            best_interests_decision_id=self.best_interests_decision_id,
            child_not_signing_decision_id=self.child_not_signing_decision_id,
        )


class ReportIn(StrictInput):
    """R4: a progress report arrived. `report_id` makes the request repeat-safe."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"report_id": "rep-q1"}]})

    report_id: Id
    period_index: int | None = Field(
        default=None, ge=0, lt=limits.MAX_PERIODS_PER_CONTRACT,
        description="Default: the one period awaiting a report (R4). When several are "
                    "(a late or resubmitted report for an earlier period, and the current "
                    "one), the report is refused with 422 naming them: give period_index.")
    submitted_by: PersonRef = _actor("handed the report to the service")


class AssessmentIn(StrictInput):
    """R4: the practitioner's assessment of a received report."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"assessment": "adequate"}]})

    assessment: str = _codes((a.value for a in policy.Assessment), "R4")
    assessed_by: PersonRef = _actor("assessed the report")
    assessment_id: Id | None = Field(
        default=None, description="Repeat-safety key. Without it the same assessment of "
        "the same report is answered once; give a fresh one for a second round of the "
        "same follow-up (e.g. seek_further_information again).")


class EventIn(StrictInput):
    """R7 exception-audit triggers, or (`kind` = contract_concern) a V4 concern that
    needs a contract review within two weeks. `event_id` makes it repeat-safe."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"event_id": "evt-311", "kind": "complaint_from_child_or_family"},
        {"event_id": "evt-312", "kind": "contract_concern", "concern": "escalated_risk"}]})

    event_id: Id
    kind: str = _codes([*policy.R7_TRIGGERS, "contract_concern"], "R7")
    concern: str | None = _codes(policy.V4_CONCERNS, "V4", default=None)
    raised_by: PersonRef = _actor("raised it")
    raised_by_role: str | None = _role(REQUESTER_ROLES, "V4")
    occurred_on: IsoDate | None = None


class FindingsIn(StrictInput):
    """R8: an exception audit's findings and recommendations to the CSO. The text is
    stored as notes; `findings_id` makes the request repeat-safe."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "findings_id": "fnd-1", "findings": "Two home visits missed in January.",
        "recommendations": "Weekly visits until the next review."}]})

    findings_id: Id
    findings: Text
    recommendations: Text
    recorded_by: PersonRef = _actor("recorded the findings")


class CloseAuditIn(StrictInput):
    closed_by: PersonRef = _actor("closed the audit")


class CompleteTaskIn(StrictInput):
    completed_by: PersonRef = _actor("completed the task")


class ReviewIn(StrictInput):
    """V3 unscheduled case plan review, or V4 contract review after a concern. The reason
    is stored as a note; `review_id` makes the request repeat-safe."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "review_id": "rev-5", "kind": "contract", "concern": "placement_ended_unexpectedly",
        "reason": "Carer gave notice on 3 March."}]})

    review_id: Id
    kind: str = _codes(["case_plan", "contract"], "V3")
    concern: str | None = _codes(policy.V4_CONCERNS, "V4", default=None)
    requested_by_role: str | None = _role(REQUESTER_ROLES, "V3")
    reason: Text
    requested_by: PersonRef = _actor("requested the review")
    raised_on: IsoDate | None = Field(
        default=None, description="V4: the day the concern was raised, if before today: "
        "the two weeks for the contract review run from then.")


class ReviewOutcomeIn(StrictInput):
    """V5/V6: what a held review decided; every field is optional. Notes are stored as a
    note, never sent to the workflow."""

    decided_by: PersonRef = _actor("recorded the decision")
    new_due_dates: list[IsoDate] | None = Field(default=None,
                                                max_length=limits.MAX_PERIODS_PER_CONTRACT)
    new_contract_end: IsoDate | None = None
    total_case_management: bool | None = None
    new_functions: list[str] | None = Field(default=None,
                                            max_length=len(policy.CONTRACTABLE_FUNCTIONS))
    draft_plan_version: Id | None = None
    endorse_plan_version: Id | None = None
    return_to_cp: bool = Field(default=False, description="E1: ends the contract.")
    notes: Text | None = None


class ContactIn(StrictInput):
    """K1: a contact with the child. `contact_id` makes the request repeat-safe."""

    contact_id: Id
    occurred_on: IsoDate
    kind: str = _codes(CONTACT_KINDS, "K1")
    by_role: str | None = _role(["agency", "practitioner"], "K1")
    by: PersonRef = _actor("recorded the contact")


class CarryOverIn(StrictInput):
    item_id: ItemId = Field(description="An id from the refusal's `open_items`.")
    reason: Text


class ClosureIn(StrictInput):
    """E2: close the case with a summary; every open item must be carried over with a
    reason. Summary and reasons are stored as notes."""

    summary: Text
    carried_over: list[CarryOverIn] = Field(default_factory=list,
                                            max_length=limits.MAX_CARRIED_OVER)
    closed_by: PersonRef = _actor("closed the case")

    @field_validator("carried_over")
    @classmethod
    def _each_item_once(cls, items: list[CarryOverIn]) -> list[CarryOverIn]:
        ids = [item.item_id for item in items]
        if len(ids) != len(set(ids)):
            raise ValueError("each open item is carried over once, with one reason")
        return items


class ClosureDayIn(StrictInput):
    """A one-off closure day (R1-R3 count business days): running cases of the
    jurisdiction recompute the deadlines that have not passed."""

    jurisdiction: str = Field(min_length=2, max_length=16)
    day: IsoDate
    name: str = Field(min_length=1, max_length=120)
