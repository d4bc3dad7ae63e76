"""The business-day calendar (workflows/business_calendar.py) on real Australian dates.

"Business day" is defined in DOMAIN "Words"; R1 counts business days and R3 moves to
one, so the rule ids appear where a test checks what those rules rely on. Every expected
date was worked out by hand from a wall calendar; the comments show the working.
"""

from __future__ import annotations

from datetime import date

import pytest

from workflows.business_calendar import (
    SUPPORTED_SUBDIVISIONS,
    BusinessCalendar,
    CalendarSpec,
    SkippedDay,
    UnknownJurisdiction,
)

VIC = BusinessCalendar(CalendarSpec())
NSW = BusinessCalendar(CalendarSpec(jurisdiction="AU-NSW", time_zone="Australia/Sydney"))
WA = BusinessCalendar(CalendarSpec(jurisdiction="AU-WA", time_zone="Australia/Perth"))
QLD = BusinessCalendar(CalendarSpec(jurisdiction="AU-QLD", time_zone="Australia/Brisbane"))
NATIONAL = BusinessCalendar(CalendarSpec(jurisdiction="AU"))


# ---------------------------------------------------------------- jurisdiction
@pytest.mark.parametrize("jurisdiction", ["AU-XYZ", "NZ", "VIC", "AU-", "au-vic", "AU-VIC "])
def test_unknown_jurisdiction_is_refused_by_name(jurisdiction: str) -> None:
    with pytest.raises(UnknownJurisdiction) as caught:
        BusinessCalendar(CalendarSpec(jurisdiction=jurisdiction))
    assert repr(jurisdiction) in str(caught.value)
    assert caught.value.jurisdiction == jurisdiction
    assert isinstance(caught.value, ValueError)  # callers treat it as bad input


@pytest.mark.parametrize("jurisdiction",
                         ["AU", *(f"AU-{state}" for state in SUPPORTED_SUBDIVISIONS)])
def test_national_and_every_state_and_territory_are_accepted(jurisdiction: str) -> None:
    calendar = BusinessCalendar(CalendarSpec(jurisdiction=jurisdiction))
    # Christmas Day 2025 is a Thursday and a public holiday everywhere in Australia.
    assert calendar.holiday_name(date(2025, 12, 25)) == "Christmas Day"
    assert not calendar.is_business_day(date(2025, 12, 25))


def test_describe_counts_extra_closures_and_removed_holidays() -> None:
    assert VIC.describe() == "AU-VIC public holidays + 0 extra closure(s) - 0 removed"
    spec = CalendarSpec(extra_closures=(date(2025, 11, 3),),
                        removed_holidays=(date(2025, 11, 4), date(2026, 11, 3)))
    assert BusinessCalendar(spec).describe() == (
        "AU-VIC public holidays + 1 extra closure(s) - 2 removed")


# ------------------------------------------------------------- Victorian days
def test_r1_melbourne_cup_day_is_a_holiday_in_victoria_not_in_nsw() -> None:
    cup_day = date(2025, 11, 4)  # first Tuesday in November 2025
    assert VIC.holiday_name(cup_day) == "Melbourne Cup Day"
    assert not VIC.is_business_day(cup_day)
    assert NSW.holiday_name(cup_day) is None
    assert NSW.is_business_day(cup_day)
    assert NATIONAL.is_business_day(cup_day)  # not a national holiday either


def test_r1_removed_melbourne_cup_day_is_a_business_day_for_a_regional_case() -> None:
    # Outside metropolitan Melbourne many councils swap Cup Day for a local holiday.
    regional = BusinessCalendar(CalendarSpec(removed_holidays=(date(2025, 11, 4),)))
    assert regional.holiday_name(date(2025, 11, 4)) is None
    assert regional.is_business_day(date(2025, 11, 4))
    # Only the listed day is removed: Cup Day 2026 (Tuesday 3 November) still applies.
    assert regional.holiday_name(date(2026, 11, 3)) == "Melbourne Cup Day"


@pytest.mark.parametrize(
    ("friday", "why"),
    [
        (date(2023, 9, 29), "grand final Saturday 30 September 2023"),
        (date(2024, 9, 27), "grand final Saturday 28 September 2024"),
        (date(2020, 10, 23), "2020 grand final moved to Saturday 24 October (Brisbane)"),
    ],
)
def test_r1_afl_grand_final_friday_is_a_holiday_in_victoria_only(friday: date, why: str) -> None:
    assert friday.weekday() == 4, why
    assert VIC.holiday_name(friday) == "Friday before the AFL Grand Final"
    assert not VIC.is_business_day(friday)
    assert NSW.is_business_day(friday)
    assert WA.is_business_day(friday)


