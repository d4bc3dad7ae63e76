"""Who may call what: the one permission table of the service (issue 6, C4, C7, R4,
V3-V6), for every door (issue 10).

The API's routes name their action here (`Depends(permitted(Action.X))`, api/
permissions.py) and the case workflow checks the same table for every message it is
sent (workflows/doors.py), whichever way the message came: one table, one rule. The
README's table is rendered from it (and a test fails if they differ), and the role x
endpoint tests are generated from it. Standard library only, so the workflow sandbox
imports it.

The cells follow the issue's roles:
- practitioner: the contracting practitioner's work -- register, submit reports that came
  by mail, assess reports (R4), record events (R7), audits (R8), contacts (K1), reviews
  (V3), tasks and closure (E2);
- team_manager: endorses (C4), may close a case (E2) and complete tasks, reads everything;
- case_planner: records review outcomes and endorses plan versions (V5, V6), may request
  a review and complete tasks, reads everything;
- agency: its own contracts only (C7): read, submit reports, record contacts, request
  reviews (V3, V4);
- integration: an agency's service account: submit reports and events, nothing else;
- operations: read-only, everything (and decoding history through the codec endpoint);
- admin: everything, including the calendar that all cases' deadlines depend on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from models.roles import Role


class Action(StrEnum):
    """One per route; the value is what the access log and 403 answers call it."""

    REGISTER_CASE = "register_case"
    ENDORSE_CONTRACT = "endorse_contract"
    LIST_CASES = "list_cases"
    READ_CASE = "read_case"
    READ_TIMELINE = "read_timeline"
    READ_NOTES = "read_notes"
    SUBMIT_REPORT = "submit_report"
    ASSESS_REPORT = "assess_report"
    RAISE_EVENT = "raise_event"
    RECORD_AUDIT_FINDINGS = "record_audit_findings"
    CLOSE_AUDIT = "close_audit"
    REQUEST_REVIEW = "request_review"
    RECORD_REVIEW_OUTCOME = "record_review_outcome"
    RECORD_CONTACT = "record_contact"
    CLOSE_CASE = "close_case"
    LIST_TASKS = "list_tasks"
    COMPLETE_TASK = "complete_task"
    LIST_NOTIFICATIONS = "list_notifications"
    DECLARE_CLOSURE_DAY = "declare_closure_day"
    OPEN_TRANSFER = "open_transfer"
    LIST_TRANSFERS = "list_transfers"
    READ_TRANSFER = "read_transfer"
    DECIDE_TRANSFER = "decide_transfer"
    OPEN_SERVICE_REQUEST = "open_service_request"
    LIST_SERVICE_REQUESTS = "list_service_requests"
    READ_SERVICE_REQUEST = "read_service_request"
    DECIDE_SERVICE_REQUEST = "decide_service_request"
    LIST_DISPUTES = "list_disputes"
    READ_DISPUTE = "read_dispute"
    REFER_DISPUTE = "refer_dispute"
    RESOLVE_DISPUTE = "resolve_dispute"
    START_COWORKING = "start_coworking"
    LIST_COWORKING = "list_coworking"
    READ_COWORKING = "read_coworking"
    RECORD_COWORKING_REVIEW = "record_coworking_review"
    END_COWORKING = "end_coworking"
    ENCODE_PAYLOADS = "encode_payloads"
    DECODE_PAYLOADS = "decode_payloads"
    READ_METRICS = "read_metrics"


@dataclass(frozen=True)
class Permission:
    method: str
    path: str
    roles: frozenset[Role]
    what: str


PRACTITIONER, TEAM_MANAGER, CASE_PLANNER = Role.PRACTITIONER, Role.TEAM_MANAGER, Role.CASE_PLANNER
AGENCY, INTEGRATION, OPERATIONS, ADMIN = Role.AGENCY, Role.INTEGRATION, Role.OPERATIONS, Role.ADMIN
READERS = (PRACTITIONER, TEAM_MANAGER, CASE_PLANNER, AGENCY, OPERATIONS, ADMIN)
CP_READERS = (PRACTITIONER, TEAM_MANAGER, CASE_PLANNER, OPERATIONS, ADMIN)
"""Requests between districts (T1-T4) are CP's own business: no agency reads them."""
CP_WORKERS = (PRACTITIONER, TEAM_MANAGER, ADMIN)
DECIDERS = (TEAM_MANAGER, ADMIN)
"""Accepting, rejecting and negotiating requests is for managers (the procedure's
assistant district directors and above), not for the worker who asked."""
"""Everyone who reads cases; agencies only their own (C7). Integrations only write."""


def _p(method: str, path: str, roles: tuple[Role, ...], what: str) -> Permission:
    return Permission(method, path, frozenset(roles), what)


