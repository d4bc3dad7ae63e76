"""Prometheus metrics of the API (issue 15): requests, and the few business numbers
operations watch.

- `casework_http_requests_total{method,route,status}` and
  `casework_http_request_duration_seconds{method,route}`: by route *template*
  (`/cases/{case_id}`), never the raw path, so a case id never becomes a label and the
  number of series stays fixed; a path no route matches counts as `unmatched`.
- Business gauges, computed from the read model when Prometheus scrapes (a handful of
  aggregate queries on indexed columns, no per-case work): open cases by status,
  overdue periods (R2: past `overdue_at` with no report, on open cases), open
  exception audits (R8), notices waiting in the outbox and the age of the oldest.

Each app has its own registry, so two apps in one process (tests) never clash, and
/metrics shows only this process's numbers: Prometheus sums over the API replicas.
The Temporal SDK's worker metrics are the worker's own endpoint (casework/telemetry.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import AuditRow, CaseRow, NotificationRow, PeriodRow

UNMATCHED_ROUTE = "unmatched"

LATENCY_BUCKETS_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class BusinessNumbers:
    """What the business gauges show, read from the read model at one instant."""

    open_cases_by_status: dict[str, int]
    overdue_periods: int
    open_exception_audits: int
    outbox_waiting: int
    outbox_oldest_waiting_at: datetime | None

    def oldest_waiting_age_seconds(self, now: datetime) -> float:
        """How long the oldest undelivered notice has waited; 0 when none waits."""
        if self.outbox_oldest_waiting_at is None:
            return 0.0
        oldest = self.outbox_oldest_waiting_at
        if oldest.tzinfo is None:  # SQLite returns naive UTC
            oldest = oldest.replace(tzinfo=UTC)
        return max(0.0, (now - oldest).total_seconds())


async def read_business_numbers(session: AsyncSession, now: datetime) -> BusinessNumbers:
    """Five aggregate queries; on open cases only, as closed ones need nobody."""
    by_status = (await session.execute(
        select(CaseRow.status, func.count()).where(CaseRow.closed_at.is_(None))
        .group_by(CaseRow.status))).all()
    overdue = await session.scalar(
        select(func.count()).select_from(PeriodRow)
        .join(CaseRow, CaseRow.case_id == PeriodRow.case_id)
        .where(CaseRow.closed_at.is_(None), PeriodRow.outcome == "pending",
               PeriodRow.report_received_at.is_(None), PeriodRow.overdue_at < now))
    audits = await session.scalar(
        select(func.count()).select_from(AuditRow).where(AuditRow.closed_at.is_(None)))
    waiting, oldest = (await session.execute(
        select(func.count(), func.min(NotificationRow.created_at))
        .where(NotificationRow.delivered_at.is_(None)))).one()
    return BusinessNumbers(
        open_cases_by_status={str(status): int(count) for status, count in by_status},
        overdue_periods=int(overdue or 0), open_exception_audits=int(audits or 0),
        outbox_waiting=int(waiting or 0), outbox_oldest_waiting_at=oldest)


@dataclass
class ApiMetrics:
    """The registry of one app and its instruments."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter("casework_http_requests", "HTTP requests answered.",
                                ("method", "route", "status"), registry=r)
        self.latency = Histogram("casework_http_request_duration_seconds",
                                 "Time to answer an HTTP request.", ("method", "route"),
                                 buckets=LATENCY_BUCKETS_SECONDS, registry=r)
        self.open_cases = Gauge("casework_open_cases", "Cases not closed, by status.",
                                ("status",), registry=r)
        self.overdue_periods = Gauge(
            "casework_overdue_periods",
            "Reporting periods past their overdue instant with no report (R2), on open "
            "cases.", registry=r)
        self.open_audits = Gauge("casework_open_exception_audits",
                                 "Exception audits not closed (R8).", registry=r)
        self.outbox_waiting = Gauge("casework_outbox_waiting",
                                    "Notices in the outbox not yet delivered.", registry=r)
        self.outbox_age = Gauge(
            "casework_outbox_oldest_waiting_seconds",
            "How long the oldest undelivered notice has waited (0 when none).", registry=r)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def show(self, numbers: BusinessNumbers, now: datetime) -> None:
        """Set the gauges; a status that has no open case any more reads 0, not its
        last count."""
        for status in list(self._known_statuses()):
            if status not in numbers.open_cases_by_status:
                self.open_cases.labels(status).set(0)
        for status, count in numbers.open_cases_by_status.items():
            self.open_cases.labels(status).set(count)
        self.overdue_periods.set(numbers.overdue_periods)
        self.open_audits.set(numbers.open_exception_audits)
        self.outbox_waiting.set(numbers.outbox_waiting)
        self.outbox_age.set(numbers.oldest_waiting_age_seconds(now))

    def _known_statuses(self) -> set[str]:
        return {sample.labels["status"] for metric in self.open_cases.collect()
                for sample in metric.samples if "status" in sample.labels}

    async def exposition(self, session: AsyncSession) -> bytes:
        """The text Prometheus scrapes, with the business gauges read just now."""
        now = datetime.now(UTC)
        self.show(await read_business_numbers(session, now), now)
        return generate_latest(self.registry)
