"""What every district request workflow (DOMAIN T1-T4) does the same way: compute its
deadlines in an activity, remind and escalate as they come, record what it decided, keep
its search attributes current, and sleep until the next instant or a message.

Imported by the workflows inside the sandbox (passed through, like the case workflow's
engine); it calls `workflow.*` only from methods the workflows run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

from models.district import DeadlineSpec, DeadlinesRequest, RequestDeadline, RequestEffects
from models.district import RequestEntry as Entry
from models.effects import AccessEntry, NotificationEntry, TimelineEntry
from workflows.errors import CaseError

CASE_ID = SearchAttributeKey.for_keyword("CaseId")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
REQUEST_KIND = SearchAttributeKey.for_keyword("RequestKind")
REQUEST_STATUS = SearchAttributeKey.for_keyword("RequestStatus")
FROM_DISTRICT = SearchAttributeKey.for_keyword("FromDistrict")
TO_DISTRICT = SearchAttributeKey.for_keyword("ToDistrict")
DISPUTE_STAGE = SearchAttributeKey.for_keyword("DisputeStage")
ESCALATED = SearchAttributeKey.for_bool("Escalated")

ACTIVITY_TIMEOUT = timedelta(minutes=2)
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1),
                             maximum_interval=timedelta(minutes=5))
RECORDING_HEARTBEAT_TIMEOUT = timedelta(seconds=5)

REMINDER = "reminder"
ESCALATION = "escalation"


def refuse(error: CaseError) -> ApplicationError:
    """A validator's refusal, in the form the API maps to 404/409/422 (api/district_gateway)."""
    return ApplicationError(error.message, error.details(), type=error.kind,
                            non_retryable=True)


@dataclass
class Due:
    """A reminder or escalation whose instant has come."""

    deadline: RequestDeadline
    action: str  # REMINDER | ESCALATION