PERMISSIONS: dict[Action, Permission] = {
    Action.REGISTER_CASE: _p("POST", "/cases", (PRACTITIONER, ADMIN),
                             "register a case contract (C1-C5)"),
    Action.ENDORSE_CONTRACT: _p("POST", "/cases/{case_id}/endorsement", (TEAM_MANAGER, ADMIN),
                                "endorse the contract (C4)"),
    Action.LIST_CASES: _p("GET", "/cases", READERS, "list cases"),
    Action.READ_CASE: _p("GET", "/cases/{case_id}", READERS, "read a case"),
    Action.READ_TIMELINE: _p("GET", "/cases/{case_id}/timeline", READERS,
                             "read a case's timeline"),
    Action.READ_NOTES: _p("GET", "/cases/{case_id}/notes", READERS, "read a case's notes"),
    Action.SUBMIT_REPORT: _p("POST", "/cases/{case_id}/reports",
                             (PRACTITIONER, AGENCY, INTEGRATION, ADMIN),
                             "submit a progress report (R4)"),
    Action.ASSESS_REPORT: _p("POST", "/cases/{case_id}/reports/{report_id}/assessment",
                             (PRACTITIONER, ADMIN), "assess a report (R4, R5)"),
    Action.RAISE_EVENT: _p("POST", "/cases/{case_id}/events",
                           (PRACTITIONER, INTEGRATION, ADMIN),
                           "record an R7 event or a V4 contract concern"),
    Action.RECORD_AUDIT_FINDINGS: _p("POST", "/cases/{case_id}/audits/{audit_id}/findings",
                                     (PRACTITIONER, ADMIN),
                                     "record exception audit findings (R8)"),
    Action.CLOSE_AUDIT: _p("POST", "/cases/{case_id}/audits/{audit_id}/close",
                           (PRACTITIONER, ADMIN), "close an exception audit (R8)"),
    Action.REQUEST_REVIEW: _p("POST", "/cases/{case_id}/reviews",
                              (PRACTITIONER, CASE_PLANNER, AGENCY, ADMIN),
                              "request a review (V3, V4)"),
    Action.RECORD_REVIEW_OUTCOME: _p("POST", "/cases/{case_id}/reviews/{review_id}/outcome",
                                     (CASE_PLANNER, ADMIN),
                                     "record a review's outcome, endorse a plan (V5, V6)"),
    Action.RECORD_CONTACT: _p("POST", "/cases/{case_id}/contacts",
                              (PRACTITIONER, AGENCY, ADMIN), "record a contact (K1)"),
    Action.CLOSE_CASE: _p("POST", "/cases/{case_id}/closure",
                          (PRACTITIONER, TEAM_MANAGER, ADMIN), "close the case (E2)"),
    Action.LIST_TASKS: _p("GET", "/tasks", READERS, "list tasks"),
    Action.COMPLETE_TASK: _p("POST", "/tasks/{task_id}/complete",
                             (PRACTITIONER, TEAM_MANAGER, CASE_PLANNER, ADMIN),
                             "complete a task"),
    Action.LIST_NOTIFICATIONS: _p("GET", "/notifications", READERS, "list notifications"),
    Action.DECLARE_CLOSURE_DAY: _p("POST", "/calendar/closures", (ADMIN,),
                                   "declare a closure day (R1-R3 for every case)"),
    Action.OPEN_TRANSFER: _p("POST", "/transfers", CP_WORKERS,
                             "request a case transfer to another district (T1)"),
    Action.LIST_TRANSFERS: _p("GET", "/transfers", CP_READERS, "list transfer requests"),
    Action.READ_TRANSFER: _p("GET", "/transfers/{request_id}", CP_READERS,
                             "read a transfer request"),
    Action.DECIDE_TRANSFER: _p("POST", "/transfers/{request_id}/decision", DECIDERS,
                               "accept, complete or reject a transfer (T1, T3)"),
    Action.OPEN_SERVICE_REQUEST: _p("POST", "/service-requests", CP_WORKERS,
                                    "request services of another district (T2)"),
    Action.LIST_SERVICE_REQUESTS: _p("GET", "/service-requests", CP_READERS,
                                     "list service requests"),
    Action.READ_SERVICE_REQUEST: _p("GET", "/service-requests/{request_id}", CP_READERS,
                                    "read a service request"),
    Action.DECIDE_SERVICE_REQUEST: _p("POST", "/service-requests/{request_id}/decision",
                                      DECIDERS, "accept or reject a service request (T2, T3)"),
    Action.LIST_DISPUTES: _p("GET", "/disputes", CP_READERS, "list disputes between districts"),
    Action.READ_DISPUTE: _p("GET", "/disputes/{dispute_id}", CP_READERS, "read a dispute"),
    Action.REFER_DISPUTE: _p("POST", "/disputes/{dispute_id}/referral", DECIDERS,
                             "refer a dispute up the ladder (T3)"),
    Action.RESOLVE_DISPUTE: _p("POST", "/disputes/{dispute_id}/resolution", DECIDERS,
                               "resolve a dispute, or decide it finally, with a rationale (T3)"),
    Action.START_COWORKING: _p("POST", "/coworking", CP_WORKERS,
                               "start a co-working arrangement (T4)"),
    Action.LIST_COWORKING: _p("GET", "/coworking", CP_READERS,
                              "list co-working arrangements"),
    Action.READ_COWORKING: _p("GET", "/coworking/{arrangement_id}", CP_READERS,
                              "read a co-working arrangement"),
    Action.RECORD_COWORKING_REVIEW: _p("POST", "/coworking/{arrangement_id}/reviews",
                                       CP_WORKERS, "record a co-working review (T4)"),
    Action.END_COWORKING: _p("POST", "/coworking/{arrangement_id}/end", DECIDERS,
                             "end a co-working arrangement (T4)"),
    Action.ENCODE_PAYLOADS: _p("POST", "/codec/encode", (OPERATIONS, ADMIN),
                               "encrypt payloads (remote codec)"),
    Action.DECODE_PAYLOADS: _p("POST", "/codec/decode", (OPERATIONS, ADMIN),
                               "decrypt history payloads (remote codec)"),
    # Issue 15: Prometheus scrapes with an operations token (bearer_token_file); the
    # numbers are aggregate, but how many cases an agency has open is still not public.
    Action.READ_METRICS: _p("GET", "/metrics", (OPERATIONS, ADMIN),
                            "read Prometheus metrics (requests, open cases, outbox)"),
}