def test_r1_mourning_day_and_grand_final_friday_2022_close_two_days_in_a_row() -> None:
    # Thursday 22 September 2022 was the one-off National Day of Mourning for Queen
    # Elizabeth II; Friday 23 was grand final eve. From Wednesday 21 the next business
    # day is Monday 26.
    assert VIC.holidays_between(date(2022, 9, 21), date(2022, 9, 26)) == (
        SkippedDay(date(2022, 9, 22), "National Day of Mourning for Queen Elizabeth II"),
        SkippedDay(date(2022, 9, 23), "Friday before the AFL Grand Final"),
    )
    assert VIC.shift_business_days(date(2022, 9, 21), 1) == date(2022, 9, 26)


# --------------------------------------------------------------------- Easter
def test_r1_easter_2026_good_friday_and_easter_monday_are_skipped() -> None:
    # Easter Sunday 2026 is 5 April: Good Friday 3 April, Easter Monday 6 April.
    assert VIC.holiday_name(date(2026, 4, 3)) == "Good Friday"
    assert VIC.holiday_name(date(2026, 4, 6)) == "Easter Monday"
    # Thursday 2 April -> next business day is Tuesday 7 April, and back again.
    assert VIC.shift_business_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    assert VIC.shift_business_days(date(2026, 4, 7), -1) == date(2026, 4, 2)
    assert NATIONAL.shift_business_days(date(2026, 4, 2), 1) == date(2026, 4, 7)


def test_weekend_holidays_are_not_listed_as_skipped_weekdays() -> None:
    # Easter Saturday and Sunday have names, but weekends never count anyway.
    assert VIC.holiday_name(date(2026, 4, 4)) == "Easter Saturday"
    assert VIC.holidays_between(date(2026, 4, 2), date(2026, 4, 7)) == (
        SkippedDay(date(2026, 4, 3), "Good Friday"),
        SkippedDay(date(2026, 4, 6), "Easter Monday"),
    )


def test_holidays_between_is_a_closed_range_in_either_order() -> None:
    expected = (SkippedDay(date(2026, 4, 3), "Good Friday"),
                SkippedDay(date(2026, 4, 6), "Easter Monday"))
    assert VIC.holidays_between(date(2026, 4, 3), date(2026, 4, 6)) == expected
    assert VIC.holidays_between(date(2026, 4, 6), date(2026, 4, 3)) == expected
    assert VIC.holidays_between(date(2026, 4, 7), date(2026, 4, 7)) == ()


# ------------------------------------------------------------------ Christmas
def test_r1_christmas_2021_on_a_weekend_is_observed_monday_and_tuesday() -> None:
    # 25 Dec 2021 Saturday, 26 Sunday: Christmas observed Monday 27, Boxing Day Tuesday
    # 28; the first business day on or after Christmas is Wednesday 29.
    assert VIC.holidays_between(date(2021, 12, 24), date(2021, 12, 31)) == (
        SkippedDay(date(2021, 12, 27), "Christmas Day (observed)"),
        SkippedDay(date(2021, 12, 28), "Boxing Day (observed)"),
    )
    assert VIC.first_business_day_on_or_after(date(2021, 12, 25)) == date(2021, 12, 29)


def test_r1_christmas_2022_on_a_sunday_is_observed_tuesday() -> None:
    # 25 Dec 2022 Sunday: Boxing Day is Monday 26 itself, Christmas observed Tuesday 27.
    assert VIC.holidays_between(date(2022, 12, 23), date(2022, 12, 30)) == (
        SkippedDay(date(2022, 12, 26), "Boxing Day"),
        SkippedDay(date(2022, 12, 27), "Christmas Day (observed)"),
    )
    assert VIC.shift_business_days(date(2022, 12, 23), 1) == date(2022, 12, 28)


def test_r1_boxing_day_2026_on_a_saturday_is_observed_monday_28() -> None:
    # 25 Dec 2026 Friday, 26 Saturday: Boxing Day observed Monday 28 in Victoria.
    assert date(2026, 12, 26).weekday() == 5
    assert VIC.holiday_name(date(2026, 12, 28)) == "Boxing Day (observed)"
    assert VIC.shift_business_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


def test_r1_counting_crosses_the_new_year_observed_day() -> None:
    # 1 Jan 2022 Saturday: New Year's Day observed Monday 3 January. From Friday
    # 31 Dec 2021 the next business day is Tuesday 4 January; two back from there:
    # Mon 3 (holiday), Sun 2, Sat 1, Fri 31 Dec (1), Thu 30 Dec (2).
    assert VIC.holiday_name(date(2022, 1, 3)) == "New Year's Day (observed)"
    assert VIC.shift_business_days(date(2021, 12, 31), 1) == date(2022, 1, 4)
    assert VIC.shift_business_days(date(2022, 1, 4), -2) == date(2021, 12, 30)