@dataclass
class RequestRuntime:
    kind: str
    request_id: str
    case_id: str
    from_district: str
    to_district: str
    workflow_id: str
    jurisdiction: str
    time_zone: str
    deadlines: list[RequestDeadline] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    notifications: list[NotificationEntry] = field(default_factory=list)
    access: list[AccessEntry] = field(default_factory=list)
    """Issue 10: access-log rows of messages refused at the door (workflows/district_doors)."""
    wake: bool = False
    escalated: bool = False
    _published: tuple[Any, ...] | None = None

    # ------------------------------------------------------------ deadlines
    async def compute(self, counted_from: datetime, specs: list[DeadlineSpec]
                      ) -> list[RequestDeadline]:
        """DESIGN decision 1: the AU-WA working-day count runs in an activity, so its
        answer (and the calendar it used) is recorded in history."""
        keys = ", ".join(f"{s.rule} {s.key}" for s in specs)
        result: list[RequestDeadline] = await workflow.execute_activity(
            "district_deadlines",
            DeadlinesRequest(counted_from=counted_from, specs=specs,
                             jurisdiction=self.jurisdiction, time_zone=self.time_zone),
            result_type=list[RequestDeadline], start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY, summary=f"deadlines: {keys}")
        return result

    def open_deadlines(self) -> list[RequestDeadline]:
        return [d for d in self.deadlines if d.met_at is None]

    def meet(self, key: str, at: datetime) -> None:
        """The deadline `key` is met (or no longer applies): no reminder, no escalation."""
        for deadline in self.deadlines:
            if deadline.key == key and deadline.met_at is None:
                deadline.met_at = at

    def due(self, now: datetime) -> list[Due]:
        """Reminders and escalations whose instant has come, each once, in time order;
        marked as done here so a repeat pass fires nothing twice."""
        found: list[Due] = []
        for deadline in self.open_deadlines():
            if not deadline.reminded and deadline.remind_at <= now:
                deadline.reminded = True
                if deadline.remind_at < deadline.due_at and now < deadline.due_at:
                    found.append(Due(deadline, REMINDER))
            if not deadline.escalated and deadline.due_at <= now:
                deadline.escalated = True
                self.escalated = True
                found.append(Due(deadline, ESCALATION))
        return found

    def next_instant(self) -> tuple[datetime, str] | None:
        """The soonest reminder or deadline still to come, with what it is."""
        upcoming: list[tuple[datetime, str]] = []
        for deadline in self.open_deadlines():
            if not deadline.reminded:
                upcoming.append((deadline.remind_at, f"{deadline.rule} {deadline.key} "
                                                     f"{REMINDER}"))
            if not deadline.escalated:
                upcoming.append((deadline.due_at, f"{deadline.rule} {deadline.key} due"))
        return min(upcoming) if upcoming else None

    def next_deadline(self) -> RequestDeadline | None:
        waiting = [d for d in self.open_deadlines() if not d.escalated]
        return min(waiting, key=lambda d: d.due_at) if waiting else None

    # ------------------------------------------------------------ effects
    def event(self, key: str, kind: str, rule: str | None, **detail: Any) -> None:
        self.timeline.append(TimelineEntry(
            event_key=f"{self.workflow_id}:{key}", occurred_at=workflow.now(), kind=kind,
            rule=rule, detail=detail))

    def notify(self, key: str, kind: str, rule: str, recipient: str, subject: str) -> None:
        self.notifications.append(NotificationEntry(
            notification_key=f"{self.workflow_id}:{key}", kind=kind, rule=rule,
            recipient=recipient, subject=subject[:300], created_at=workflow.now()))

    def entry(self, status: str, opened_at: datetime, *, stage: str | None = None,
              child_in_care: bool | None = None, closed: bool = False,
              summary: dict[str, Any] | None = None) -> Entry:
        upcoming = self.next_deadline()
        return Entry(
            kind=self.kind, request_id=self.request_id, case_id=self.case_id,
            from_district=self.from_district, to_district=self.to_district, status=status,
            workflow_id=self.workflow_id, opened_at=opened_at, updated_at=workflow.now(),
            stage=stage, child_in_care=child_in_care,
            next_deadline=upcoming.due_at if upcoming and not closed else None,
            next_deadline_kind=upcoming.key if upcoming and not closed else None,
            escalated=self.escalated, closed_at=workflow.now() if closed else None,
            summary=summary or {})

    async def flush(self, entry: Entry) -> None:
        """Record the row, timeline and notices (one idempotent activity), and publish
        the search attributes operations filter on (DESIGN decision 5)."""
        self._publish(entry)
        effects = RequestEffects(request=entry, timeline=self.timeline,
                                 notifications=self.notifications, access=self.access)
        self.timeline, self.notifications, self.access = [], [], []
        await workflow.execute_activity(
            "record_request_effects", effects, start_to_close_timeout=ACTIVITY_TIMEOUT,
            heartbeat_timeout=RECORDING_HEARTBEAT_TIMEOUT, retry_policy=ACTIVITY_RETRY,
            summary=f"record {entry.kind} {entry.status}")

    async def record_access(self, *, refused_start: bool = False) -> None:
        """Record only the access-log rows (issue 10): a start refused at the door
        (`refused_start`: tried a few times only, `record_refused_start`), or refusals
        noted as the run ended."""
        effects = RequestEffects(request=None, access=self.access)
        self.access = []
        if refused_start:
            await record_refused_start(effects)
            return
        await workflow.execute_activity(
            "record_request_effects", effects, start_to_close_timeout=ACTIVITY_TIMEOUT,
            heartbeat_timeout=RECORDING_HEARTBEAT_TIMEOUT, retry_policy=ACTIVITY_RETRY,
            summary=f"record {self.kind} refusals")

    def _publish(self, entry: Entry) -> None:
        values = (entry.status, entry.stage, entry.next_deadline, entry.escalated)
        if values == self._published:
            return
        self._published = values
        updates: list[SearchAttributeUpdate[Any]] = [
            CASE_ID.value_set(entry.case_id), REQUEST_KIND.value_set(entry.kind),
            REQUEST_STATUS.value_set(entry.status),
            FROM_DISTRICT.value_set(entry.from_district),
            TO_DISTRICT.value_set(entry.to_district), ESCALATED.value_set(entry.escalated),
            NEXT_DEADLINE.value_set(entry.next_deadline) if entry.next_deadline
            else NEXT_DEADLINE.value_unset(),
        ]
        if entry.stage is not None:
            updates.append(DISPUTE_STAGE.value_set(entry.stage))
        workflow.upsert_search_attributes(updates)

    # ------------------------------------------------------------ sleeping
    async def sleep_until_next(self, also: Callable[[], bool] = lambda: False) -> None:
        """Until the next reminder or deadline, or until a message needs acting on;
        re-anchored on the absolute instant each time (a message may move it)."""
        upcoming = self.next_instant()
        if upcoming is None:
            await workflow.wait_condition(lambda: self.wake or also())
            return
        at, what = upcoming
        remaining = at - workflow.now()
        if remaining <= timedelta(0):
            return
        try:
            await workflow.wait_condition(lambda: self.wake or also(), timeout=remaining,
                                          timeout_summary=what)
        except TimeoutError:
            pass


REFUSED_START_ATTEMPTS = 5


async def record_refused_start(effects: RequestEffects) -> None:
    """The access-log row of a start refused at the door (a case's or a request's), tried
    a few times only: the run must fail soon whatever the database does, for a run kept
    waiting holds the workflow id -- the case id the real registration needs. A row not
    written is said in the worker's log."""
    try:
        await workflow.execute_activity(
            "record_request_effects", effects, start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                     maximum_attempts=REFUSED_START_ATTEMPTS),
            summary="record a refused start")
    except ActivityError:
        workflow.logger.warning("the refused start's access-log row was not written")


def day_of(deadline: RequestDeadline) -> str:
    """The deadline's last local day, as its basis states it (for notice subjects)."""
    return str(deadline.basis.get("last_day", deadline.due_at.date().isoformat()))


def plain_deadline(deadline: RequestDeadline) -> dict[str, Any]:
    """A deadline as JSON-ready data, for the read model's snapshot."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v)
            for k, v in asdict(deadline).items()}
