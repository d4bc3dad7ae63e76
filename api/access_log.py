"""The access log: every write through the API, recorded in one place (issue 6).

Who (subject, roles, agency), what (method, path, permission), which case, when, and
how it ended. Refusals are recorded too -- a run of 403s or of 404s on other agencies'
cases (C7) is exactly what someone reviewing access wants to find.

An ASGI middleware rather than a dependency or per-route code, because a dependency
never sees the answers given before it runs (401 for a bad token, 422 for a malformed
body) nor the status a handler finally sends. The row is written in its own short
transaction, so a request that failed (its own transaction rolled back, or an
exception) still leaves its row, and a client that has its answer can rely on the row
being there. Two more cases (issue 18):
- *a request cut off by a crash*: once the permission check lets a request act, its row
  is written first (`outcome` `started`, no status yet) and completed when the answer
  starts, so a crash while acting leaves a `started` row naming who did what;
- *the database itself down or frozen*: the record goes, as one JSON line, to the
  fallback file `DATA_DIR/access-log-fallback.jsonl` (and a warning to the log); for
  a few seconds after such a failure the journal does not wait on the database again,
  so an outage does not cost every write the database's timeouts twice over.

Reads (GET, HEAD) are not recorded; OPTIONS preflights never reach this middleware
(the CORS middleware answers them).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casework.tokens import Principal
from models.tables import AccessLogRow

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FALLBACK_FILE_NAME = "access-log-fallback.jsonl"
_SCOPE_KEY = "casework.access_record"
_PATH_LIMIT = 500

log = logging.getLogger(__name__)


@dataclass
class AccessRecord:
    """What the request has told us about itself so far; filled in by authentication
    (the principal), the permission check (the action) and case lookups (the case).
    `row_id`: the row written before the request acted, completed at the end."""

    principal: Principal | None = None
    action: str | None = None
    case_id: str | None = None
    row_id: int | None = None
    begun: bool = False
    is_repeat: Callable[[int], bool] | None = None
    """Given the status, whether an access already logged covers this one (the many
    decode calls of one history page: api/decode_attribution.py); then no row."""


def access_record(request: Request) -> AccessRecord | None:
    """The record of this request, or None for requests that are not logged (reads)."""
    return record_in(request.scope)


def record_in(scope: Scope) -> AccessRecord | None:
    """`access_record` for ASGI middleware, which has a scope and no request."""
    record = scope.get(_SCOPE_KEY)
    return record if isinstance(record, AccessRecord) else None


def outcome_of(status_code: int | None) -> str:
    """`started` for a row written before acting and never completed (a crash)."""
    if status_code is None:
        return "started"
    if status_code >= 500:
        return "failed"
    if status_code >= 400:
        return "refused"
    return "allowed"


def _fields(scope: Scope, record: AccessRecord, status_code: int | None) -> dict[str, Any]:
    principal = record.principal
    path_params: dict[str, Any] = scope.get("path_params") or {}
    case_id = record.case_id or path_params.get("case_id")
    return {
        "subject": principal.subject[:256] if principal else None,
        "roles": ",".join(sorted(principal.roles))[:200] if principal else None,
        "agency_id": principal.agency_id[:64] if principal and principal.agency_id else None,
        "method": str(scope["method"])[:8],
        "path": str(scope["path"])[:_PATH_LIMIT],
        "action": record.action,
        "case_id": str(case_id)[:64] if case_id else None,
        "status_code": status_code,
        "outcome": outcome_of(status_code),
    }


class AccessJournal:
    """Writes access-log rows, or fallback lines when the database cannot take them.

    `skip_seconds`: after a failed database write, how long to write straight to the
    fallback file instead of waiting on the database again (issue 18)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], fallback_file: Path,
                 skip_seconds: float = 10.0) -> None:
        self._sessions = sessions
        self.fallback_file = fallback_file
        self._skip_seconds = skip_seconds
        self._skip_until = 0.0

    async def begin(self, scope: Scope, record: AccessRecord) -> None:
        """Write the row of a request about to act, before it acts."""
        if record.begun:
            return
        record.begun = True
        fields = _fields(scope, record, None)

        async def insert(session: AsyncSession) -> None:
            row = AccessLogRow(at=datetime.now(UTC), **fields)
            session.add(row)
            await session.commit()
            record.row_id = row.id

        await self._store(insert, fields, "started")

    async def finish(self, scope: Scope, record: AccessRecord, status_code: int) -> None:
        """Complete the row written before acting, or write the whole row now."""
        fields = _fields(scope, record, status_code)
        row_id = record.row_id

        async def store(session: AsyncSession) -> None:
            if row_id is None:
                session.add(AccessLogRow(at=datetime.now(UTC), **fields))
            else:
                await session.execute(update(AccessLogRow).where(AccessLogRow.id == row_id)
                                      .values(**fields))
            await session.commit()

        await self._store(store, {**fields, "row_id": row_id}, "finished")

    async def _store(self, write: Any, fields: dict[str, Any], event: str) -> None:
        """Run `write` in its own transaction. Shielded, so a client disconnecting
        mid-request cannot cancel the record of what it did. A failure to write never
        changes the answer (the write itself has happened): the record goes to the
        fallback file instead."""
        if time.monotonic() < self._skip_until:
            self._fall_back(fields, event, "database unavailable moments ago")
            return
        try:
            with anyio.CancelScope(shield=True):
                async with self._sessions() as session:
                    await write(session)
        except Exception as exc:
            self._skip_until = time.monotonic() + self._skip_seconds
            self._fall_back(fields, event, f"{type(exc).__name__}: {exc}"[:300])

    def _fall_back(self, fields: dict[str, Any], event: str, reason: str) -> None:
        line = {"at": datetime.now(UTC).isoformat(), "event": event, **fields,
                "reason": reason}
        # %r: a path or subject cannot forge lines in the log (newlines escaped).
        log.warning("access log: database cannot take %s %r -> %s by %r (%s); written "
                    "to %s", fields["method"], fields["path"], fields["status_code"],
                    fields["subject"] or "anonymous", reason, self.fallback_file)
        try:
            self.fallback_file.parent.mkdir(parents=True, exist_ok=True)
            with self.fallback_file.open("a", encoding="utf-8") as fallback:
                fallback.write(json.dumps(line, default=str) + "\n")
        except OSError:
            log.exception("access log: fallback file %s not writable either; the record "
                          "is only this line: %s", self.fallback_file, json.dumps(
                              line, default=str))


