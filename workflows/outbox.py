"""The effects a case has decided but not yet recorded, and how they are built.

`Pending` collects timeline entries and notifications (append-only) and the ids of
tasks, audits and periods that changed; `CaseEngine` fills it, the workflow flushes it
through one activity. Keys are natural (case, subject, kind), so the same decision
recorded twice is one row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.effects import AccessEntry, ContactEntry, NotificationEntry, TimelineEntry


@dataclass
class Pending:
    timeline: list[TimelineEntry] = field(default_factory=list)
    notifications: list[NotificationEntry] = field(default_factory=list)
    task_ids: set[str] = field(default_factory=set)
    audit_ids: set[str] = field(default_factory=set)
    period_indexes: set[int] = field(default_factory=set)
    removed_periods: set[int] = field(default_factory=set)
    case_changed: bool = False
    access: list[AccessEntry] = field(default_factory=list)
    contacts: list[ContactEntry] = field(default_factory=list)  # K1, for `contacts`

    def __bool__(self) -> bool:
        return bool(
            self.timeline
            or self.notifications
            or self.task_ids
            or self.audit_ids
            or self.period_indexes
            or self.removed_periods
            or self.case_changed
            or self.access
            or self.contacts
        )

    def event(
        self,
        case_id: str,
        key: str,
        at: datetime,
        kind: str,
        rule: str | None = None,
        **detail: Any,
    ) -> None:
        self.timeline.append(
            TimelineEntry(
                event_key=f"{case_id}:{key}", occurred_at=at, kind=kind, rule=rule, detail=detail
            )
        )
        self.case_changed = True

    def notify(
        self, case_id: str, key: str, at: datetime, kind: str, rule: str, recipient: str,
        subject: str,
    ) -> None:
        self.notifications.append(
            NotificationEntry(
                notification_key=f"{case_id}:{key}",
                kind=kind,
                rule=rule,
                recipient=recipient,
                subject=subject,
                created_at=at,
            )
        )
