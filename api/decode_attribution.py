"""Whose history was decrypted: the access log's row for `/codec/decode` (issue 11).

Decrypting history discloses a case's data, so each decode call is an access to log
(api/access_log.py). Two things make the bare call useless in the log:

- The Temporal UI's codec request carries no case or workflow id (only `X-Namespace`).
  It does carry the page it came from: served by the API under `/ui/` (same origin), the
  browser's default referrer policy sends the full page address, whose path names the
  workflow (`/ui/namespaces/<ns>/workflows/<workflow id>/<run id>/history`), and each
  case's workflow is `case-contract-<case_id>` (DESIGN). So the row gets the case id.
  The Referer is what the person's browser says; it attributes, it does not authorise
  (who may decode at all is the token's roles).
- One history page makes about nineteen decode calls (input, each activity, timer
  summaries ...). They are one page view: the first call of a person on a workflow
  writes the row, and calls with the same person, workflow and outcome within
  `VIEW_WINDOW_SECONDS` after it write none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from api.access_log import outcome_of, record_in
from casework.config import UI_PUBLIC_PATH

DECODE_PATH = "/codec/decode"
CASE_WORKFLOW_PREFIX = "case-contract-"
"""`workflows.case_contract.workflow_id_for`: a case's workflow id."""
VIEW_WINDOW_SECONDS = 60.0
"""How long the calls of one page view (and its reloads) count as one access."""


def workflow_id_from_page(page_url: str | None) -> str | None:
    """The workflow a Temporal UI page shows, from its address, or None (the workflow
    list, another site, no Referer)."""
    if not page_url:
        return None
    segments = urlsplit(page_url).path.split("/")
    base = UI_PUBLIC_PATH.strip("/")
    # ['', 'ui', 'namespaces', ns, 'workflows', workflow_id, ...]
    if (len(segments) < 6 or segments[1] != base or segments[2] != "namespaces"
            or segments[4] != "workflows" or not segments[5]):
        return None
    return unquote(segments[5])


def case_id_of(workflow_id: str | None) -> str | None:
    """The case whose workflow this is (`case-contract-<case_id>`), else None."""
    if workflow_id is None or not workflow_id.startswith(CASE_WORKFLOW_PREFIX):
        return None
    return workflow_id.removeprefix(CASE_WORKFLOW_PREFIX) or None


class ViewWindow:
    """Remembers which (person, workflow, outcome) was logged when, to tell the first
    call of a page view from its repeats. Clock passed in, so tests need no sleeping."""

    def __init__(self, window_seconds: float = VIEW_WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window_seconds = window_seconds
        self.clock = clock
        self._logged_at: dict[tuple[str | None, str | None, str], float] = {}

    def is_repeat(self, subject: str | None, workflow: str | None, outcome: str) -> bool:
        """True when this call belongs to a view already logged; else remember it."""
        now = self.clock()
        key = (subject, workflow, outcome)
        logged = self._logged_at.get(key)
        if logged is not None and now - logged < self.window_seconds:
            return True
        self._logged_at[key] = now
        if len(self._logged_at) > 4096:  # forget old views, so memory stays bounded
            self._logged_at = {k: at for k, at in self._logged_at.items()
                               if now - at < self.window_seconds}
        return False


class DecodeAttribution:
    """Tells the access record of a `/codec/decode` call which case it disclosed and
    whether it repeats a view already logged. Sits inside the access-log middleware
    (which made the record) and outside authentication, so refused calls are
    attributed and coalesced too."""

    def __init__(self, app: ASGIApp, window: ViewWindow | None = None) -> None:
        self.app = app
        self.window = window or ViewWindow()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        record = record_in(scope) if scope["type"] == "http" else None
        if record is not None and scope["path"] == DECODE_PATH:
            headers = dict(scope["headers"])
            referer = headers.get(b"referer", b"").decode("latin-1") or None
            workflow = workflow_id_from_page(referer)
            record.case_id = case_id_of(workflow)
            window = self.window

            def repeat(status_code: int) -> bool:
                subject = record.principal.subject if record.principal else None
                return window.is_repeat(subject, workflow, outcome_of(status_code))

            record.is_repeat = repeat
        await self.app(scope, receive, send)