MESSAGE_ACTIONS: Mapping[str, tuple[Action, ...]] = {
    "start": (Action.REGISTER_CASE,),
    "endorse": (Action.ENDORSE_CONTRACT,),
    "submit_report": (Action.SUBMIT_REPORT,),
    "assess_report": (Action.ASSESS_REPORT,),
    "raise_event": (Action.RAISE_EVENT,),
    "record_audit_findings": (Action.RECORD_AUDIT_FINDINGS,),
    "close_audit": (Action.CLOSE_AUDIT,),
    "complete_task": (Action.COMPLETE_TASK,),
    "close_case": (Action.CLOSE_CASE,),
    # A V4 contract concern raised through POST /cases/{id}/events is a review request.
    "request_review": (Action.REQUEST_REVIEW, Action.RAISE_EVENT),
    "record_review_outcome": (Action.RECORD_REVIEW_OUTCOME,),
    "record_contact": (Action.RECORD_CONTACT,),
    # A closure reaches a case from the calendar route (admin), and from registration's
    # safety net (api/registration.py), which tells the new case of closures declared
    # while it started, as the registering caller (issue 10 review: refused before).
    "calendar_changed": (Action.DECLARE_CLOSURE_DAY, Action.REGISTER_CASE),
}
"""Issue 10: the actions under which each workflow message may be sent (`start` is the
workflow's start), so a message is allowed to exactly the roles its REST endpoint is."""


DISTRICT_MESSAGE_ACTIONS: Mapping[str, Mapping[str, tuple[Action, ...]]] = {
    "TransferRequest": {"start": (Action.OPEN_TRANSFER,),
                        "decide": (Action.DECIDE_TRANSFER,)},
    "ServiceRequest": {"start": (Action.OPEN_SERVICE_REQUEST,),
                       "decide": (Action.DECIDE_SERVICE_REQUEST,)},
    # A dispute is started by its request's workflow (a rejection, T3), never by a client:
    # its door checks the parent instead (workflows/district_doors.py).
    "Dispute": {"refer": (Action.REFER_DISPUTE,), "resolve": (Action.RESOLVE_DISPUTE,)},
    "Coworking": {"start": (Action.START_COWORKING,),
                  "record_review": (Action.RECORD_COWORKING_REVIEW,),
                  "end": (Action.END_COWORKING,)},
}
"""Issue 10 for the district workflows (T1-T4, issue 14): each workflow type's messages
and the actions they are sent under, so a start or update is allowed to exactly the roles
its REST endpoint is. Per type, since every workflow's start is the message `start`."""

DISTRICT_WORKFLOW_PREFIXES: Mapping[str, str] = {
    "transfer-": "TransferRequest", "service-request-": "ServiceRequest",
    "dispute-": "Dispute", "coworking-": "Coworking",
}
"""The workflow type of a district workflow id (workflows/transfer.py etc. name them)."""


def message_actions(workflow_id: str, workflow_type: str | None = None
                    ) -> Mapping[str, tuple[Action, ...]]:
    """The message table of the workflow `workflow_id` (of type `workflow_type` when
    known): a district workflow's own, else the case workflow's `MESSAGE_ACTIONS`."""
    if workflow_type is None:
        workflow_type = next((kind for prefix, kind in DISTRICT_WORKFLOW_PREFIXES.items()
                              if workflow_id.startswith(prefix)), None)
    return DISTRICT_MESSAGE_ACTIONS.get(workflow_type or "", MESSAGE_ACTIONS)


def message_roles(name: str, action: str,
                  table: Mapping[str, tuple[Action, ...]] = MESSAGE_ACTIONS
                  ) -> frozenset[Role]:
    """The roles that may send message `name` as `action`; empty when the message is not
    sent under that action (or is unknown). `table`: the workflow's messages (the case
    workflow's by default)."""
    for allowed in table.get(name, ()):
        if allowed.value == action:
            return PERMISSIONS[allowed].roles
    return frozenset()
