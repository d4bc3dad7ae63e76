"""The read-model rows a case's state implies, as pure functions.

The workflow calls these to build what its `record_case_effects` activity writes, and
`casework reconcile` calls the same ones to check and repair the tables, so the two
can never disagree about what a row should say. No Temporal calls, no I/O: safe in
the workflow sandbox and outside it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from models.effects import AuditEntry, CaseEntry, PeriodEntry, TaskEntry
from workflows import engine_contacts
from workflows.state import AuditState, CaseState, CaseStatus, PeriodState, TaskState


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _iso_day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def period_entry(period: PeriodState) -> PeriodEntry:
    """One `periods` row: the instants, the report state and the R5 outcome."""
    last = period.reports[-1] if period.reports else None
    assessment = period.assessments[-1].assessment if period.assessments else None
    return PeriodEntry(
        index=period.index, due_date=period.due_date, follow_up_at=period.follow_up_at,
        overdue_at=period.overdue_at, escalation_at=period.escalation_at,
        report_id=last.report_id if last else None,
        report_received_at=period.first_report_at, assessment=assessment,
        outcome=period.outcome,
        state={
            "report_state": period.report_state,
            "basis": period.basis,
            "follow_up_sent_at": _iso(period.follow_up_sent_at),
            "overdue_marked_at": _iso(period.overdue_marked_at),
            "escalated_at": _iso(period.escalated_at),
            "ends_at": _iso(period.ends_at),
            "reports": [{"report_id": r.report_id, "received_at": _iso(r.received_at)}
                        for r in period.reports],
        },
    )


def task_entry(task: TaskState) -> TaskEntry:
    return TaskEntry(task_id=task.task_id, kind=task.kind, rule=task.rule, title=task.title,
                     assignee_role=task.assignee_role, status=task.status,
                     created_at=task.created_at, due_at=task.due_at,
                     completed_at=task.completed_at, completed_by=task.completed_by)


def audit_entry(audit: AuditState) -> AuditEntry:
    return AuditEntry(audit_id=audit.audit_id, rule=audit.rule, trigger=audit.trigger,
                      status=audit.status, opened_at=audit.opened_at,
                      findings_ids=list(audit.findings_ids), closed_at=audit.closed_at)


def case_summary(state: CaseState) -> dict[str, Any]:
    """`cases.snapshot`: reviews, plan versions and contacts (small, so kept whole)."""
    return {
        "runs": state.runs,
        "end_reason": state.end_reason,
        "ended_at": _iso(state.ended_at),
        "endorsed_at": _iso(state.endorsed_at),
        "reviews": [{
            "review_id": r.review_id, "kind": r.kind, "rule": r.rule, "status": r.status,
            "concern": r.concern, "requested_at": _iso(r.requested_at),
            "due_at": _iso(r.due_at), "reminded_at": _iso(r.reminded_at),
            "escalated_at": _iso(r.escalated_at), "held_at": _iso(r.held_at),
            "changed": r.changed,
        } for r in state.reviews],
        "plan_versions": [{"version": v.version, "status": v.status,
                           "recorded_at": _iso(v.recorded_at)}
                          for v in state.plan_versions],
        "contacts": {
            "count": state.contacts.count,
            "last_contact_on": _iso_day(state.contacts.last_contact_on),
            "last_practitioner_meeting_on": _iso_day(
                state.contacts.last_practitioner_meeting_on),
        },
    }


def case_entry(status: CaseStatus, *, workflow_id: str, now: datetime) -> CaseEntry:
    """The `cases` row, from the same status the workflow's `status` query answers."""
    state, terms = status.state, status.state.terms
    return CaseEntry(
        case_id=terms.case_id, agency_id=terms.agency_id, jurisdiction=terms.jurisdiction,
        status=state.status, workflow_id=workflow_id,
        terms_fingerprint=state.terms_fingerprint,
        contract_start=terms.contract_start, contract_end=terms.contract_end,
        order_expiry=terms.order_expiry,
        next_deadline=status.next_deadline, next_deadline_kind=status.next_deadline_kind,
        overdue=status.overdue, consecutive_failures=state.consecutive_failures,
        audit_open=bool(state.open_audits()), updated_at=now, closed_at=state.closed_at,
        summary=case_summary(state),
        reads_recorded_contacts=engine_contacts.reads_recorded_contacts(state),
    )
