"""The access log: every write through the API, recorded in one place (issue 6).

Who (subject, roles, agency), what (method, path, permission), which case, when, and
how it ended. Refusals are recorded too -- a run of 403s or of 404s on other agencies'
cases (C7) is exactly what someone reviewing access wants to find.

An ASGI middleware rather than a dependency or per-route code, because a dependency
never sees the answers given before it runs (401 for a bad token, 422 for a malformed
body) nor the status a handler finally sends. The row is written in its own short
transaction when the response starts, before the client gets it, so:
- a request that failed (its own transaction rolled back, or an exception) still leaves
  its row;
- a client that has its answer can rely on the row being there.

Reads (GET, HEAD) are not recorded; OPTIONS preflights never reach this middleware
(the CORS middleware answers them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casework.tokens import Principal
from models.tables import AccessLogRow

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SCOPE_KEY = "casework.access_record"
_PATH_LIMIT = 500

log = logging.getLogger(__name__)


@dataclass
class AccessRecord:
    """What the request has told us about itself so far; filled in by authentication
    (the principal), the permission check (the action) and case lookups (the case)."""

    principal: Principal | None = None
    action: str | None = None
    case_id: str | None = None
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


def outcome_of(status_code: int) -> str:
    if status_code >= 500:
        return "failed"
    if status_code >= 400:
        return "refused"
    return "allowed"


def _row(scope: Scope, record: AccessRecord, status_code: int) -> AccessLogRow:
    principal = record.principal
    path_params: dict[str, Any] = scope.get("path_params") or {}
    case_id = record.case_id or path_params.get("case_id")
    return AccessLogRow(
        at=datetime.now(UTC),
        subject=principal.subject[:256] if principal else None,
        roles=",".join(sorted(principal.roles))[:200] if principal else None,
        agency_id=principal.agency_id[:64] if principal and principal.agency_id else None,
        method=str(scope["method"])[:8],
        path=str(scope["path"])[:_PATH_LIMIT],
        action=record.action,
        case_id=str(case_id)[:64] if case_id else None,
        status_code=status_code,
        outcome=outcome_of(status_code),
    )


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
                await self._write(scope, record, int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, send_after_logging)
        except BaseException:
            if not written:
                # The server answers 500 after we re-raise; record it now.
                written = True
                await self._write(scope, record, 500)
            raise

    async def _write(self, scope: Scope, record: AccessRecord, status_code: int) -> None:
        """Insert the row in its own transaction. Shielded, so a client disconnecting
        mid-request cannot cancel the record of what it did. A failure to write is
        logged loudly but does not change the answer: the write itself has happened."""
        if record.is_repeat is not None and record.is_repeat(status_code):
            return
        row = _row(scope, record, status_code)
        try:
            sessions = scope["app"].state.casework.sessions
            with anyio.CancelScope(shield=True):
                async with sessions() as session:
                    session.add(row)
                    await session.commit()
        except Exception:
            # %r: a path or subject cannot forge lines in the log (newlines escaped).
            log.exception("access log: could not record %s %r -> %s by %r", row.method,
                          row.path, status_code, row.subject or "anonymous")
