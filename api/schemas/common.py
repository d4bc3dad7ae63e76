"""Shapes shared by request and response models: UTC instants, ids, free text, pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

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


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is answered."""

    model_config = {"json_schema_extra": {"examples": [{
        "type": "about:blank", "title": "Policy violation", "status": 422,
        "detail": "C5 schedule.due_dates[1]: 2027-07-15 is more than three months after "
                  "2027-03-01: quarterly reporting is the minimum.",
        "instance": "/cases", "rule": "C5", "field": "schedule.due_dates[1]"}]}}

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = Field(default=None, description="The input field at fault.")
    rule: str | None = Field(default=None, description="The DOMAIN.md rule id, when one applies.")
    open_items: list[str] | None = Field(default=None, description="E2: items still open.")
    component: str | None = Field(default=None, description="503: what is unreachable.")
