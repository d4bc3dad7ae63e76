"""Issue 15: the pure parts of metrics and request ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import generate_latest

from api.metrics import ApiMetrics, BusinessNumbers
from api.observability import request_id_from, route_template

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def numbers(by_status: dict[str, int], oldest: datetime | None = None) -> BusinessNumbers:
    return BusinessNumbers(open_cases_by_status=by_status, overdue_periods=2,
                           open_exception_audits=1, outbox_waiting=3,
                           outbox_oldest_waiting_at=oldest)


def test_a_plain_caller_request_id_is_kept() -> None:
    assert request_id_from([(b"X-Request-ID", b"abc-123.4:5")]) == "abc-123.4:5"


def test_a_request_id_that_could_forge_log_text_is_replaced() -> None:
    forged = request_id_from([(b"x-request-id", b'x" ,"case_id":"other')])
    assert forged != 'x" ,"case_id":"other' and len(forged) == 32
    assert len(request_id_from([(b"x-request-id", b"a" * 65)])) == 32
    assert request_id_from([]) != request_id_from([])


def test_route_template_of_an_unrouted_request_is_unmatched() -> None:
    class Route:
        path = "/cases/{case_id}"

    assert route_template({"type": "http", "route": Route()}) == "/cases/{case_id}"
    assert route_template({"type": "http"}) == "unmatched"


def test_oldest_waiting_age_reads_naive_sqlite_times_as_utc() -> None:
    naive = (NOW - timedelta(minutes=5)).replace(tzinfo=None)
    assert numbers({}, naive).oldest_waiting_age_seconds(NOW) == 300
    assert numbers({}, None).oldest_waiting_age_seconds(NOW) == 0


def test_a_status_with_no_open_case_left_reads_zero_not_its_last_count() -> None:
    metrics = ApiMetrics()
    metrics.show(numbers({"active": 4, "awaiting_endorsement": 1}), NOW)
    metrics.show(numbers({"active": 5}), NOW)
    text = generate_latest(metrics.registry).decode()
    assert 'casework_open_cases{status="active"} 5.0' in text
    assert 'casework_open_cases{status="awaiting_endorsement"} 0.0' in text
    assert "casework_outbox_waiting 3.0" in text
