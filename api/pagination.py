"""Keyset pagination with opaque cursors, the same on SQLite and PostgreSQL.

Lists are sorted by (sort column, unique key). A page continues strictly after the
last row seen, so rows added meanwhile never shift or duplicate a page, and a deep
page costs what the first does (an index range scan, no OFFSET).

A nullable sort column (a case with no next deadline, a task with no due date) sorts
last. Rather than rely on NULLS LAST, which the two databases order and index
differently, a page is read in two index-friendly steps: the non-null rows in order,
then, if the page is not full, the null rows by key.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from api.errors import Unprocessable
from api.schemas.common import to_utc
from models.limits import MAX_CURSOR_CHARS

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class Cursor:
    sort: Any  # datetime, or None for the null-sorted tail
    key: str


def encode_cursor(sort: Any, key: str) -> str:
    if isinstance(sort, datetime):
        sort = to_utc(sort).isoformat()
    raw = json.dumps([sort, key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str | None) -> Cursor | None:
    """The cursor a previous page returned; 422 naming `cursor` if it is not one. Total
    (issue 9): whatever the text -- too long, not base64, not UTF-8, JSON nested 5,000
    deep, the wrong shape, a date out of range, a NUL that PostgreSQL refuses -- the
    answer is that 422, never a 500."""
    if not token:
        return None
    try:
        return _parse_cursor(token)
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error) as exc:
        raise Unprocessable("Not a cursor returned by this list.", field="cursor") from exc


def _parse_cursor(token: str) -> Cursor:
    if len(token) > MAX_CURSOR_CHARS:
        raise ValueError("too long")
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    parsed = json.loads(raw)
    if not (isinstance(parsed, list) and len(parsed) == 2):
        raise ValueError("not a [sort, key] pair")
    sort, key = parsed
    if not isinstance(key, str) or not key or "\x00" in key:
        raise ValueError("key")
    if sort is None:
        return Cursor(None, key)
    if not isinstance(sort, str):
        raise ValueError("sort")
    return Cursor(to_utc(datetime.fromisoformat(sort)), key)


def _bind(value: Any) -> Any:
    """Datetimes are stored as UTC; SQLite compares them as text, so bind them as UTC."""
    return to_utc(value) if isinstance(value, datetime) else value


async def keyset_page(
    session: AsyncSession,
    statement: Select[Any],
    sort: InstrumentedAttribute[Any],
    key: InstrumentedAttribute[Any],
    cursor: Cursor | None,
    limit: int,
    *,
    nullable: bool = False,
) -> tuple[Sequence[Any], str | None]:
    """One page of `statement` (a select of one ORM entity) and the next page's cursor."""
    rows: list[Any] = []
    if cursor is None or cursor.sort is not None:
        ordered = statement.where(sort.is_not(None)) if nullable else statement
        if cursor is not None:
            after = _bind(cursor.sort)
            # A row-value comparison: both databases turn it into an index range scan.
            ordered = ordered.where(tuple_(sort, key) > tuple_(after, cursor.key))
        result = await session.scalars(ordered.order_by(sort, key).limit(limit + 1))
        rows.extend(result.all())
    if nullable and len(rows) <= limit:
        tail = statement.where(sort.is_(None))
        if cursor is not None and cursor.sort is None:
            tail = tail.where(key > cursor.key)
        result = await session.scalars(tail.order_by(key).limit(limit + 1 - len(rows)))
        rows.extend(result.all())
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(getattr(last, sort.key), getattr(last, key.key))
