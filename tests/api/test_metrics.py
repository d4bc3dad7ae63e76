"""Issue 15: Prometheus metrics at /metrics -- who may read them, requests by route
template and status, and the business gauges read from the read model on scrape."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, date, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.metrics import read_business_numbers
from casework.logs import JsonFormatter
from casework.tokens import Role
from models.tables import AuditRow, CaseRow, NotificationRow, PeriodRow
from tests.api.conftest import ApiClient, active_case, assert_problem


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and sorted labels."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_metrics_need_an_operations_or_admin_token(api: ApiClient) -> None:
    assert_problem(await api.with_token(None).get("/metrics"), 401)
    assert_problem(await api.as_role(Role.PRACTITIONER).get("/metrics"), 403)
    assert (await api.as_role(Role.OPERATIONS).get("/metrics")).status_code == 200


async def test_requests_are_counted_by_route_template_never_by_case_id(api: ApiClient) -> None:
    case_id = await active_case(api, "metrics")
    for _ in range(3):
        assert (await api.get(f"/cases/{case_id}")).status_code == 200
    assert (await api.get("/no-such-route")).status_code == 404
    scrape = await api.as_role(Role.OPERATIONS).get("/metrics")
    assert scrape.headers["content-type"].startswith("text/plain")
    found = samples(scrape.text)
    read = ("casework_http_requests_total",
            (("method", "GET"), ("route", "/cases/{case_id}"), ("status", "200")))
    assert found[read] >= 3
    assert found[("casework_http_requests_total",
                  (("method", "GET"), ("route", "unmatched"), ("status", "404")))] >= 1
    assert found[("casework_http_request_duration_seconds_count",
                  (("method", "GET"), ("route", "/cases/{case_id}")))] >= 3
    assert case_id not in scrape.text  # a case id never becomes a label
    assert found[("casework_open_cases", (("status", "active"),))] >= 1


async def test_business_gauges_count_open_cases_overdue_periods_audits_and_outbox(
        api: ApiClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    """The rows of one made-up case move each gauge by exactly one; their status is
    unique to this test, so its count is exactly 1 whatever else is in the database."""
    now = datetime.now(UTC).replace(microsecond=0)
    case_id = f"metrics-{uuid.uuid4().hex[:10]}"
    status = f"status-{uuid.uuid4().hex[:6]}"
    async with sessions() as session:
        before = await read_business_numbers(session, now)
        session.add(CaseRow(
            case_id=case_id, agency_id="agency-metrics", jurisdiction="AU-VIC", status=status,
            workflow_id=f"case-contract-{case_id}", contract_start=date(2026, 1, 5),
            contract_end=date(2027, 1, 5), order_expiry=date(2027, 1, 5),
            terms_fingerprint="x", created_at=now, updated_at=now))
        session.add(PeriodRow(  # R2: overdue an hour ago, no report
            case_id=case_id, period_index=0, due_date=date(2026, 3, 30),
            follow_up_at=now - timedelta(days=14), overdue_at=now - timedelta(hours=1),
            escalation_at=now + timedelta(days=27), outcome="pending", updated_at=now))
        session.add(PeriodRow(  # not yet overdue
            case_id=case_id, period_index=1, due_date=date(2026, 6, 30),
            follow_up_at=now + timedelta(days=1), overdue_at=now + timedelta(days=14),
            escalation_at=now + timedelta(days=40), outcome="pending", updated_at=now))
        session.add(AuditRow(audit_id=f"audit-{case_id}", case_id=case_id,
                             agency_id="agency-metrics", rule="R8", trigger="test",
                             status="open", opened_at=now))
        session.add(NotificationRow(
            notification_key=f"{case_id}:R1:follow_up", case_id=case_id,
            agency_id="agency-metrics", kind="follow_up", rule="R1", recipient="agency",
            subject="R1 follow-up", created_at=now - timedelta(hours=2), attempts=0))
        await session.commit()
        try:
            after = await read_business_numbers(session, now)
            scrape = samples((await api.as_role(Role.OPERATIONS).get("/metrics")).text)
        finally:
            for table in (NotificationRow, AuditRow, PeriodRow, CaseRow):
                await session.execute(delete(table).where(table.case_id == case_id))
            await session.commit()
    assert after.open_cases_by_status[status] == 1
    assert status not in before.open_cases_by_status
    assert after.overdue_periods - before.overdue_periods == 1
    assert after.open_exception_audits - before.open_exception_audits == 1
    assert after.outbox_waiting - before.outbox_waiting == 1
    assert after.oldest_waiting_age_seconds(now) >= 2 * 3600
    assert scrape[("casework_open_cases", (("status", status),))] == 1
    assert scrape[("casework_outbox_oldest_waiting_seconds", ())] >= 2 * 3600
    assert scrape[("casework_overdue_periods", ())] >= 1
    assert scrape[("casework_open_exception_audits", ())] >= 1


class _JsonLines(logging.Handler):
    """Formats at emit time, while the request's context variables are still set."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


async def test_one_json_log_line_per_request_with_request_and_case_id(api: ApiClient) -> None:
    """Issue 15 (2): the request's line names its id (the caller's X-Request-ID, echoed),
    the case and the route template, and nothing of the body."""
    case_id = await active_case(api, "logs")
    handler = _JsonLines()
    logger = logging.getLogger("casework.api.requests")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        answer = await api.post(f"/cases/{case_id}/reports", headers={"X-Request-ID": "req-77"},
                                json={"report_id": "rep-logs", "secret_marker": "xyzzy"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert answer.headers["x-request-id"] == "req-77"
    [request_line] = [entry for entry in handler.lines if entry["event"] == "request"]
    assert request_line["request_id"] == "req-77" and request_line["case_id"] == case_id
    assert request_line["route"] == "/cases/{case_id}/reports"
    assert request_line["status"] == answer.status_code and request_line["method"] == "POST"
    assert "xyzzy" not in json.dumps(handler.lines)
