"""`casework send CASE_ID MESSAGE_NAME --json '{...}' --token TOKEN`: the Temporal path
for trusted internal systems (issue 10).

It does exactly what the REST API does for that message, because it *is* the REST API:
the app runs in this process (no port opened) and the message goes to the endpoint that
sends it, so the token is authenticated, the role checked against the one permission
table, C7 applied, who acted taken from the token, the access-log row written, and the
message sent through Temporal with the signed caller envelope. `--json` is that
endpoint's request body; the ids its path names (`report_id` for an assessment,
`audit_id`, `review_id`, `task_id`) are read from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from casework.config import Settings

ROUTES: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "endorse": ("/cases/{case_id}/endorsement", ()),
    "submit_report": ("/cases/{case_id}/reports", ()),
    "assess_report": ("/cases/{case_id}/reports/{report_id}/assessment", ("report_id",)),
    "raise_event": ("/cases/{case_id}/events", ()),
    "record_audit_findings": ("/cases/{case_id}/audits/{audit_id}/findings", ("audit_id",)),
    "close_audit": ("/cases/{case_id}/audits/{audit_id}/close", ("audit_id",)),
    "complete_task": ("/tasks/{task_id}/complete", ("task_id",)),
    "close_case": ("/cases/{case_id}/closure", ()),
    "request_review": ("/cases/{case_id}/reviews", ()),
    "record_review_outcome": ("/cases/{case_id}/reviews/{review_id}/outcome",
                              ("review_id",)),
    "record_contact": ("/cases/{case_id}/contacts", ()),
}
"""Each message a case accepts from outside, and the REST endpoint that sends it."""


class SendRefused(ValueError):
    """The command line itself is wrong (unknown message, bad JSON, a path id missing)."""


def request_for(case_id: str, message: str, body_json: str) -> tuple[str, dict[str, Any]]:
    """The endpoint path and body for `message` (path ids taken out of the body)."""
    if message not in ROUTES:
        raise SendRefused(f"no message {message!r}; one of: {', '.join(ROUTES)}")
    try:
        body = json.loads(body_json)
    except json.JSONDecodeError as exc:
        raise SendRefused(f"--json is not JSON: {exc.msg}") from None
    if not isinstance(body, dict):
        raise SendRefused("--json must be a JSON object")
    template, path_ids = ROUTES[message]
    ids = {"case_id": case_id}
    for name in path_ids:
        value = body.pop(name, None)
        if not isinstance(value, str) or not value:
            raise SendRefused(f"--json must name {name!r} for {message}")
        ids[name] = value
    return template.format(**{k: quote(v, safe="") for k, v in ids.items()}), body


async def send(settings: Settings, case_id: str, message: str, body_json: str, token: str
               ) -> httpx.Response:
    """Send through the in-process API; the answer is the endpoint's (problem+json on a
    refusal)."""
    from api.in_process import in_process_client

    path, body = request_for(case_id, message, body_json)
    async with in_process_client(settings, token, "send") as client:
        return await client.post(path, json=body)
