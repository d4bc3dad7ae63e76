"""Structured logs: one JSON object per line, per event (issue 15).

Every line carries the ids an operator correlates by -- the request id the API gave
the request (and answered in `X-Request-ID`), the case id and the workflow id -- and
nothing else from the request: no body, no token, no report text. The ids come from
context variables the API's middleware sets for the request (api/observability.py)
and, in the worker, from the Temporal SDK's own `extra` on activity and workflow
log records (`temporal_activity`, `temporal_workflow`), so a line written inside an
activity names its workflow without any code passing it along.

Which attributes of a log record are written is a fixed list (`record_fields`): an
`extra={...}` someone adds later cannot leak a payload into the log by accident.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from temporalio import activity, workflow

request_id_var: ContextVar[str | None] = ContextVar("casework_request_id", default=None)
case_id_var: ContextVar[str | None] = ContextVar("casework_case_id", default=None)
workflow_id_var: ContextVar[str | None] = ContextVar("casework_workflow_id", default=None)

CASE_WORKFLOW_PREFIX = "case-contract-"
"""A case's workflow id is `case-contract-<case_id>` (DESIGN: one workflow per case)."""

EXTRA_FIELDS = ("route", "method", "status", "duration_ms", "notification_key", "channel",
                "attempt", "rows", "skipped", "rejected")
"""The only `extra` attributes written besides the ids: names, numbers and keys, never
content."""


def _temporal_ids(record: logging.LogRecord) -> tuple[str | None, str | None]:
    """(workflow id, workflow type or activity type) from the SDK's log `extra`."""
    for name in ("temporal_activity", "temporal_workflow"):
        details = getattr(record, name, None)
        if isinstance(details, dict):
            workflow_id = details.get("workflow_id")
            kind = details.get("activity_type") or details.get("workflow_type")
            return (str(workflow_id) if workflow_id else None, str(kind) if kind else None)
    return None, None


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The JSON object of one log record: time, level, logger, event, the ids, the
    whitelisted extras and, for an error, the exception's type and traceback."""
    workflow_id, temporal_kind = _temporal_ids(record)
    workflow_id = workflow_id or workflow_id_var.get()
    named = record.__dict__.get("case_id")  # extra={"case_id": ...} of a line about one
    case_id = named if isinstance(named, str) else case_id_var.get()
    if case_id is None and workflow_id and workflow_id.startswith(CASE_WORKFLOW_PREFIX):
        case_id = workflow_id[len(CASE_WORKFLOW_PREFIX):]
    fields: dict[str, Any] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "event": record.getMessage(),
    }
    for name, value in (("request_id", request_id_var.get()), ("case_id", case_id),
                        ("workflow_id", workflow_id), ("temporal", temporal_kind)):
        if value:
            fields[name] = value
    for name in EXTRA_FIELDS:
        if name in record.__dict__:
            fields[name] = record.__dict__[name]
    if record.exc_info and record.exc_info[0] is not None:
        fields["error"] = record.exc_info[0].__name__
        fields["traceback"] = logging.Formatter().formatException(record.exc_info)
    return fields


class JsonFormatter(logging.Formatter):
    """One line of JSON per record (`record_fields`)."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(record_fields(record), default=str, ensure_ascii=False)


QUIET_LIBRARY_LOGGERS = ("httpx", "httpcore")
"""Libraries whose INFO lines repeat raw URLs (`configure_logging`)."""


class _CaseworkHandler(logging.StreamHandler):
    """Ours, so configuring again replaces it and leaves anyone else's handler alone."""


def configure_logging(log_format: Literal["json", "text"] = "json",
                      level: int = logging.INFO) -> None:
    """The root logger of a casework process: JSON lines on stderr (or plain text for a
    person at a terminal, `LOG_FORMAT=text`). Calling it twice does not write every
    line twice."""
    handler = _CaseworkHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
        # The SDK appends the workflow's or activity's info to the message text; the
        # JSON line has the ids as fields already (`record_fields`).
        workflow.logger.workflow_info_on_message = False
        activity.logger.activity_info_on_message = False
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _CaseworkHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's access log repeats what our request line says, with the raw path
    # (query string included); ours names the route template instead.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx writes an INFO line for every request it sends, with the whole URL: each
    # upstream call of the Temporal UI through /ui/ (dozens a page), a webhook's URL
    # (which may carry a token), every row of `casework import`. Our own lines say what
    # was done without the URL; httpx's warnings and errors still come through.
    for chatty in QUIET_LIBRARY_LOGGERS:
        logging.getLogger(chatty).setLevel(logging.WARNING)
