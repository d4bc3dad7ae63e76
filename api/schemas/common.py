"""Shapes shared by request and response models: UTC instants, ids, free text, pages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from models import limits
from models.ids import ID_MAX_LENGTH, ID_PATTERN, PERSON_PATTERN


def to_utc(value: datetime) -> datetime:
    """Instants leave the API in UTC (DESIGN decision 2). SQLite hands back naive values;
    everything we write is UTC, so a naive value is read as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(to_utc)]
"""An instant, always serialised as UTC ISO 8601 (`2026-03-31T13:00:00Z`)."""

Id = Annotated[str, StringConstraints(min_length=1, max_length=ID_MAX_LENGTH,
                                      pattern=ID_PATTERN)]
"""A client-chosen id: letters, digits, '.', '_', ':' and '-'. Ids travel into workflow
history, so they must never be names or free text (DESIGN decision 6). The same rule
the workflow applies to a message from any door (models/ids.py)."""

ItemId = Annotated[str, StringConstraints(min_length=1, max_length=limits.ITEM_ID_MAX_CHARS,
                                          pattern=ID_PATTERN)]
"""An id the service made from others (a task, an open item): an Id's characters, longer."""


class StrictInput(BaseModel):
    """Base of every request body: strict types (issue 9), so `true` is no number and `0`
    no date (lax pydantic read `{"day": 0}` as 1970-01-01). Dates are `IsoDate` and codes
    that are enums are `Lax`: FastAPI validates the parsed JSON in Python mode, where
    strict mode would refuse even a well-formed ISO date string."""

    model_config = ConfigDict(strict=True)


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: Any) -> Any:
    """`YYYY-MM-DD` to a date; anything else is left to the strict date check, which
    refuses it (numbers, booleans, datetimes, week dates)."""
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a calendar date") from exc
    return value


def _in_window(day: date) -> date:
    """Issue 9: years 1 and 9999 parse, but no contract is dated then (models/limits.py)."""
    if not limits.in_date_window(day):
        raise ValueError(f"{day} is outside the dates this service accepts, "
                         f"{limits.EARLIEST_DATE} to {limits.LATEST_DATE}")
    return day


IsoDate = Annotated[date, BeforeValidator(_iso_day), AfterValidator(_in_window)]
"""A calendar day as an ISO string (`2027-03-01`), within the accepted window."""


def _time_zone(name: str) -> str:
    if not limits.is_time_zone(name):
        raise ValueError("not an IANA time zone name such as 'Australia/Melbourne'")
    return name


TimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(_time_zone)]
"""A real IANA zone: no directory ("America"), no "posixrules" or "Factory"."""


def _utc_instant(value: datetime) -> datetime:
    """Issue 9: an instant in UTC, or a validation error if it has none (year 9999 at
    -23:59 is past datetime's range once in UTC)."""
    try:
        return to_utc(value)
    except OverflowError as exc:
        raise ValueError("cannot be converted to UTC (out of range)") from exc


QueryInstant = Annotated[datetime, AfterValidator(_utc_instant)]
"""A list filter's instant: converted to UTC on the way in, so queries never overflow."""

PersonRef = Annotated[str, StringConstraints(max_length=ID_MAX_LENGTH,
                                             pattern=PERSON_PATTERN)]
"""Who did something, as a staff or system id (never a name); may be empty."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=20_000, pattern=r"\S")]
"""Free text written by a person. Stored in the database only, never sent to a workflow."""

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, oldest or soonest first. Follow `next_cursor` until it is null;
    the cursor is opaque and stays valid while rows are added (keyset pagination)."""

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page.")


class FieldError(BaseModel):
    """One of the errors behind a 422: where, why, and the rule when one applies."""

    field: str
    message: str
    rule: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is answered (`application/problem+json`).
    Beyond the standard members, the ones this service adds when they apply."""

    model_config = {"json_schema_extra": {"examples": [{
        "type": "about:blank", "title": "Policy violation", "status": 422,
        "detail": "C5 schedule.due_dates[1]: 2099-05-15 is more than three months after "
                  "2098-10-01: quarterly reporting is the minimum.",
        "instance": "/cases", "rule": "C5", "field": "schedule.due_dates[1]"}]}}

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = Field(default=None, description="The input field at fault.")
    rule: str | None = Field(default=None, description="The DOMAIN.md rule id, when one applies.")
    errors: list[FieldError] | None = Field(default=None, description="422: every error found.")
    open_items: list[str] | None = Field(default=None, description="E2: items still open.")
    component: str | None = Field(default=None, description="503: what is unreachable.")
    reason: str | None = Field(default=None, description="401: what is wrong with the token "
                               "(missing, expired, signature ...).")
    required_roles: list[str] | None = Field(default=None, description="403: the roles that "
                                             "may do this.")
    action: str | None = Field(default=None, description="403: the action refused, as the "
                               "permission table names it (the operation id in camelCase).")
    failed: list[str] | None = Field(default=None, description="`/readyz` 503: what is "
                                     "unreachable.")
    checks: dict[str, str] | None = Field(default=None, description="`/readyz` 503: each "
                                          "dependency's state.")
