"""Input limits, in one place: the API's schemas, its list parameters and the workflow's
own validation (`workflows/policy.py`) all read them, and the README lists them.

Why limits at all (issue 9): a case's terms, its schedule activity's answer and the
state carried across continue-as-new are Temporal payloads, capped at 2 MB, and a run's
history grows with them. A schedule of 1,400 daily due dates made every workflow task
fail for ever; 70,000 extra closure days made 1.84 MB of history. Each limit below is
generous for real contracts yet keeps the largest case far below those caps (measured
by `tests/unit/test_input_limits.py`). Dates outside `EARLIEST_DATE`..`LATEST_DATE`
are typing errors or "no expiry" placeholders (9999-12-31), never real contract dates,
and date arithmetic near year 1 or 9999 overflows.

Imported inside the workflow sandbox: standard library only. The time-zone names are
read from the tz database once, at import, outside any workflow.
"""

from __future__ import annotations

import zoneinfo
from datetime import date

EARLIEST_DATE = date(2000, 1, 1)
"""No contract, report, event, signature or closure is dated before this."""
LATEST_DATE = date(2099, 12, 31)
"""... or after this (a protection order "without expiry" gives its real review date)."""

MAX_CONTRACT_YEARS = 10
"""From the contract start to its end (a review's new end included): cases live for
years through renewals (issue 13 measures ten), so ten years, not the length of one order."""
MAX_PERIODS_PER_CONTRACT = 120
"""Reporting due dates per contract: monthly for the longest contract."""
MAX_CALENDAR_OVERRIDES = 100
"""Days in `extra_closures`, and in `removed_holidays`, per contract."""
MAX_SIGNATORIES = 20
"""Signatures in one endorsement (C4 needs four roles)."""
MAX_CARRIED_OVER = 500
"""Open items carried over in one closure request (E2)."""
MAX_CURSOR_CHARS = 512
"""A list cursor this service returned is far shorter; anything longer is refused."""

ITEM_ID_MAX_CHARS = 256
"""Ids the service derives from others (a task or open-item id joins a case id, an audit
id, a period ...): longer than a client id, the same characters."""

NOT_ZONES: frozenset[str] = frozenset({"Factory", "localtime", "posixrules"})
"""Files in the tz database that are not IANA time zones of a place."""

TIME_ZONES: frozenset[str] = frozenset(zoneinfo.available_timezones()) - NOT_ZONES
"""Real IANA zone names ("Australia/Melbourne", "UTC", "Etc/GMT-10"): a directory
("America") or any other name is refused, since `ZoneInfo` would fail on it later."""


def in_date_window(day: date) -> bool:
    """True when `day` lies in EARLIEST_DATE..LATEST_DATE."""
    return EARLIEST_DATE <= day <= LATEST_DATE


def is_time_zone(name: str) -> bool:
    """True for a real IANA time zone name known to this installation."""
    return name in TIME_ZONES
