"""`CaseView` from either source: the workflow's live status, or the read model once the
workflow has closed (DESIGN "Shape": reads of one live case may query the workflow;
closed cases come from the read model). Both give the same shape, so a client cannot
tell which answered except by `source`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.case_gateway import QUERY_TIMEOUT, CaseGateway
from api.errors import NotFound
from api.listing import OPEN_TASK
from api.permissions import Caller
from api.schemas.views import (
    AuditView,
    CaseView,
    ContactsView,
    PeriodView,
    PlanVersionView,
    ReportView,
    ReviewView,
    TaskView,
)
from api.scoping import AGENCY_ADDRESSEE, visible_case
from models.tables import AuditRow, CaseRow, PeriodRow, TaskRow
from workflows.deadlines import DEADLINE_KINDS
from workflows.state import CLOSED, CaseStatus, PeriodState


def _period_from_state(period: PeriodState) -> PeriodView:
    return PeriodView(
        index=period.index, due_date=period.due_date, follow_up_at=period.follow_up_at,
        overdue_at=period.overdue_at, escalation_at=period.escalation_at,
        ends_at=period.ends_at, basis=dict(period.basis), report_state=period.report_state,
        report_id=period.reports[-1].report_id if period.reports else None,
        report_received_at=period.first_report_at,
        reports=[ReportView(report_id=r.report_id, received_at=r.received_at)
                 for r in period.reports],
        assessment=period.assessments[-1].assessment if period.assessments else None,
        outcome=period.outcome, follow_up_sent_at=period.follow_up_sent_at,
        overdue_marked_at=period.overdue_marked_at, escalated_at=period.escalated_at,
    )


def view_from_status(status: CaseStatus) -> CaseView:
    state = status.state
    terms = state.terms
    return CaseView(
        case_id=status.case_id, agency_id=status.agency_id, jurisdiction=terms.jurisdiction,
        time_zone=terms.time_zone, phase=str(terms.phase), status=status.status,
        source="workflow", contract_start=terms.contract_start,
        contract_end=terms.contract_end, order_expiry=terms.order_expiry,
        endorsed_at=state.endorsed_at, ended_at=state.ended_at,
        end_reason=state.end_reason or None, closed_at=state.closed_at,
        next_deadline=status.next_deadline, next_deadline_kind=status.next_deadline_kind,
        overdue=status.overdue, consecutive_failures=state.consecutive_failures,
        audit_open=bool(state.open_audits()),
        periods=[_period_from_state(p) for p in state.periods],
        audits=[AuditView.model_validate(a) for a in state.audits],
        reviews=[ReviewView.model_validate(r) for r in state.reviews],
        plan_versions=[PlanVersionView.model_validate(v) for v in state.plan_versions],
        contacts=ContactsView.model_validate(state.contacts),
        open_tasks=[TaskView(case_id=status.case_id, agency_id=status.agency_id,
                             **{k: getattr(t, k) for k in (
                                 "task_id", "kind", "rule", "title", "assignee_role",
                                 "status", "created_at", "due_at", "completed_at",
                                 "completed_by")})
                    for t in state.open_tasks()],
    )


def _period_from_row(row: PeriodRow) -> PeriodView:
    extra: dict[str, Any] = row.state or {}
    return PeriodView(
        index=row.period_index, due_date=row.due_date, follow_up_at=row.follow_up_at,
        overdue_at=row.overdue_at, escalation_at=row.escalation_at,
        ends_at=extra.get("ends_at"), basis=extra.get("basis") or {},
        report_state=extra.get("report_state") or ("received" if row.report_id else "awaited"),
        report_id=row.report_id, report_received_at=row.report_received_at,
        reports=[ReportView.model_validate(r) for r in extra.get("reports") or []],
        assessment=row.assessment, outcome=row.outcome,
        follow_up_sent_at=extra.get("follow_up_sent_at"),
        overdue_marked_at=extra.get("overdue_marked_at"),
        escalated_at=extra.get("escalated_at"),
    )


def view_from_rows(case: CaseRow, periods: list[PeriodRow], audits: list[AuditRow],
                   open_tasks: list[TaskRow]) -> CaseView:
    snapshot: dict[str, Any] = case.snapshot or {}
    prefix = f"{case.case_id}:"
    return CaseView(
        case_id=case.case_id, agency_id=case.agency_id, jurisdiction=case.jurisdiction,
        status=case.status, source="read_model", contract_start=case.contract_start,
        contract_end=case.contract_end, order_expiry=case.order_expiry,
        endorsed_at=snapshot.get("endorsed_at"), ended_at=snapshot.get("ended_at"),
        end_reason=snapshot.get("end_reason") or None, closed_at=case.closed_at,
        next_deadline=case.next_deadline, next_deadline_kind=case.next_deadline_kind,
        overdue=case.overdue, consecutive_failures=case.consecutive_failures,
        audit_open=case.audit_open,
        periods=[_period_from_row(p) for p in periods],
        audits=[AuditView(audit_id=a.audit_id.removeprefix(prefix), rule=a.rule,
                          trigger=a.trigger, status=a.status, opened_at=a.opened_at,
                          findings_ids=list((a.findings or {}).get("findings_ids") or []),
                          closed_at=a.closed_at) for a in audits],
        reviews=[ReviewView.model_validate(r) for r in snapshot.get("reviews") or []],
        plan_versions=[PlanVersionView.model_validate(v)
                       for v in snapshot.get("plan_versions") or []],
        contacts=recorded_contacts(case),
        open_tasks=[TaskView.model_validate(t) for t in open_tasks],
    )


def recorded_contacts(case: CaseRow) -> ContactsView:
    """K1: the case's contacts as the read model counts them -- every one recorded, by
    the API or through the workflow (issue 13: activities/contacts.py)."""
    return ContactsView(count=case.contact_count or 0, last_contact_on=case.last_contact_on,
                        last_practitioner_meeting_on=case.last_practitioner_meeting_on)


async def read_model_view(session: AsyncSession, case: CaseRow) -> CaseView:
    case_id = case.case_id
    periods = (await session.scalars(select(PeriodRow).where(PeriodRow.case_id == case_id)
                                     .order_by(PeriodRow.period_index))).all()
    audits = (await session.scalars(select(AuditRow).where(AuditRow.case_id == case_id)
                                    .order_by(AuditRow.opened_at, AuditRow.audit_id))).all()
    tasks = (await session.scalars(select(TaskRow).where(TaskRow.case_id == case_id,
                                                         TaskRow.status == OPEN_TASK)
                                   .order_by(TaskRow.created_at, TaskRow.task_id))).all()
    return view_from_rows(case, list(periods), list(audits), list(tasks))


def fill_basis(view: CaseView, recorded: dict[int, dict[str, Any]]) -> CaseView:
    """The view with the basis of each instant the workflow no longer carries
    (workflows/compaction.py: none past the run that planned it) taken from its recorded
    row; the workflow's own, where it has one (a calendar change's), stands."""
    for period in view.periods:
        if period.index in recorded:
            period.basis = {**recorded[period.index], **period.basis}
    return view


async def with_recorded_periods(session: AsyncSession, view: CaseView, closed: int
                                ) -> CaseView:
    """The live view completed from the read model, in one read when anything is
    missing: the `closed` periods before the run's own (issue 13: the state keeps only
    their outline) from their rows, and `fill_basis` for the others."""
    missing = [p.index for p in view.periods if not DEADLINE_KINDS <= set(p.basis)]
    if not missing and not closed:
        return view
    rows = (await session.scalars(select(PeriodRow).where(
        PeriodRow.case_id == view.case_id,
        or_(PeriodRow.period_index < closed, PeriodRow.period_index.in_(missing)))
        .order_by(PeriodRow.period_index))).all()
    fill_basis(view, {row.period_index: row.state["basis"] for row in rows
                      if row.period_index >= closed and isinstance(row.state, dict)
                      and row.state.get("basis")})
    view.periods = [*(_period_from_row(row) for row in rows if row.period_index < closed),
                    *view.periods]
    return view


async def case_view(session: AsyncSession, gateway: CaseGateway, case_id: str,
                    caller: Caller, status_timeout: timedelta = QUERY_TIMEOUT,
                    row: CaseRow | None = None) -> CaseView:
    """Live while the workflow runs; from the read model once the case has closed, or
    if its workflow is gone (e.g. history removed after retention). 404 for a case the
    caller may not reach (C7). `row`: the case's row when the caller has it already."""
    row = await visible_case(session, caller, case_id, row)
    if row.status == CLOSED:
        view = await read_model_view(session, row)
    else:
        try:
            status = await gateway.status(case_id, status_timeout)
            view = await with_recorded_periods(session, view_from_status(status),
                                               status.state.closed.count)
            # The workflow learns of a contact recorded in the read model only when a
            # K1 check falls due (issue 13): the row counts every one at once.
            view.contacts = recorded_contacts(row)
        except NotFound:
            view = await read_model_view(session, row)
    if caller.agency_scoped:
        # C7: the practitioner's tasks are CP's file, as on /tasks.
        view.open_tasks = [t for t in view.open_tasks if t.assignee_role == AGENCY_ADDRESSEE]
    return view
