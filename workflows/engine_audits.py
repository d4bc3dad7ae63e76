"""R7 exception-audit triggers and the R8 audit lifecycle (open -> findings and
recommendations recorded -> closed), as messages from outside the case. R6 opens its
audits from the reporting cycle (engine.py); K1 raises R7 from contact gaps
(engine_contacts.py)."""

from __future__ import annotations

from datetime import datetime

from models.messages import AuditChanged, CloseAudit, EventRecorded, RaiseEvent, RecordAuditFindings
from workflows import policy
from workflows.engine import CaseEngine
from workflows.errors import conflict, invalid, not_found
from workflows.idempotency import answered_once
from workflows.state import CLOSED, AuditState, CaseState


# ---------------------------------------------------------------- R7 and audits
def event_key(message: RaiseEvent) -> str:
    return f"event:{message.event_id}"


def validate_event(state: CaseState, message: RaiseEvent) -> None:
    if not message.event_id.strip():
        raise invalid("event_id must not be empty.", field="event_id")
    if event_key(message) in state.answered:
        return
    if message.kind not in policy.R7_TRIGGERS:
        allowed = ", ".join(sorted(policy.R7_TRIGGERS))
        raise invalid(f"Unknown event kind {message.kind!r}; one of {allowed}.", field="kind",
                      rule="R7")
    if state.status == CLOSED:
        raise conflict("The case is closed.", field="status", rule="E2")


@answered_once(event_key, EventRecorded)
def apply_event(engine: CaseEngine, message: RaiseEvent, now: datetime) -> EventRecorded:
    """R7: an exception-audit trigger is recorded on the case and opens an audit; a
    trigger of a kind that already has an open audit is added to that audit."""
    state = engine.state
    case_id = state.terms.case_id
    audit = next((a for a in state.open_audits() if a.trigger == message.kind), None)
    engine.pending.event(case_id, f"event:{message.event_id}", now, "audit_trigger_raised",
                         "R7", event_id=message.event_id, trigger=message.kind,
                         occurred_on=message.occurred_on.isoformat()
                         if message.occurred_on else None)
    if audit is None:
        audit = engine.open_audit("R7", message.kind, now)
        engine.pending.notify(case_id, f"{audit.audit_id}:liaison", now,
                              "exception_audit_liaison", "R7", "leo",
                              f"Exception audit trigger: {message.kind.replace('_', ' ')}")
    result = EventRecorded(event_id=message.event_id, kind=message.kind,
                           audit_id=audit.audit_id)
    return result


def _audit(state: CaseState, audit_id: str) -> AuditState:
    for audit in state.audits:
        if audit.audit_id == audit_id:
            return audit
    raise not_found(f"No audit {audit_id!r} on this case.", field="audit_id")


def findings_key(message: RecordAuditFindings) -> str:
    return f"findings:{message.audit_id}:{message.findings_id}"


def validate_findings(state: CaseState, message: RecordAuditFindings) -> None:
    """R8: findings go on an existing audit that is still open."""
    audit = _audit(state, message.audit_id)
    if findings_key(message) in state.answered:
        return
    if audit.status == "closed":
        raise conflict(f"Audit {audit.audit_id} is closed.", field="audit_id", rule="R8")


@answered_once(findings_key, AuditChanged)
def apply_findings(engine: CaseEngine, message: RecordAuditFindings, now: datetime
                   ) -> AuditChanged:
    """R8: the audit records findings and recommendations *to the CSO*: recording them
    also sends them to the agency (the text stays in the database, referred to by id)."""
    state = engine.state
    case_id = state.terms.case_id
    audit = _audit(state, message.audit_id)
    audit.findings_ids.append(message.findings_id)
    audit.status = "findings_recorded"
    engine.pending.audit_ids.add(audit.audit_id)
    key = f"{audit.audit_id}:findings:{message.findings_id}"
    engine.pending.event(case_id, key, now, "audit_findings_recorded", "R8",
                         audit_id=audit.audit_id, findings_id=message.findings_id)
    engine.pending.notify(case_id, key, now, "exception_audit_findings", "R8", "agency",
                          f"Exception audit {audit.audit_id}: findings and recommendations")
    result = AuditChanged(audit_id=audit.audit_id, status=audit.status)
    return result


def close_audit_key(message: CloseAudit) -> str:
    return f"close_audit:{message.audit_id}"


def validate_close_audit(state: CaseState, message: CloseAudit) -> None:
    """R8: an audit closes once, after its findings and recommendations are recorded."""
    audit = _audit(state, message.audit_id)
    if close_audit_key(message) in state.answered:
        return
    if audit.status == "closed":
        raise conflict(f"Audit {audit.audit_id} is already closed.", field="audit_id", rule="R8")
    if not audit.findings_ids:
        raise conflict("Record findings and recommendations before closing the audit.",
                       field="audit_id", rule="R8")


@answered_once(close_audit_key, AuditChanged)
def apply_close_audit(engine: CaseEngine, message: CloseAudit, now: datetime) -> AuditChanged:
    state = engine.state
    audit = _audit(state, message.audit_id)
    audit.status = "closed"
    audit.closed_at = now
    engine.pending.audit_ids.add(audit.audit_id)
    engine.pending.event(state.terms.case_id, f"{audit.audit_id}:closed", now, "audit_closed",
                         "R8", audit_id=audit.audit_id, closed_by=message.closed_by)
    for task in state.open_tasks():
        if task.task_id.startswith(f"{state.terms.case_id}:{audit.audit_id}:"):
            engine.finish_task(task, now, message.closed_by or "audit closed")
    result = AuditChanged(audit_id=audit.audit_id, status=audit.status)
    return result
