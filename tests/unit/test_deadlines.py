"""The period deadlines (workflows/deadlines.py): R1 follow-up, R2 overdue, R3 escalation.

Real dates, worked out by hand; each comment shows the count. Melbourne is UTC+11
(AEDT) from the first Sunday in October to the first Sunday in April and UTC+10 (AEST)
otherwise, so 09:00 local is 22:00 UTC the day before in summer, 23:00 in winter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from workflows.business_calendar import BusinessCalendar, CalendarSpec, SkippedDay
from workflows.deadlines import (
    ESCALATION_CALENDAR_DAYS,
    FOLLOW_UP_BUSINESS_DAYS,
    NOTICE_LOCAL_TIME,
    PeriodDeadlines,
    escalation_deadline,
    follow_up_deadline,
    local_instant,
    overdue_deadline,
    period_deadlines,
)

VIC = BusinessCalendar(CalendarSpec())
NSW = BusinessCalendar(CalendarSpec(jurisdiction="AU-NSW", time_zone="Australia/Sydney"))
WA = BusinessCalendar(CalendarSpec(jurisdiction="AU-WA", time_zone="Australia/Perth"))
QLD = BusinessCalendar(CalendarSpec(jurisdiction="AU-QLD", time_zone="Australia/Brisbane"))
CUP_DAY_2025 = SkippedDay(date(2025, 11, 4), "Melbourne Cup Day")


def utc(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def test_rule_constants() -> None:
    assert FOLLOW_UP_BUSINESS_DAYS == 10  # R1
    assert ESCALATION_CALENDAR_DAYS == 28  # R3
    assert NOTICE_LOCAL_TIME == time(9, 0)


# --------------------------------------------------------------- local instant
def test_local_instant_follows_melbourne_daylight_saving() -> None:
    # 15 Jan 2026 is summer (AEDT, +11); 1 Jul 2026 winter (AEST, +10).
    assert local_instant(date(2026, 1, 15), time(9), "Australia/Melbourne") == utc(2026, 1, 14, 22)
    assert local_instant(date(2026, 7, 1), time(9), "Australia/Melbourne") == utc(2026, 6, 30, 23)
    assert local_instant(date(2026, 7, 1), time(9), "Australia/Melbourne").tzinfo is UTC


def test_local_instant_refuses_a_time_that_already_has_a_zone() -> None:
    with pytest.raises(ValueError, match="must not carry a time zone"):
        local_instant(date(2026, 7, 1), time(9, tzinfo=UTC), "Australia/Melbourne")


# ------------------------------------------------------------------------- R1
def test_r1_follow_up_skips_melbourne_cup_day() -> None:
    # D = Fri 14 Nov 2025. Back: Thu 13 (1), Wed 12 (2), Tue 11 (3), Mon 10 (4),
    # Fri 7 (5), Thu 6 (6), Wed 5 (7), Tue 4 Cup Day skipped, Mon 3 (8), Fri 31 Oct (9),
    # Thu 30 Oct (10). 09:00 AEDT on 30 Oct = 22:00 UTC on 29 Oct.
    follow_up = follow_up_deadline(date(2025, 11, 14), VIC)
    assert follow_up.kind == "follow_up"
    assert follow_up.at == utc(2025, 10, 29, 22)
    assert follow_up.basis.local_date == date(2025, 10, 30)
    assert follow_up.basis.skipped == (CUP_DAY_2025,)
    assert follow_up.basis.explanation == (
        "10 business days before the due date 2025-11-14 (skipping Melbourne Cup Day "
        "2025-11-04): 2025-10-30 at 09:00 Australia/Melbourne")


def test_r1_follow_up_counts_melbourne_cup_day_in_nsw() -> None:
    # Same D in NSW: Tue 4 Nov counts (8), Mon 3 (9), Fri 31 Oct (10). Sydney is also
    # on daylight time: 09:00 AEDT = 22:00 UTC the day before.
    follow_up = follow_up_deadline(date(2025, 11, 14), NSW)
    assert follow_up.at == utc(2025, 10, 30, 22)
    assert follow_up.basis.skipped == ()
    assert "skipping" not in follow_up.basis.explanation


def test_r1_follow_up_counts_cup_day_for_a_regional_victorian_case() -> None:
    regional = BusinessCalendar(CalendarSpec(removed_holidays=(date(2025, 11, 4),)))
    follow_up = follow_up_deadline(date(2025, 11, 14), regional)
    assert follow_up.basis.local_date == date(2025, 10, 31)  # as in NSW
    assert follow_up.basis.skipped == ()
    assert follow_up.basis.calendar == "AU-VIC public holidays + 0 extra closure(s) - 1 removed"


def test_r1_extra_closure_moves_the_follow_up_earlier_and_is_explained() -> None:
    # Monday 3 Nov 2025 declared closed as well: Tue 4 and Mon 3 both skipped, so (8) is
    # Fri 31 Oct, (9) Thu 30, (10) Wed 29 Oct -> 22:00 UTC on 28 Oct.
    calendar = BusinessCalendar(CalendarSpec(extra_closures=(date(2025, 11, 3),)))
    follow_up = follow_up_deadline(date(2025, 11, 14), calendar)
    assert follow_up.at == utc(2025, 10, 28, 22)
    assert follow_up.basis.skipped == (SkippedDay(date(2025, 11, 3), "Extra closure"),
                                       CUP_DAY_2025)
    assert "skipping Extra closure 2025-11-03 and Melbourne Cup Day 2025-11-04" in (
        follow_up.basis.explanation)
    assert follow_up.basis.calendar == "AU-VIC public holidays + 1 extra closure(s) - 0 removed"


def test_r1_follow_up_skips_good_friday_and_easter_monday_2026() -> None:
    # D = Tue 14 Apr 2026. Back: Mon 13 (1), Fri 10 (2), Thu 9 (3), Wed 8 (4), Tue 7 (5),
    # Mon 6 Easter Monday and Fri 3 Good Friday skipped, Thu 2 (6), Wed 1 (7),
    # Tue 31 Mar (8), Mon 30 (9), Fri 27 Mar (10). DST still on (ends Sun 5 Apr):
    # 09:00 AEDT = 22:00 UTC on 26 Mar.
    follow_up = follow_up_deadline(date(2026, 4, 14), VIC)
    assert follow_up.at == utc(2026, 3, 26, 22)
    assert follow_up.basis.skipped == (SkippedDay(date(2026, 4, 3), "Good Friday"),
                                       SkippedDay(date(2026, 4, 6), "Easter Monday"))
    assert "skipping Good Friday 2026-04-03 and Easter Monday 2026-04-06" in (
        follow_up.basis.explanation)


def test_r1_follow_up_skips_christmas_and_new_year_observed_days() -> None:
    # D = Fri 7 Jan 2022. Back: Thu 6 (1), Wed 5 (2), Tue 4 (3), Mon 3 New Year observed,
    # Fri 31 Dec (4), Thu 30 (5), Wed 29 (6), Tue 28 Boxing Day observed, Mon 27
    # Christmas observed, Fri 24 (7), Thu 23 (8), Wed 22 (9), Tue 21 Dec (10).
    # The real 25/26 Dec and 1 Jan are weekend days and are not listed.
    follow_up = follow_up_deadline(date(2022, 1, 7), VIC)
    assert follow_up.basis.local_date == date(2021, 12, 21)
    assert follow_up.at == utc(2021, 12, 20, 22)
    assert follow_up.basis.skipped == (
        SkippedDay(date(2021, 12, 27), "Christmas Day (observed)"),
        SkippedDay(date(2021, 12, 28), "Boxing Day (observed)"),
        SkippedDay(date(2022, 1, 3), "New Year's Day (observed)"),
    )
    assert ("skipping Christmas Day (observed) 2021-12-27, Boxing Day (observed) 2021-12-28"
            " and New Year's Day (observed) 2022-01-03") in follow_up.basis.explanation


def test_r1_afl_grand_final_friday_counts_in_victoria_only_in_winter_time() -> None:
    # D = Fri 4 Oct 2024 (DST starts Sun 6 Oct). VIC back: Thu 3 (1), Wed 2 (2), Tue 1
    # (3), Mon 30 Sep (4), Fri 27 grand final eve skipped, Thu 26 (5) ... Fri 20 (9),
    # Thu 19 Sep (10). NSW counts Fri 27 (5) and ends on Fri 20 Sep. Both in AEST:
    # 09:00 = 23:00 UTC the day before.
    vic = follow_up_deadline(date(2024, 10, 4), VIC)
    nsw = follow_up_deadline(date(2024, 10, 4), NSW)
    assert vic.at == utc(2024, 9, 18, 23)
    assert vic.basis.skipped == (SkippedDay(date(2024, 9, 27),
                                            "Friday before the AFL Grand Final"),)
    assert nsw.at == utc(2024, 9, 19, 23)
    assert nsw.basis.skipped == ()


def test_r1_follow_up_counts_from_a_due_date_on_a_public_holiday() -> None:
    # D = Cup Day itself, Tue 4 Nov 2025; D is not moved and never counts. Back: Mon 3
    # (1), Fri 31 Oct (2), Thu 30 (3), Wed 29 (4), Tue 28 (5), Mon 27 (6), Fri 24 (7),
    # Thu 23 (8), Wed 22 (9), Tue 21 Oct (10).
    follow_up = follow_up_deadline(date(2025, 11, 4), VIC)
    assert follow_up.basis.local_date == date(2025, 10, 21)
    assert follow_up.basis.counted_from == date(2025, 11, 4)
    assert follow_up.basis.skipped == ()  # D itself is not "passed over"
    assert follow_up.basis.explanation.startswith(
        "10 business days before the due date 2025-11-04 (Melbourne Cup Day):")


def test_r1_follow_up_counts_from_a_due_date_on_a_weekend() -> None:
    # D = Sat 29 Nov 2025. Back: Fri 28 (1), Thu 27 (2), Wed 26 (3), Tue 25 (4), Mon 24
    # (5), Fri 21 (6), Thu 20 (7), Wed 19 (8), Tue 18 (9), Mon 17 Nov (10).
    follow_up = follow_up_deadline(date(2025, 11, 29), VIC)
    assert follow_up.basis.local_date == date(2025, 11, 17)
    assert follow_up.at == utc(2025, 11, 16, 22)
    assert "the due date 2025-11-29 (a Saturday)" in follow_up.basis.explanation


def test_r1_follow_up_before_dst_starts_for_a_due_date_after_it() -> None:
    # D = Fri 16 Oct 2026 (AEDT since Sun 4 Oct). Back: Thu 15 (1), Wed 14 (2), Tue 13
    # (3), Mon 12 (4), Fri 9 (5), Thu 8 (6), Wed 7 (7), Tue 6 (8), Mon 5 (9), Fri 2 Oct
    # (10) -- still AEST, so 09:00 = 23:00 UTC on 1 Oct.
    follow_up = follow_up_deadline(date(2026, 10, 16), VIC)
    assert follow_up.at == utc(2026, 10, 1, 23)


# ------------------------------------------------------------------------- R2
def test_r2_overdue_is_local_midnight_ending_the_due_date() -> None:
    # D = Fri 14 Nov 2025: ends 00:00 AEDT Sat 15 Nov = 13:00 UTC on 14 Nov.
    overdue = overdue_deadline(date(2025, 11, 14), VIC)
    assert overdue.kind == "overdue"
    assert overdue.at == utc(2025, 11, 14, 13)
    assert overdue.basis.local_date == date(2025, 11, 15)
    assert overdue.basis.local_time == time(0, 0)
    assert (overdue.basis.amount, overdue.basis.unit) == (0, "calendar_days")
    assert overdue.basis.skipped == ()


def test_r2_overdue_across_the_end_of_daylight_saving() -> None:
    # DST ends Sun 5 Apr 2026 at 03:00 AEDT. D = Sat 4 Apr ends 00:00 Sun 5 Apr, still
    # AEDT (+11) = 13:00 UTC 4 Apr. D = Sun 5 Apr ends 00:00 Mon 6 Apr AEST (+10) =
    # 14:00 UTC 5 Apr: that Sunday is 25 hours long.
    saturday = overdue_deadline(date(2026, 4, 4), VIC)
    sunday = overdue_deadline(date(2026, 4, 5), VIC)
    assert saturday.at == utc(2026, 4, 4, 13)
    assert sunday.at == utc(2026, 4, 5, 14)
    assert sunday.at - saturday.at == timedelta(hours=25)


def test_r2_overdue_across_the_start_of_daylight_saving() -> None:
    # DST starts Sun 4 Oct 2026 at 02:00 AEST. D = Sat 3 Oct ends 00:00 Sun 4 Oct, still
    # AEST (+10) = 14:00 UTC 3 Oct. D = Sun 4 Oct ends 00:00 Mon 5 Oct AEDT (+11) =
    # 13:00 UTC 4 Oct: that Sunday is 23 hours long.
    saturday = overdue_deadline(date(2026, 10, 3), VIC)
    sunday = overdue_deadline(date(2026, 10, 4), VIC)
    assert saturday.at == utc(2026, 10, 3, 14)
    assert sunday.at == utc(2026, 10, 4, 13)
    assert sunday.at - saturday.at == timedelta(hours=23)


def test_r2_overdue_is_not_moved_off_a_holiday() -> None:
    # D = Good Friday 3 Apr 2026: the report is still due that day; 00:00 Sat 4 Apr
    # AEDT = 13:00 UTC 3 Apr.
    overdue = overdue_deadline(date(2026, 4, 3), VIC)
    assert overdue.at == utc(2026, 4, 3, 13)
    assert "(Good Friday)" in overdue.basis.explanation


# ------------------------------------------------------------------------- R3
def test_r3_escalates_four_weeks_after_a_business_day_due_date() -> None:
    # D = Fri 14 Nov 2025; D + 28 = Fri 12 Dec, a business day: 22:00 UTC on 11 Dec.
    escalation = escalation_deadline(date(2025, 11, 14), VIC)
    assert escalation.kind == "escalation"
    assert escalation.at == utc(2025, 12, 11, 22)
    assert escalation.basis.skipped == ()
    assert escalation.basis.explanation == (
        "28 calendar days after the due date 2025-11-14: 2025-12-12 at 09:00 "
        "Australia/Melbourne")


def test_r3_escalation_moves_past_boxing_day_and_the_weekend() -> None:
    # D = Fri 28 Nov 2025; D + 28 = Fri 26 Dec (Boxing Day), then Sat, Sun: Mon 29 Dec.
    escalation = escalation_deadline(date(2025, 11, 28), VIC)
    assert escalation.basis.local_date == date(2025, 12, 29)
    assert escalation.at == utc(2025, 12, 28, 22)
    assert escalation.basis.skipped == (SkippedDay(date(2025, 12, 26), "Boxing Day"),)
    assert "2025-12-26 (Boxing Day)" in escalation.basis.explanation


def test_r3_escalation_from_a_weekend_due_date_moves_to_monday() -> None:
    # D = Sat 29 Nov 2025; D + 28 = Sat 27 Dec -> Mon 29 Dec. Only weekend days are passed
    # over, so nothing is listed as skipped.
    escalation = escalation_deadline(date(2025, 11, 29), VIC)
    assert escalation.basis.local_date == date(2025, 12, 29)
    assert escalation.basis.skipped == ()
    assert "2025-12-27 (a Saturday), so the first business day" in escalation.basis.explanation


def test_r3_escalation_moves_past_christmas_2021_observed_days() -> None:
    # D = Sat 27 Nov 2021; D + 28 = Sat 25 Dec; Sun 26; Mon 27 and Tue 28 observed:
    # Wed 29 Dec 09:00 AEDT = 22:00 UTC on 28 Dec.
    escalation = escalation_deadline(date(2021, 11, 27), VIC)
    assert escalation.at == utc(2021, 12, 28, 22)
    assert escalation.basis.skipped == (
        SkippedDay(date(2021, 12, 27), "Christmas Day (observed)"),
        SkippedDay(date(2021, 12, 28), "Boxing Day (observed)"),
    )
    assert ("is 2021-12-25 (Christmas Day), so the first business day on or after it "
            "(skipping Christmas Day (observed) 2021-12-27 and Boxing Day (observed) "
            "2021-12-28): 2021-12-29 at 09:00") in escalation.basis.explanation


def test_r3_escalation_moves_past_boxing_day_observed_2026() -> None:
    # D = Mon 30 Nov 2026; D + 28 = Mon 28 Dec, Boxing Day observed (26 Dec is a
    # Saturday): Tue 29 Dec 09:00 AEDT = 22:00 UTC on 28 Dec.
    escalation = escalation_deadline(date(2026, 11, 30), VIC)
    assert escalation.at == utc(2026, 12, 28, 22)
    assert escalation.basis.skipped == (SkippedDay(date(2026, 12, 28),
                                                   "Boxing Day (observed)"),)


def test_r3_escalation_in_winter_is_23_utc() -> None:
    # D = Mon 6 Apr 2026 (Easter Monday); D + 28 = Mon 4 May, AEST: 23:00 UTC on 3 May.
    escalation = escalation_deadline(date(2026, 4, 6), VIC)
    assert escalation.at == utc(2026, 5, 3, 23)


# ------------------------------------------------------- other time zones
def test_r1_western_australia_skips_wa_day_at_perth_time() -> None:
    # D = Fri 13 Jun 2025. WA back: Thu 12 (1), Wed 11 (2), Tue 10 (3), Mon 9 (4; WA has
    # no June King's Birthday), Fri 6 (5), Thu 5 (6), Wed 4 (7), Tue 3 (8), Mon 2 WA Day
    # skipped, Fri 30 May (9), Thu 29 May (10). Perth is UTC+8 all year: 01:00 UTC.
    # Victoria lands on the same day but skips its King's Birthday (Mon 9 Jun) instead.
    wa = follow_up_deadline(date(2025, 6, 13), WA)
    vic = follow_up_deadline(date(2025, 6, 13), VIC)
    assert wa.at == utc(2025, 5, 29, 1)
    assert wa.basis.skipped == (SkippedDay(date(2025, 6, 2), "Western Australia Day"),)
    assert wa.basis.explanation.endswith("2025-05-29 at 09:00 Australia/Perth")
    assert vic.at == utc(2025, 5, 28, 23)
    assert vic.basis.skipped == (SkippedDay(date(2025, 6, 9), "King's Birthday"),)


def test_r2_perth_has_no_daylight_saving() -> None:
    # 00:00 AWST (+8) on 16 Jan and on 16 Jul are both 16:00 UTC the day before.
    assert overdue_deadline(date(2026, 1, 15), WA).at == utc(2026, 1, 15, 16)
    assert overdue_deadline(date(2026, 7, 15), WA).at == utc(2026, 7, 15, 16)


def test_r1_queensland_show_day_and_brisbane_time() -> None:
    # D = Fri 22 Aug 2025. QLD back: Thu 21 (1), Wed 20 (2), Tue 19 (3), Mon 18 (4),
    # Fri 15 (5), Thu 14 (6), Wed 13 show day skipped, Tue 12 (7), Mon 11 (8), Fri 8 (9),
    # Thu 7 Aug (10). Brisbane is UTC+10 all year: 23:00 UTC on 6 Aug.
    follow_up = follow_up_deadline(date(2025, 8, 22), QLD)
    assert follow_up.at == utc(2025, 8, 6, 23)
    assert follow_up.basis.skipped == (SkippedDay(date(2025, 8, 13),
                                                  "The Royal Queensland Show"),)


def test_r3_brisbane_escalation_in_january_stays_at_utc_plus_10() -> None:
    # D = Wed 10 Dec 2025; D + 28 = Wed 7 Jan 2026: 09:00 AEST = 23:00 UTC on 6 Jan
    # (Melbourne, on daylight time, would be 22:00).
    assert escalation_deadline(date(2025, 12, 10), QLD).at == utc(2026, 1, 6, 23)
    assert escalation_deadline(date(2025, 12, 10), VIC).at == utc(2026, 1, 6, 22)


# -------------------------------------------------------------- whole period
def test_r1_r2_r3_period_deadlines_carry_their_basis() -> None:
    period = period_deadlines(date(2025, 11, 14), VIC)
    assert period.due_date == date(2025, 11, 14)
    assert period.follow_up.at < period.overdue.at < period.escalation.at
    bases = [period.follow_up.basis, period.overdue.basis, period.escalation.basis]
    assert [(b.rule, b.amount, b.unit) for b in bases] == [
        ("R1", 10, "business_days"), ("R2", 0, "calendar_days"), ("R3", 28, "calendar_days")]
    assert {b.counted_from for b in bases} == {date(2025, 11, 14)}
    assert {b.time_zone for b in bases} == {"Australia/Melbourne"}
    assert [b.local_time for b in bases] == [time(9), time(0), time(9)]
    assert all(d.at.tzinfo is UTC for d in (period.follow_up, period.overdue,
                                            period.escalation))


def test_r1_r2_r3_period_deadlines_round_trip_through_temporal_pydantic_converter() -> None:
    period = period_deadlines(date(2022, 1, 7), VIC)
    converter = pydantic_data_converter.payload_converter
    payloads = converter.to_payloads([period])
    assert converter.from_payloads(payloads, [PeriodDeadlines]) == [period]


def test_r1_r3_hold_for_every_due_date_over_three_years() -> None:
    """R1: the follow-up day is a business day with exactly 10 business days from it up
    to D (D excluded). R3: the escalation day is the first business day on or after
    D + 28. R2: the overdue instant is local midnight after D."""
    due = date(2025, 1, 1)
    while due < date(2028, 1, 1):
        period = period_deadlines(due, VIC)
        follow_day = period.follow_up.basis.local_date
        span = [date.fromordinal(n) for n in range(follow_day.toordinal(), due.toordinal())]
        assert VIC.is_business_day(follow_day)
        assert sum(VIC.is_business_day(d) for d in span) == 10
        letter_day = period.escalation.basis.local_date
        four_weeks_on = due + timedelta(days=28)
        assert VIC.is_business_day(letter_day) and letter_day >= four_weeks_on
        assert not any(VIC.is_business_day(four_weeks_on + timedelta(days=n))
                       for n in range((letter_day - four_weeks_on).days))
        assert period.overdue.at == local_instant(due + timedelta(days=1), time(0),
                                                  "Australia/Melbourne")
        due += timedelta(days=1)
