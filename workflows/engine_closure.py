"""Closing a case (E2): every open item is closed or carried over with a reason, and a
closure summary is recorded; then the workflow completes and the read model keeps it."""

from __future__ import annotations

from datetime import datetime

from models.messages import CaseClosed, CloseCase
from workflows.engine import CaseEngine
from workflows.errors import conflict, invalid
from workflows.idempotency import answered_once
from workflows.state import ACTIVE, AWAITING_ENDORSEMENT, CLOSED, FINAL, CaseState

CLOSE_KEY = "close_case"


def open_items(state: CaseState) -> dict[str, str]:
    """Everything that must be closed or carried over before closure, id -> what it is."""
    items: dict[str, str] = {}
    for period in state.periods:
        if period.awaiting_resubmission:
            items[f"period-{period.index}:resubmission"] = (
                f"resubmission awaited for the report due {period.due_date}"
            )
        elif period.reports and not any(a.assessment in FINAL for a in period.assessments):
            report_id = period.reports[-1].report_id
            items[f"report:{report_id}"] = (
                f"report {report_id} (due {period.due_date}) awaiting assessment"
            )
    for review in state.open_reviews():
        items[f"review-{review.review_id}"] = f"{review.kind.replace('_', ' ')} review open"
    for audit in state.open_audits():
        items[audit.audit_id] = f"exception audit ({audit.rule}, {audit.trigger}) open"
    for task in state.open_tasks():
        items[task.task_id] = f"task open: {task.title}"
    return items


def validate_close(state: CaseState, message: CloseCase) -> None:
    if CLOSE_KEY in state.answered:
        return
    if state.status in (ACTIVE, AWAITING_ENDORSEMENT):
        raise conflict(
            f"The contract is still {state.status.replace('_', ' ')}: it ends at its end "
            "date, the order's expiry or a decision returning case management to CP (E1).",
            field="status", rule="E1",
        )
    if state.status == CLOSED:
        raise conflict("The case is already closed.", field="status", rule="E2")
    if not message.summary_id.strip():
        raise invalid("A closure summary is required.", field="summary_id", rule="E2")
    items = open_items(state)
    reasons = {c.item_id: c.reason.strip() for c in message.carried_over}
    for position, carry in enumerate(message.carried_over):
        if carry.item_id not in items:
            raise invalid(f"{carry.item_id!r} is not an open item of this case.",
                          field=f"carried_over[{position}].item_id", rule="E2")
        if not carry.reason.strip():
            raise invalid("A carried-over item needs a reason.",
                          field=f"carried_over[{position}].reason", rule="E2")
    missing = {item_id: text for item_id, text in items.items() if not reasons.get(item_id)}
    if missing:
        listing = "; ".join(f"{item_id}: {text}" for item_id, text in missing.items())
        raise conflict(f"Open items must be closed or carried over with a reason: {listing}",
                       field="carried_over", rule="E2", open_items=sorted(missing))


@answered_once(lambda _: CLOSE_KEY, CaseClosed)
def apply_close(engine: CaseEngine, message: CloseCase, now: datetime) -> CaseClosed:
    state = engine.state
    case_id = state.terms.case_id
    carried = [c.item_id for c in message.carried_over]
    for carry in message.carried_over:
        engine.pending.event(case_id, f"carried_over:{carry.item_id}", now, "carried_over",
                             "E2", item_id=carry.item_id)
        for task in state.open_tasks():
            if task.task_id == carry.item_id:
                engine.finish_task(task, now, message.closed_by or "closure", "carried_over")
        for review in state.open_reviews():
            if f"review-{review.review_id}" == carry.item_id:
                review.status = "carried_over"
        for audit in state.open_audits():
            if audit.audit_id == carry.item_id:
                audit.status = "carried_over"
                engine.pending.audit_ids.add(audit.audit_id)
    state.status = CLOSED
    state.closed_at = now
    engine.pending.event(case_id, "closed", now, "case_closed", "E2",
                         summary_id=message.summary_id, closed_by=message.closed_by,
                         carried_over=carried)
    result = CaseClosed(status=CLOSED, closed_at=now, carried_over=carried)
    return result
