"""R5 arrival instant (workflows/arrival.py): `received_at` bounded by what Temporal
proves -- never after processing, never before the previous activation (issue 9.3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from workflows.arrival import report_arrival

FLOOR = datetime(2028, 6, 14, 13, 59, tzinfo=UTC)
NOW = datetime(2028, 6, 15, 2, 0, tzinfo=UTC)


def test_r5_received_at_between_floor_and_processing_is_the_arrival() -> None:
    received = datetime(2028, 6, 14, 13, 30, tzinfo=UTC) + timedelta(hours=1)
    assert report_arrival(received, FLOOR, NOW) == received


def test_r5_received_at_after_processing_counts_as_processing_time() -> None:
    assert report_arrival(NOW + timedelta(days=30), FLOOR, NOW) == NOW


def test_r5_received_at_before_previous_activation_is_raised_to_it() -> None:
    assert report_arrival(FLOOR - timedelta(days=90), FLOOR, NOW) == FLOOR


def test_r5_naive_received_at_is_read_as_utc() -> None:
    naive = datetime(2028, 6, 14, 20, 0)
    assert report_arrival(naive, FLOOR, NOW) == naive.replace(tzinfo=UTC)


def test_r5_other_offsets_are_the_same_instant() -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2028, 6, 15, 9, 0, tzinfo=ZoneInfo("Australia/Melbourne"))  # 23:00 UTC
    assert report_arrival(local, FLOOR, NOW) == local


def test_r5_floor_after_processing_never_makes_arrival_later_than_now() -> None:
    assert report_arrival(FLOOR, NOW + timedelta(hours=1), NOW) == NOW
