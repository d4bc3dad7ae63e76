"""T1-T4 deadline arithmetic on the AU-WA calendar (workflows/working_days.py), pure.

Every expected day was counted by hand on a wall calendar for 2027-2028 and the holiday
facts it relies on are checked against the `holidays` package first (so a test names
the fact it depends on): Western Australia Day is the first Monday of June (7 June
2027), the King's Birthday in WA the last Monday of September (27 September 2027).
Perth keeps no daylight saving, so "the end of a local day" is always 16:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from activities.district import deadlines_for
from models.district import DeadlineSpec, DeadlinesRequest
from workflows import district_policy as policy
from workflows.business_calendar import BusinessCalendar, CalendarSpec
from workflows.working_days import deadline_for, local_day

PERTH = ZoneInfo("Australia/Perth")
WA = BusinessCalendar(CalendarSpec(jurisdiction="AU-WA", time_zone="Australia/Perth"))
WA_DAY = date(2027, 6, 7)  # Monday
KINGS_BIRTHDAY_WA = date(2027, 9, 27)  # Monday


def perth(day: date, at: time = time(10, 0)) -> datetime:
    return datetime.combine(day, at, PERTH)


def end_of(day: date) -> datetime:
    """A deadline "by the end of `day`" passes at 00:00 Perth the next day."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), PERTH)


def spec(days: int, rule: str = "T1", key: str = "resolve") -> DeadlineSpec:
    return DeadlineSpec(key, rule, working_days=days)


def test_the_wa_holiday_facts_these_tests_rely_on() -> None:
    wa = holidays.country_holidays("AU", subdiv="WA", years=[2027, 2028])
    assert wa[WA_DAY] == "Western Australia Day"
    assert "King's Birthday" in str(wa[KINGS_BIRTHDAY_WA])
    assert date(2027, 6, 14) not in wa  # June's King's Birthday is the other states'
    assert date(2027, 11, 2) not in wa  # Melbourne Cup Day is Victoria's, not WA's
    assert date(2027, 12, 27) in wa and date(2027, 12, 28) in wa  # Christmas, Boxing Day


# ---------------------------------------------------------------- T1 working days
def test_t1_resolve_two_working_days_skips_the_weekend() -> None:
    """Received Friday 12 March 2027: Monday 15 (1), Tuesday 16 (2)."""
    deadline = deadline_for(spec(2), perth(date(2027, 3, 12)), WA)
    assert deadline.due_at == end_of(date(2027, 3, 16))
    assert deadline.remind_at == perth(date(2027, 3, 16), time(9, 0))
    assert deadline.basis["last_day"] == "2027-03-16" and deadline.basis["skipped"] == []
    assert deadline.basis["unit"] == "working_days" and deadline.basis["rule"] == "T1"


def test_t1_resolve_skips_western_australia_day() -> None:
    """Received Friday 4 June 2027: Monday 7 is WA Day, so Tuesday 8 (1), Wednesday 9 (2);
    the basis names the day passed over."""
    deadline = deadline_for(spec(2), perth(date(2027, 6, 4)), WA)
    assert deadline.due_at == end_of(date(2027, 6, 9))
    assert deadline.basis["skipped"] == [{"day": "2027-06-07",
                                          "name": "Western Australia Day"}]
    assert "Western Australia Day 2027-06-07" in deadline.basis["explanation"]


def test_t1_the_day_received_never_counts_whatever_the_hour() -> None:
    """At 23:30 on Friday 12 March it is still Friday in Perth (15:30 UTC); at 00:30 on
    Saturday (16:30 UTC Friday) it is Saturday, so the count starts from the weekend."""
    late_friday = deadline_for(spec(2), perth(date(2027, 3, 12), time(23, 30)), WA)
    assert late_friday.due_at == end_of(date(2027, 3, 16))
    saturday = perth(date(2027, 3, 13), time(0, 30))
    assert saturday.astimezone(UTC).date() == date(2027, 3, 12)
    assert local_day(saturday, "Australia/Perth") == date(2027, 3, 13)
    assert deadline_for(spec(2), saturday, WA).due_at == end_of(date(2027, 3, 16))
    # Received on a Saturday or on the Monday after: the same first working day counts.
    monday = deadline_for(spec(2), perth(date(2027, 3, 15)), WA)
    assert monday.due_at == end_of(date(2027, 3, 17))


def test_t1_complete_five_working_days_over_kings_birthday_in_september() -> None:
    """Received Wednesday 22 September 2027: Thu 23 (1), Fri 24 (2), Monday 27 is the
    King's Birthday in WA, Tue 28 (3), Wed 29 (4), Thu 30 (5)."""
    deadline = deadline_for(spec(5, key="complete"), perth(date(2027, 9, 22)), WA)
    assert deadline.due_at == end_of(date(2027, 9, 30))
    assert [s["day"] for s in deadline.basis["skipped"]] == ["2027-09-27"]


