"""The read model's list queries: one select per list, filters as plain arguments.

Shared by the routes and `bench/list_cases.py`, so the benchmark times exactly what the
API runs. Sorting and paging are in `api/pagination.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from api.schemas.common import to_utc
from models.tables import CaseRow, NoteRow, NotificationRow, TaskRow, TimelineEventRow

OPEN_TASK = "open"


@dataclass(frozen=True)
class CaseFilters:
    """`GET /cases` filters; None means "any"."""

    agency_id: str | None = None
    status: str | None = None
    deadline_before: datetime | None = None
    overdue: bool | None = None
    min_consecutive_failures: int | None = None
    audit_open: bool | None = None


def case_list(filters: CaseFilters) -> Select[Any]:
    """Cases matching every filter; sorted by next deadline by the pager. Indexes: agency
    or status + deadline; failures, audit_open and overdue are filtered along the
    deadline index (see bench/list_cases.py for what that costs)."""
    statement = select(CaseRow)
    if filters.agency_id is not None:
        statement = statement.where(CaseRow.agency_id == filters.agency_id)
    if filters.status is not None:
        statement = statement.where(CaseRow.status == filters.status)
    if filters.deadline_before is not None:
        statement = statement.where(CaseRow.next_deadline < to_utc(filters.deadline_before))
    if filters.overdue is not None:
        statement = statement.where(CaseRow.overdue.is_(filters.overdue))
    if filters.min_consecutive_failures is not None:
        statement = statement.where(
            CaseRow.consecutive_failures >= filters.min_consecutive_failures)
    if filters.audit_open is not None:
        statement = statement.where(CaseRow.audit_open.is_(filters.audit_open))
    return statement


def task_list(case_id: str | None, agency_id: str | None, status: str | None,
              due_before: datetime | None) -> Select[Any]:
    """Tasks; `status` "open" or "closed" (completed or carried over)."""
    statement = select(TaskRow)
    if case_id is not None:
        statement = statement.where(TaskRow.case_id == case_id)
    if agency_id is not None:
        statement = statement.where(TaskRow.agency_id == agency_id)
    if status == "open":
        statement = statement.where(TaskRow.status == OPEN_TASK)
    elif status == "closed":
        statement = statement.where(TaskRow.status != OPEN_TASK)
    if due_before is not None:
        statement = statement.where(TaskRow.due_at < to_utc(due_before))
    return statement


def notification_list(case_id: str | None, agency_id: str | None,
                      delivered: bool | None) -> Select[Any]:
    statement = select(NotificationRow)
    if case_id is not None:
        statement = statement.where(NotificationRow.case_id == case_id)
    if agency_id is not None:
        statement = statement.where(NotificationRow.agency_id == agency_id)
    if delivered is True:
        statement = statement.where(NotificationRow.delivered_at.is_not(None))
    elif delivered is False:
        statement = statement.where(NotificationRow.delivered_at.is_(None))
    return statement


CP_WORK_EVENTS = ("task_opened", "task_completed", "task_carried_over")
"""Timeline entries about CP's own tasks: left out for agency callers (C7), as /tasks
and the case's open tasks leave the tasks themselves out."""


def timeline_list(case_id: str, *, agency_view: bool = False) -> Select[Any]:
    statement = select(TimelineEventRow).where(TimelineEventRow.case_id == case_id)
    if agency_view:
        statement = statement.where(TimelineEventRow.kind.not_in(CP_WORK_EVENTS))
    return statement


def note_list(case_id: str) -> Select[Any]:
    return select(NoteRow).where(NoteRow.case_id == case_id)