# ------------------------------------------------------------- other states
def test_r1_western_australia_has_its_own_days() -> None:
    # WA Day is the first Monday in June (2 June 2025); WA keeps the King's Birthday in
    # late September (Monday 29 Sep 2025) while Victoria keeps it on Monday 9 June.
    assert WA.holiday_name(date(2025, 6, 2)) == "Western Australia Day"
    assert WA.holiday_name(date(2025, 9, 29)) == "King's Birthday"
    assert WA.is_business_day(date(2025, 6, 9))
    assert VIC.is_business_day(date(2025, 6, 2))
    assert VIC.holiday_name(date(2025, 6, 9)) == "King's Birthday"


def test_r1_queensland_show_day_can_be_removed_outside_brisbane() -> None:
    # The Royal Queensland Show holiday (Wednesday 13 Aug 2025) is a Brisbane holiday;
    # a case elsewhere in Queensland removes it.
    show_day = date(2025, 8, 13)
    assert QLD.holiday_name(show_day) == "The Royal Queensland Show"
    regional = BusinessCalendar(CalendarSpec(jurisdiction="AU-QLD",
                                             time_zone="Australia/Brisbane",
                                             removed_holidays=(show_day,)))
    assert regional.is_business_day(show_day)


# ---------------------------------------------------------- extra closures
def test_extra_closure_is_not_a_business_day_and_is_named() -> None:
    closure = date(2025, 11, 3)  # Monday before Cup Day, declared closed for this case
    calendar = BusinessCalendar(CalendarSpec(extra_closures=(closure,)))
    assert calendar.holiday_name(closure) == "Extra closure"
    assert not calendar.is_business_day(closure)
    # Friday 31 Oct -> Mon 3 (closure), Tue 4 (Cup Day) -> Wednesday 5 November.
    assert calendar.shift_business_days(date(2025, 10, 31), 1) == date(2025, 11, 5)
    assert calendar.holidays_between(date(2025, 10, 31), date(2025, 11, 5)) == (
        SkippedDay(closure, "Extra closure"),
        SkippedDay(date(2025, 11, 4), "Melbourne Cup Day"),
    )


def test_extra_closure_on_a_removed_holiday_still_closes_the_day() -> None:
    cup_day = date(2025, 11, 4)
    calendar = BusinessCalendar(CalendarSpec(extra_closures=(cup_day,),
                                             removed_holidays=(cup_day,)))
    assert calendar.holiday_name(cup_day) == "Extra closure"
    assert not calendar.is_business_day(cup_day)


# ------------------------------------------------------------ counting rules
def test_r1_shift_never_counts_the_start_day() -> None:
    # From Saturday 29 Nov 2025, one business day on is Monday 1 Dec and one back is
    # Friday 28 Nov; from a business day the count also starts with the next day.
    assert VIC.shift_business_days(date(2025, 11, 29), 1) == date(2025, 12, 1)
    assert VIC.shift_business_days(date(2025, 11, 29), -1) == date(2025, 11, 28)
    assert VIC.shift_business_days(date(2025, 12, 1), 1) == date(2025, 12, 2)
    assert VIC.shift_business_days(date(2025, 12, 1), -1) == date(2025, 11, 28)


def test_shift_by_zero_returns_the_start_even_on_a_holiday() -> None:
    assert VIC.shift_business_days(date(2025, 11, 4), 0) == date(2025, 11, 4)


def test_r3_first_business_day_on_or_after_keeps_a_business_day() -> None:
    assert VIC.first_business_day_on_or_after(date(2025, 12, 12)) == date(2025, 12, 12)
    # Boxing Day 2025 is Friday 26; then the weekend: Monday 29 December.
    assert VIC.first_business_day_on_or_after(date(2025, 12, 26)) == date(2025, 12, 29)


def test_r1_ten_business_days_back_and_forth_over_three_years() -> None:
    """Shifting back 10 then forward 10 from any business day returns to it, and the
    result is always a business day with exactly 10 business days from it up to the
    start (start excluded)."""
    day = date(2025, 1, 1)
    while day < date(2028, 1, 1):
        back = VIC.shift_business_days(day, -10)
        assert VIC.is_business_day(back)
        span = [back.fromordinal(n) for n in range(back.toordinal(), day.toordinal())]
        assert sum(VIC.is_business_day(d) for d in span) == 10
        if VIC.is_business_day(day):
            assert VIC.shift_business_days(back, 10) == day
        day = day.fromordinal(day.toordinal() + 1)
