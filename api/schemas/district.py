"""Request and response bodies of the requests between districts (DOMAIN T1-T4).
Examples name no dates, so they are valid on any day."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Id, IsoDate, ItemId, Page, PersonRef, StrictInput, Text, UtcDateTime
from api.schemas.views import AcceptedView


class TransferIn(StrictInput):
    """T1: opened by the transferring district; `request_id` makes it repeat-safe."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "request_id": "tr-2031", "case_id": "case-881", "from_district": "perth",
        "to_district": "joondalup", "child_in_care": True}]})

    request_id: Id
    case_id: Id
    from_district: Id = Field(description="The transferring district (the caller's).")
    to_district: Id = Field(description="The receiving district.")
    child_in_care: bool = Field(description="T1: a child in the CEO's care has 5 working "
                                "days to resolve and under four weeks to transfer.")


class ServiceRequestIn(StrictInput):
    """T2: accepted within 1 working day."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "request_id": "sr-77", "case_id": "case-881", "from_district": "kimberley",
        "to_district": "joondalup"}]})

    request_id: Id
    case_id: Id
    from_district: Id
    to_district: Id


class DecisionIn(StrictInput):
    """Accept (resolved in principle), complete (transfers only), or reject with a
    reason: a rejection is the disagreement that starts the T3 dispute. The reason is
    stored as a note; only its id goes to the workflow."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"decision": "accept"},
        {"decision": "reject", "reason": "The family is in short-term emergency housing."}]})

    decision: Literal["accept", "complete", "reject"]
    reason: Text | None = None
    decided_by: PersonRef = ""


class ReferralIn(StrictInput):
    """T3: negotiation failed at `from_stage`; the next level takes the dispute now."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"from_stage": "assistant_directors"}]})

    from_stage: Literal["assistant_directors", "district_directors"]
    referred_by: PersonRef = ""


class ResolutionIn(StrictInput):
    """T3: the resolution agreed at a level, or the director's final decision, with its
    rationale (stored as a note on the case file)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "outcome": "proceed",
        "rationale": "The child's placement is stable; the receiving district co-works."}]})

    outcome: Literal["proceed", "withdraw"]
    rationale: Text
    decided_by: PersonRef = ""


class CoworkingIn(StrictInput):
    """T4: an ongoing co-working arrangement, reviewed every three months from
    `started_on` (default: today in Perth)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "arrangement_id": "cw-12", "case_id": "case-881", "from_district": "perth",
        "to_district": "midland"}]})

    arrangement_id: Id
    case_id: Id
    from_district: Id = Field(description="The district managing the case.")
    to_district: Id = Field(description="The co-working district.")
    started_on: IsoDate | None = None


class CoworkingReviewIn(StrictInput):
    """T4: a review held (default: today in Perth); the notes are stored as a note."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "review_id": "cw-12-r1", "notes": "Both districts agree the arrangement continues."}]})

    review_id: Id
    notes: Text
    reviewed_on: IsoDate | None = None
    reviewed_by: PersonRef = ""


class EndCoworkingIn(StrictInput):
    """T4: the arrangement ends; no more reviews are due. `ended_by` defaults to the
    caller."""

    model_config = ConfigDict(json_schema_extra={"examples": [{}]})

    ended_by: PersonRef = ""


class RequestView(BaseModel):
    """A request between districts as the read model holds it; `deadlines` carry their
    `basis` (what was counted, which holidays were skipped)."""

    kind: str
    request_id: ItemId
    case_id: str
    from_district: str
    to_district: str
    status: str
    stage: str | None = None
    child_in_care: bool | None = None
    next_deadline: UtcDateTime | None = None
    next_deadline_kind: str | None = None
    escalated: bool = False
    opened_at: UtcDateTime
    updated_at: UtcDateTime
    closed_at: UtcDateTime | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    timeline: list[dict[str, Any]] = Field(default_factory=list)


class RequestPendingView(AcceptedView):
    """202 for a request (or arrangement) whose workflow started but has not recorded
    itself yet (a worker backlog, issue 18.3): it runs, and `Location` shows it with its
    deadlines once the first record is written. Sending the same body again is safe."""

    kind: str
    request_id: str


class ChangeView(BaseModel):
    """What a message changed; `duplicate` on a repeat (the first answer)."""

    id: ItemId
    status: str
    at: datetime
    stage: str | None = None
    outcome: str | None = None
    dispute_id: str | None = None
    note_id: str | None = None
    duplicate: bool = False


class RequestPage(Page[RequestView]):
    """Requests between districts, a page at a time: a named schema, so generated
    clients type it (issue 12)."""
