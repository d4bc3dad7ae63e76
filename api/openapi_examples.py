"""Error examples for the OpenAPI document, one per route and status (issue 12).

A front-end developer reads the example next to the route, so each says what that route
really answers: its own path as `instance`, the roles its 403 names (from the permission
table), and for 409/422 a refusal that route makes, with the rule and field it names.
Ids in paths are those of the request examples (api/schemas/inputs.py), so the examples
read as one story.
"""

from __future__ import annotations

from typing import Any

from api.permissions import PERMISSIONS

PATH_IDS = {"case_id": "case-0147", "report_id": "rep-q1", "audit_id": "audit-1",
            "review_id": "rev-5", "task_id": "case-0147:review-plan-review-scheduled"}
"""What `{case_id}` ... stand for in an example's `instance`."""

_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 409: "Conflict", 422: "Invalid request",
           503: "Service Unavailable"}

_ROUTE_PROBLEMS: dict[tuple[str, str], dict[int, dict[str, Any]]] = {
    ("POST", "/cases"): {
        409: {"detail": "Case 'case-0147' is registered with different terms; a changed "
              "contract goes through a review (V5).", "field": "case_id"},
        422: {"title": "Policy violation", "detail": "C5 schedule.due_dates[1]: 2099-05-15 "
              "is more than three months after 2098-10-01: quarterly reporting is the "
              "minimum.", "rule": "C5", "field": "schedule.due_dates[1]"},
    },
    ("POST", "/cases/{case_id}/endorsement"): {
        409: {"detail": "The contract is already active.", "field": "status", "rule": "C4"},
        422: {"detail": "Missing signatures: child.", "field": "endorsement.signatories",
              "rule": "C4"},
    },
    ("GET", "/cases"): {
        422: {"detail": "cursor: Not a cursor returned by this list.", "field": "cursor",
              "rule": "input"},
    },
    ("POST", "/cases/{case_id}/reports"): {
        409: {"detail": "The contract is awaiting endorsement: no report is due yet.",
              "field": "status", "rule": "R4"},
        422: {"detail": "Several periods await a report (0, 1): give period_index.",
              "field": "period_index", "rule": "R4"},
    },
    ("POST", "/cases/{case_id}/reports/{report_id}/assessment"): {
        409: {"detail": "Report rep-q1 is already assessed (adequate).",
              "field": "assessment", "rule": "R4"},
        422: {"detail": "assessment must be one of adequate, discuss_progress, hold_meeting, "
              "inadequate_quality, request_resubmission, seek_further_information.",
              "field": "assessment", "rule": "R4"},
    },
    ("POST", "/cases/{case_id}/events"): {
        409: {"detail": "The contract is closed.", "field": "status", "rule": "R7"},
        422: {"detail": "A contract concern needs a concern, one of conflict_of_interest, "
              "escalated_risk, placement_ended_unexpectedly, raised_by_agency, "
              "raised_by_child_or_family, raised_by_cp.", "field": "concern", "rule": "V4"},
    },
    ("POST", "/cases/{case_id}/audits/{audit_id}/findings"): {
        409: {"detail": "Audit audit-1 is closed.", "field": "audit_id", "rule": "R8"},
        422: {"detail": "findings: String should match pattern '\\S'", "field": "findings",
              "rule": "input"},
    },
    ("POST", "/cases/{case_id}/audits/{audit_id}/close"): {
        409: {"detail": "Audit audit-1 has no findings yet: record them first.",
              "field": "audit_id", "rule": "R8"},
    },
    ("POST", "/cases/{case_id}/reviews"): {
        409: {"detail": "The contract is closing.", "field": "status", "rule": "V1"},
        422: {"detail": "A contract review needs a concern, one of conflict_of_interest, "
              "escalated_risk, placement_ended_unexpectedly, raised_by_agency, "
              "raised_by_child_or_family, raised_by_cp.", "field": "concern", "rule": "V4"},
    },
    ("POST", "/cases/{case_id}/reviews/{review_id}/outcome"): {
        409: {"detail": "Review rev-5 is already held.", "field": "review_id", "rule": "V5"},
        422: {"detail": "The new contract end 2110-01-01 is outside the dates this service "
              "accepts.", "field": "new_contract_end", "rule": "V5"},
    },
    ("POST", "/cases/{case_id}/contacts"): {
        409: {"detail": "The case is closed.", "field": "status", "rule": "E2"},
        422: {"detail": "A contact cannot be recorded in the future.", "field": "occurred_on",
              "rule": "K1"},
    },
    ("POST", "/cases/{case_id}/closure"): {
        409: {"detail": "Open items must be closed or carried over with a reason: audit-1: "
              "exception audit (R7, complaint_from_child_or_family) open", "field":
              "carried_over", "rule": "E2", "open_items": ["audit-1"]},
        422: {"detail": "'audit-9' is not an open item of this case.",
              "field": "carried_over[0].item_id", "rule": "E2"},
    },
    ("POST", "/tasks/{task_id}/complete"): {
        409: {"detail": "The task is already completed.", "field": "task_id"},
    },
    ("POST", "/calendar/closures"): {
        409: {"detail": "AU-VIC 2099-02-16 is already declared as 'Bushfire closure'.",
              "field": "day"},
        422: {"detail": "jurisdiction: no public-holiday calendar for 'NZ'.",
              "field": "jurisdiction", "rule": "input"},
    },
    ("POST", "/codec/decode"): {
        422: {"detail": "payload sealed with unknown key 'k9'", "field": "payloads"},
    },
    ("POST", "/codec/encode"): {
        422: {"detail": "This codec serves namespace 'default' only.",
              "field": "X-Namespace"},
    },
}


