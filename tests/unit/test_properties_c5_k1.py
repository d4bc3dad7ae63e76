"""Property tests (issue 16.2) for C5 (reporting schedules, workflows/policy.py) and K1
(contact gaps, workflows/engine_contacts.py), against reference models written from
DOMAIN.md: "quarterly is the minimum: a schedule with any gap longer than three months
is refused"; "a gap longer than the case plan's contact frequency is evidence of lack of
client contact (R7)", raised once per gap."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from itertools import pairwise

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from models.errors import PolicyViolation
from models.messages import RecordContact
from models.terms import ReportingSchedule
from tests.unit.test_policy import make_terms
from workflows import engine_contacts, policy
from workflows.engine import CaseEngine
from workflows.state import ACTIVE, CaseState

starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def within_three_months(earlier: date, later: date) -> bool:
    """Reference for "no gap longer than three months", by month numbers: fewer than
    three months on is within; exactly three months on, the day may be no later than
    the earlier one's (clamped to a shorter month); from a month's last day, anywhere in
    the month three months on."""
    months = (later.year * 12 + later.month) - (earlier.year * 12 + earlier.month)
    if months != 3:
        return months < 3
    if earlier.day == _last_day(earlier.year, earlier.month):
        return True
    return later.day <= min(earlier.day, _last_day(later.year, later.month))


@settings(max_examples=120, deadline=None)
@given(start=starts, gaps=st.lists(st.integers(1, 110), min_size=1, max_size=8),
       tail_days=st.integers(0, 110))
def test_c5_explicit_schedule_is_accepted_exactly_when_no_gap_exceeds_three_months(
        start: date, gaps: list[int], tail_days: int) -> None:
    due_dates: list[date] = []
    for gap in gaps:
        due_dates.append((due_dates[-1] if due_dates else start) + timedelta(days=gap))
    end = due_dates[-1] + timedelta(days=tail_days)
    terms = make_terms(contract_start=start, contract_end=end,
                       order_expiry=end + timedelta(days=400),
                       schedule=ReportingSchedule(due_dates=due_dates))
    points = [start, *due_dates, end]
    expected = all(within_three_months(a, b) for a, b in pairwise(points))
    try:
        assert policy.validate_terms(terms, within_limits=False) == due_dates
        accepted = True
    except PolicyViolation as refused:
        assert refused.rule == "C5", refused
        accepted = False
    assert accepted == expected, (points, expected)


@settings(max_examples=120, deadline=None)
@given(start=starts, interval=st.integers(1, 3), months=st.integers(1, 48),
       anchor_offset=st.integers(0, 40))
def test_c5_interval_schedule_is_ordered_and_never_leaves_a_gap_over_three_months(
        start: date, interval: int, months: int, anchor_offset: int) -> None:
    """Every 1-3 months from the anchor (clamped at month ends, never drifting): dates
    strictly increasing, after the start, none after the end, each within three months
    of the one before; the n-th is n intervals from the anchor by month number."""
    anchor = start + timedelta(days=anchor_offset)
    end = policy.add_months(start, months)
    due = policy.resolve_due_dates(ReportingSchedule(start_date=anchor,
                                                     interval_months=interval), start, end)
    assert due == sorted(set(due))
    assert all(start < day <= end for day in due)
    for n, day in enumerate(due, start=1):
        assert (day.year * 12 + day.month) - (anchor.year * 12 + anchor.month) == n * interval
        assert day.day == min(anchor.day, _last_day(day.year, day.month))
    for earlier, later in pairwise([anchor, *due]):
        assert within_three_months(earlier, later)


# ------------------------------------------------------------------------- K1
def _active_case(start: date, frequency_days: int) -> CaseEngine:
    terms = make_terms(contract_start=start, contract_end=start + timedelta(days=200),
                       order_expiry=start + timedelta(days=400),
                       contact_frequency_days=frequency_days)
    return CaseEngine(CaseState(terms=terms, status=ACTIVE, periods=[]))


@settings(max_examples=60, deadline=None)
@given(frequency_days=st.integers(1, 30),
       contact_days=st.lists(st.integers(0, 120), max_size=10, unique=True),
       horizon_days=st.integers(0, 150))
def test_k1_one_lack_of_contact_event_per_gap_longer_than_the_frequency(
        frequency_days: int, contact_days: list[int], horizon_days: int) -> None:
    """Days pass one by one (each checked at its end); direct contacts are recorded on
    their day. The events raised equal the reference: one for every stretch between
    consecutive contacts (from the contract start, up to the horizon) that exceeds the
    frequency, whatever the frequency and the days."""
    start = date(2031, 3, 3)
    engine = _active_case(start, frequency_days)
    contacts = sorted(day for day in contact_days if day <= horizon_days)
    assume(len(contacts) == len(contact_days))
    for day_number in range(horizon_days + 1):
        day = start + timedelta(days=day_number)
        if day_number in contacts:
            engine_contacts.apply_contact(engine, RecordContact(
                contact_id=f"k-{day_number}", occurred_on=day, kind="direct",
                by_role="agency"), engine_contacts.day_end(day) - timedelta(hours=12))
        engine_contacts.advance_contacts(engine, engine_contacts.day_end(day))
    raised = [entry for entry in engine.pending.timeline
              if entry.kind == "audit_trigger_raised"
              and entry.detail.get("trigger") == "lack_of_client_contact"]
    seen = [0, *contacts]
    expected = sum(1 for a, b in zip(seen, [*contacts, horizon_days + 1], strict=False)
                   if b - a > frequency_days)
    assert len(raised) == expected, (seen, horizon_days, frequency_days)