def test_t1_child_in_care_transferred_in_under_four_weeks() -> None:
    """Received Friday 12 March 2027 at any hour: four weeks on is Friday 9 April, so the
    transfer is due before it begins (by the end of Thursday 8 April); the reminder goes
    on the last working day before 9 April."""
    [resolve, complete] = [deadline_for(s, perth(date(2027, 3, 12), time(17, 0)), WA)
                           for s in policy.transfer_deadlines(child_in_care=True)]
    assert resolve.rule == complete.rule == "T1"
    # Resolve: 5 working days, Mon 15 .. Fri 19.
    assert resolve.due_at == end_of(date(2027, 3, 19))
    assert complete.due_at == perth(date(2027, 4, 9), time(0, 0))
    assert complete.due_at - perth(date(2027, 3, 12), time(0, 0)) == timedelta(weeks=4)
    assert complete.remind_at == perth(date(2027, 4, 8), time(9, 0))
    assert complete.basis["unit"] == "calendar_days" and complete.basis["amount"] == 28


def test_t1_child_in_care_reminder_moves_before_a_holiday() -> None:
    """Received Monday 10 May 2027: four weeks on is Monday 7 June, WA Day itself; the
    deadline is the start of that day and the reminder goes on Friday 4 June."""
    deadline = deadline_for(policy.transfer_deadlines(True)[1], perth(date(2027, 5, 10)), WA)
    assert deadline.due_at == perth(WA_DAY, time(0, 0))
    assert deadline.remind_at == perth(date(2027, 6, 4), time(9, 0))


def test_t1_deadlines_per_child_in_care() -> None:
    plain = policy.transfer_deadlines(child_in_care=False)
    assert [(s.key, s.working_days, s.calendar_days) for s in plain] == [
        ("resolve", 2, 0), ("complete", 5, 0)]
    in_care = policy.transfer_deadlines(child_in_care=True)
    assert [(s.key, s.working_days, s.calendar_days) for s in in_care] == [
        ("resolve", 5, 0), ("complete", 0, 28)]
    assert policy.completion_after_dispute(False) == plain[1]
    assert policy.completion_after_dispute(True) == in_care[1]


# ---------------------------------------------------------------- T2
def test_t2_accept_within_one_working_day_over_kings_birthday() -> None:
    """Received Friday 24 September 2027: Monday 27 is the King's Birthday in WA, so the
    service request is due by the end of Tuesday 28."""
    [accept] = policy.service_deadlines()
    assert (accept.rule, accept.working_days) == ("T2", 1)
    deadline = deadline_for(accept, perth(date(2027, 9, 24)), WA)
    assert deadline.due_at == end_of(date(2027, 9, 28))
    assert deadline.basis["skipped"][0]["day"] == "2027-09-27"


def test_t2_over_christmas_and_boxing_day_observed() -> None:
    """Christmas 2027 is a Saturday and Boxing Day a Sunday: WA observes them on Monday
    27 and Tuesday 28 December, so a request received Friday 24 is due by Wednesday 29."""
    deadline = deadline_for(spec(1, "T2", "accept"), perth(date(2027, 12, 24)), WA)
    assert deadline.due_at == end_of(date(2027, 12, 29))
    assert [s["day"] for s in deadline.basis["skipped"]] == ["2027-12-27", "2027-12-28"]


# ---------------------------------------------------------------- T3
def test_t3_disagreement_two_and_whole_process_ten_working_days_over_wa_day() -> None:
    """Request received Monday 31 May 2027: the disagreement by Wednesday 2 June; ten
    working days, WA Day skipped: Jun 1, 2, 3, 4, 8, 9, 10, 11, 14, 15."""
    disagreement, whole = (deadline_for(s, perth(date(2027, 5, 31)), WA)
                           for s in policy.dispute_deadlines())
    assert (disagreement.key, whole.key) == ("disagreement", "whole_process")
    assert disagreement.due_at == end_of(date(2027, 6, 2))
    assert whole.due_at == end_of(date(2027, 6, 15))
    assert [s["name"] for s in whole.basis["skipped"]] == ["Western Australia Day"]


def test_t3_ladder_levels_have_one_two_and_five_working_days() -> None:
    assert [(s.key, s.working_days) for s in
            map(policy.stage_deadline, ("assistant_directors", "district_directors",
                                        "director"))] == [
        ("assistant_directors", 1), ("district_directors", 2), ("director", 5)]
    assert policy.next_stage("assistant_directors") == "district_directors"
    assert policy.next_stage("district_directors") == "director"
    assert policy.next_stage("director") is None
    # The ladder fits in the whole process: 2 + 1 + 2 + 5 = 10 working days.
    assert (policy.T3_DISAGREEMENT_WORKING_DAYS + sum(days for _, days in policy.LADDER)
            == policy.T3_WHOLE_PROCESS_WORKING_DAYS)
    with pytest.raises(ValueError):
        policy.stage_deadline("minister")