async def acting(request: Request) -> None:
    """Called once a request may act (its permission granted): write its row first."""
    record = access_record(request)
    if record is not None and record.is_repeat is None:
        # Decode calls (is_repeat set) change nothing: they are recorded when they
        # answer, a page's many calls as one row, not begun one by one.
        journal: AccessJournal = request.app.state.casework.access_journal
        await journal.begin(request.scope, record)


class AccessLogMiddleware:
    """Records each write's outcome; see the module docstring for why here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        record = AccessRecord()
        scope[_SCOPE_KEY] = record
        written = False

        async def send_after_logging(message: Message) -> None:
            nonlocal written
            if message["type"] == "http.response.start" and not written:
                written = True
                await self._finish(scope, record, int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, send_after_logging)
        except BaseException:
            if not written:
                # The server answers 500 after we re-raise; record it now.
                written = True
                await self._finish(scope, record, 500)
            raise

    @staticmethod
    async def _finish(scope: Scope, record: AccessRecord, status_code: int) -> None:
        if (record.is_repeat is not None and not record.begun
                and record.is_repeat(status_code)):
            return  # one history page's decode calls: one row (api/decode_attribution.py)
        journal: AccessJournal = scope["app"].state.casework.access_journal
        await journal.finish(scope, record, status_code)
