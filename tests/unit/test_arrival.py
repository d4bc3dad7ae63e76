"""R5 arrival instant (workflows/arrival.py): `received_at` bounded by what Temporal
proves and the service vouches for -- never after processing, never earlier than the
previous activation less the service's latency bound (issue 9.3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.case_gateway import (
    CLOCK_SKEW_MARGIN,
    LOOKUP_BUDGET,
    SEND_BOUND,
    lookup_bound,
    vouched_received_at,
)
from casework.config import Settings
from workflows.arrival import SERVICE_LATENCY_BOUND, report_arrival

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


# The R2 timer's activation 50 ms after midnight; the report stamped half a second
# before it, its update reaching Temporal a second later.
MIDNIGHT = datetime(2028, 6, 14, 14, 0, tzinfo=UTC)  # 00:00 in Melbourne
R2_ACTIVATION = MIDNIGHT + timedelta(milliseconds=50)
PROCESSED = MIDNIGHT + timedelta(seconds=1, milliseconds=200)


def test_r5_stamp_within_the_service_latency_before_the_floor_is_the_arrival() -> None:
    stamped = MIDNIGHT - timedelta(milliseconds=500)
    arrived = report_arrival(stamped, R2_ACTIVATION, PROCESSED)
    assert arrived == stamped and arrived < MIDNIGHT  # on time (R5)


def test_r5_stamp_at_the_latency_bound_stands_and_beyond_it_is_raised_to_the_floor() -> None:
    at_bound = R2_ACTIVATION - SERVICE_LATENCY_BOUND
    assert report_arrival(at_bound, R2_ACTIVATION, PROCESSED) == at_bound
    beyond = at_bound - timedelta(microseconds=1)
    assert report_arrival(beyond, R2_ACTIVATION, PROCESSED) == R2_ACTIVATION


def test_r5_without_a_latency_bound_the_floor_holds_as_before_the_patch() -> None:
    stamped = MIDNIGHT - timedelta(milliseconds=500)
    assert report_arrival(stamped, R2_ACTIVATION, PROCESSED, timedelta(0)) == R2_ACTIVATION


def test_r5_latency_bound_covers_the_apis_own_timeouts_with_default_settings() -> None:
    """The bound is derived from what the API spends between stamp and Temporal: the
    case lookup (casework/config.py database bounds) and the send (acceptance wait, then
    the signal), with room for clock skew."""
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert lookup_bound(defaults) <= LOOKUP_BUDGET
    assert lookup_bound(defaults) + SEND_BOUND + CLOCK_SKEW_MARGIN <= SERVICE_LATENCY_BOUND


def test_r5_api_keeps_its_stamp_within_the_lookup_budget_and_restamps_beyond() -> None:
    stamped = MIDNIGHT - timedelta(milliseconds=500)
    in_time = stamped + LOOKUP_BUDGET
    assert vouched_received_at(stamped, in_time) == stamped
    too_slow = in_time + timedelta(milliseconds=1)
    assert vouched_received_at(stamped, too_slow) == too_slow