def test_t3_district_directors_received_the_friday_before_wa_day() -> None:
    """Referred up on Friday 4 June 2027: the district directors have Tue 8 and Wed 9."""
    deadline = deadline_for(policy.stage_deadline("district_directors"),
                            perth(date(2027, 6, 4), time(16, 0)), WA)
    assert deadline.due_at == end_of(date(2027, 6, 9))
    assert deadline.remind_at == perth(date(2027, 6, 9), time(9, 0))


# ---------------------------------------------------------------- T4
def test_t4_review_three_months_on_reminded_five_working_days_before_skipping_wa_day() -> None:
    """Started Wednesday 10 March 2027: reviewed by the end of Thursday 10 June; five
    working days before: Wed 9, Tue 8, (WA Day), Fri 4, Thu 3, Wed 2 June."""
    review = deadline_for(policy.coworking_review(), perth(date(2027, 3, 10)), WA)
    assert review.rule == "T4" and review.due_at == end_of(date(2027, 6, 10))
    assert review.remind_at == perth(date(2027, 6, 2), time(9, 0))
    assert [s["name"] for s in review.basis["skipped"]] == ["Western Australia Day"]
    assert review.basis["unit"] == "months" and review.basis["amount"] == 3


def test_t4_review_from_30_november_clamps_to_29_february_of_a_leap_year() -> None:
    """Started Tuesday 30 November 2027: three months on is 29 February 2028 (a Tuesday);
    the reminder five working days before is Tuesday 22 February."""
    review = deadline_for(policy.coworking_review(), perth(date(2027, 11, 30)), WA)
    assert review.basis["last_day"] == "2028-02-29"
    assert review.due_at == end_of(date(2028, 2, 29))
    assert review.remind_at == perth(date(2028, 2, 22), time(9, 0))


def test_t4_review_due_on_a_weekend_stays_on_its_day() -> None:
    """Three months from Saturday 12 June 2027 is Sunday 12 September: a review is due
    by the end of that day, not moved to a working day; the reminder counts back from it
    (Fri 10, Thu 9, Wed 8, Tue 7, Mon 6)."""
    review = deadline_for(policy.coworking_review(), perth(date(2027, 6, 12)), WA)
    assert review.due_at == end_of(date(2027, 9, 12))
    assert review.remind_at == perth(date(2027, 9, 6), time(9, 0))


# ---------------------------------------------------------------- Perth: no DST
@pytest.mark.parametrize("day", [date(2027, 1, 14), date(2027, 4, 1), date(2027, 4, 5),
                                 date(2027, 7, 15), date(2027, 10, 1), date(2027, 10, 4)])
def test_t1_perth_keeps_no_daylight_saving(day: date) -> None:
    """Whatever the season (and on the days Melbourne and Sydney change their clocks),
    a WA deadline passes at 16:00 UTC and its reminder is at 01:00 UTC."""
    deadline = deadline_for(spec(2), perth(day), WA)
    assert deadline.due_at.astimezone(UTC).time() == time(16, 0)
    assert deadline.remind_at.astimezone(UTC).time() == time(1, 0)


# ---------------------------------------------------------------- the activity's pure part
def test_t1_a_declared_closure_day_is_skipped_like_a_holiday() -> None:
    """`district_deadlines` adds the jurisdiction's declared closures: with Monday 15
    March 2027 closed, a request received Friday 12 is resolved by Wednesday 17."""
    request = DeadlinesRequest(counted_from=perth(date(2027, 3, 12)),
                               specs=policy.transfer_deadlines(False))
    [resolve, complete] = deadlines_for(request, [date(2027, 3, 15)])
    assert resolve.due_at == end_of(date(2027, 3, 17))
    assert resolve.basis["skipped"] == [{"day": "2027-03-15", "name": "Extra closure"}]
    # Complete: 5 working days, Tue 16 .. Mon 22 with the closure.
    assert complete.due_at == end_of(date(2027, 3, 22))
    [without] = deadlines_for(DeadlinesRequest(counted_from=perth(date(2027, 3, 12)),
                                               specs=[spec(2)]), [])
    assert without.due_at == end_of(date(2027, 3, 16))


def test_t1_a_spec_without_an_amount_is_refused() -> None:
    with pytest.raises(ValueError, match="no amount"):
        deadline_for(DeadlineSpec("resolve", "T1"), perth(date(2027, 3, 12)), WA)
