"""The request examples that carry dates, computed from the day /openapi.json is served
(issue 12): sent in order -- register, endorse, report, assess, contact, audit, review,
end, close, declare a closure -- they succeed on any day.

Static dates cannot: a contact (K1) must be dated on a day that has come and within the
contract, while the report example must be on time (R5), so its due date must still lie
ahead, and C5 keeps the first due date within three months of the start. So every date
here is a fixed offset from `today`, with days to spare on each side for the time zones
between the server's UTC date and the case's local one:

- the contract started two weeks ago and is endorsed a week ago (C4: a day that has come,
  before the first due date), by a child of ten and a half who signs;
- reports fall due quarterly from the start (C5), the first some eleven weeks ahead, so
  a report sent today is on time; the contract ends with the last, the order three months
  later, which is where the review example extends the contract to (V5);
- the contact is three days ago (K1), after the start and before the first contact gap
  (fortnightly, from the endorsement) is due, so no lack-of-contact audit (R7) shifts the
  audit ids the closure example carries over;
- the closure day is the one undated example of the set: declaring a closure moves the
  deadlines of every case of its jurisdiction (R1-R3), so trying the example must not
  touch a real case -- its day, 16 February 2099, lies past any contract running today
  (ten years at most), and a repeat of it on another day answers 200.

The case id names the day, so examples sent on another day start a new case. Pure: the
document builder passes today (api/openapi.py); a unit test sweeps every day of a leap
and a common year (tests/unit/test_openapi_examples_dates.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from workflows.policy import add_months

CONTRACT_STARTED_DAYS_AGO = 14
ENDORSED_DAYS_AGO = 7
SIGNED_DAYS_AGO = 10
CONTACT_DAYS_AGO = 3
CLOSURE_DAY = date(2099, 2, 16)
CHILD_AGE_MONTHS = 126
"""Ten and a half at the endorsement: old enough to sign (C4), so the example signs."""
QUARTERS = 4


def example_case_id(today: date) -> str:
    return f"case-{today:%Y%m%d}-0147"


def dated_examples(today: date) -> dict[str, list[dict[str, Any]]]:
    """The examples of each dated request schema, by schema name, for `today`."""
    start = today - timedelta(days=CONTRACT_STARTED_DAYS_AGO)
    endorsed = today - timedelta(days=ENDORSED_DAYS_AGO)
    signed = today - timedelta(days=SIGNED_DAYS_AGO)
    due = [add_months(start, 3 * quarter) for quarter in range(1, QUARTERS + 1)]
    order_expiry = add_months(due[-1], 3)
    case_id = example_case_id(today)
    return {
        "CaseRegistration": [{
            "case_id": case_id, "agency_id": "agency-7", "phase": "protection_order",
            "total_case_management": True, "functions": [], "aboriginal_child": False,
            "child_birth_date": add_months(endorsed, -CHILD_AGE_MONTHS).isoformat(),
            "schedule": {"due_dates": [day.isoformat() for day in due]},
            "contract_start": start.isoformat(), "contract_end": due[-1].isoformat(),
            "order_expiry": order_expiry.isoformat(),
        }],
        "EndorsementIn": [{
            "endorsed_on": endorsed.isoformat(),
            "signatories": [
                {"role": "cp_decision_maker", "person_id": "cp-3",
                 "signed_on": signed.isoformat()},
                {"role": "agency_representative", "person_id": "ag-9",
                 "signed_on": signed.isoformat()},
                {"role": "child", "person_id": "child-1", "signed_on": endorsed.isoformat()},
                {"role": "parent_guardian", "person_id": "pg-1", "declined": True}],
            "best_interests_decision_id": "bid-77",
        }],
        "ContactIn": [{
            "contact_id": "con-88", "kind": "home_visit",
            "occurred_on": (today - timedelta(days=CONTACT_DAYS_AGO)).isoformat()}],
        "ReviewOutcomeIn": [{
            "new_contract_end": order_expiry.isoformat(),
            "draft_plan_version": "plan-3", "endorse_plan_version": "plan-3",
            "notes": "Extended to the order's expiry."}, {
            "return_to_cp": True, "notes": "Case management returns to CP (E1)."}],
        "ClosureIn": [{
            "summary": "Case management returned to CP after the review.",
            "carried_over": [
                {"item_id": "audit-1", "reason": "CP continues the audit."},
                {"item_id": "review-plan-review-scheduled",
                 "reason": "CP holds the case plan review."},
                {"item_id": f"{case_id}:review-plan-review-scheduled",
                 "reason": "The review's task goes with it."}]}],
        "ClosureDayIn": [{
            "jurisdiction": "AU-VIC", "name": "Bushfire closure",
            "day": CLOSURE_DAY.isoformat()}],
    }