def concrete(path: str) -> str:
    """The path template with the example ids filled in."""
    for name, value in PATH_IDS.items():
        path = path.replace("{" + name + "}", value)
    return path


def _generic(status: int, method: str, path: str) -> dict[str, Any]:
    """What any route answers with this status, in this route's words."""
    if status == 400:
        return {"detail": "There was an error parsing the body"}
    if status == 401:
        return {"detail": "A bearer token is required (Authorization: Bearer <token>).",
                "field": "Authorization", "reason": "missing"}
    if status == 403:
        permission = next((p for action, p in PERMISSIONS.items()
                           if (p.method, p.path) == (method, path)), None)
        if permission is None:
            return {"detail": "Your role(s) may not do this."}
        action = next(a for a, p in PERMISSIONS.items() if p is permission)
        needed = sorted(role.value for role in permission.roles)
        caller = "operations" if "operations" not in needed else "integration"
        return {"detail": f"Your role(s) ({caller}) may not do '{action.value}'; it needs "
                f"one of: {', '.join(needed)}.", "required_roles": needed,
                "action": action.value}
    if status == 404:
        return {"detail": f"No case {PATH_IDS['case_id']!r}."}
    if status == 405:
        return {"detail": "Method Not Allowed"}
    if status == 409:
        return {"detail": "Conflicts with the case's state."}
    if status == 422:
        return {"detail": "limit: Input should be less than or equal to 200",
                "field": "limit", "rule": "input"}
    if path == "/readyz":
        return {"detail": "Not ready: database unreachable.", "failed": ["database"],
                "checks": {"database": "unreachable: OperationalError", "temporal": "ok"}}
    return {"detail": "The database did not answer in time or is unreachable "
            "(OperationalError); the request can be retried.", "component": "database"}


def problem_example(status: int, method: str, path: str) -> dict[str, Any]:
    """The problem document this route answers with this status, as an example."""
    body: dict[str, Any] = {"type": "about:blank", "title": _TITLES.get(status, "Error"),
                            "status": status, "instance": concrete(path)}
    specific = _ROUTE_PROBLEMS.get((method, path), {}).get(status)
    body.update(specific if specific is not None else _generic(status, method, path))
    return body
