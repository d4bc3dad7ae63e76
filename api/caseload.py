"""The caseload page for practitioners (issue 17): what the page needs to know about its
caller, as plain functions over the one permission table (models/permissions.py).

The page (`/app/`, api/routes/app_page.py, files in api/app_page/) is a small
vanilla-JS client of the REST API, same origin, same bearer tokens. It shows a button
only for an action the caller's roles allow, so it asks the server which those are
rather than reading the roles out of the token itself: the token is verified here, and
the table that decides is the one every route and the workflow's doors obey. The
server still checks every call; hiding a button is a courtesy, not the control.

The choices the forms offer (R4 assessments, R7 triggers, V4 concerns) come from
workflows/policy.py, the same place the API's input schemas take them from, so the page
never offers what the API would refuse as `input`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from models.permissions import PERMISSIONS, Action
from models.roles import Role
from workflows import policy

PAGE_ACTIONS = (Action.ASSESS_REPORT, Action.RAISE_EVENT, Action.REQUEST_REVIEW,
                Action.COMPLETE_TASK, Action.LIST_CASES, Action.READ_CASE)
"""The actions the page has controls or views for (issue 17: assess a report, raise an
event, request a review; tasks; the caseload and a case)."""

REVIEW_KINDS = ("case_plan", "contract")
"""V3 (case plan review) and V4 (contract review), as `ReviewIn.kind` accepts them."""

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
"""The page keeps a bearer token in sessionStorage, so an injected script could read it:
no inline script, nothing from another origin, no framing. The page itself writes
every value as text (never as HTML)."""


def allowed_actions(roles: Iterable[Role]) -> list[str]:
    """The page's actions that at least one of `roles` may take, in the table's order
    (C7 still applies per case: an agency's role allows it on its own contracts only,
    and the API answers 404 for any other)."""
    held = frozenset(roles)
    return [action.value for action in PAGE_ACTIONS if held & PERMISSIONS[action].roles]


def streak_warning(consecutive_failures: int,
                   threshold: int = policy.STREAK_THRESHOLD) -> str | None:
    """R6 as the page warns of it: nothing below `threshold - 1`; at one failure short of
    the threshold, that the next failure recommends an exception audit; at the threshold
    and beyond, that it has been recommended. api/app_page/page.js states the same rule (the page
    gets `threshold` from `page_session`); the browser tests check the two agree."""
    if consecutive_failures >= threshold:
        return (f"{consecutive_failures} consecutive failures: exception audit "
                "recommended (R6)")
    if consecutive_failures == threshold - 1:
        return (f"{consecutive_failures} consecutive failures: one more recommends an "
                "exception audit (R6)")
    return None


def page_session(subject: str, roles: Iterable[Role], agency_id: str | None) -> dict[str, Any]:
    """What `GET /app/session` answers: who the verified token is, which of the page's
    actions its roles allow, and the vocabularies of the forms."""
    role_list = sorted(roles)
    return {
        "subject": subject,
        "roles": [str(role) for role in role_list],
        "agency_id": agency_id,
        "actions": allowed_actions(role_list),
        "streak_threshold": policy.STREAK_THRESHOLD,
        "choices": {
            "assessment": [a.value for a in policy.Assessment],
            "event_kind": [*sorted(policy.R7_TRIGGERS), "contract_concern"],
            "concern": sorted(policy.V4_CONCERNS),
            "review_kind": list(REVIEW_KINDS),
        },
    }
