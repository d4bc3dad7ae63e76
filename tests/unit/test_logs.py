"""Issue 15: structured logs -- one JSON object per line, with request, case and
workflow ids, and nothing of a request's or a payload's content."""

from __future__ import annotations

import json
import logging
import sys

from casework.logs import (
    QUIET_LIBRARY_LOGGERS,
    JsonFormatter,
    case_id_var,
    configure_logging,
    request_id_var,
)


def line(message: str, *args: object, exc: bool = False, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("casework.test", logging.WARNING, __file__, 1, message,
                               args, sys.exc_info() if exc else None)
    record.__dict__.update(extra)
    text = JsonFormatter().format(record)
    assert "\n" not in text  # one line per event
    parsed: dict[str, object] = json.loads(text)
    return parsed


def test_a_line_carries_the_request_and_case_of_its_request() -> None:
    request_token, case_token = request_id_var.set("req-1"), case_id_var.set("case-9")
    try:
        fields = line("report %s accepted", "rep-1")
    finally:
        request_id_var.reset(request_token)
        case_id_var.reset(case_token)
    assert fields["request_id"] == "req-1" and fields["case_id"] == "case-9"
    assert fields["event"] == "report rep-1 accepted" and fields["level"] == "warning"
    assert fields["logger"] == "casework.test" and str(fields["ts"]).endswith("+00:00")


def test_an_activity_line_names_its_workflow_and_the_case_from_the_workflow_id() -> None:
    fields = line("recorded", temporal_activity={
        "workflow_id": "case-contract-case-42", "activity_type": "record_case_effects",
        "activity_id": "3", "attempt": 1})
    assert fields["workflow_id"] == "case-contract-case-42"
    assert fields["case_id"] == "case-42"
    assert fields["temporal"] == "record_case_effects"
    assert "request_id" not in fields


def test_only_listed_extras_are_written_never_a_payload() -> None:
    fields = line("request", route="/cases/{case_id}", status=201,
                  body={"report_text": "the child said ..."}, authorization="Bearer x")
    assert fields["route"] == "/cases/{case_id}" and fields["status"] == 201
    text = json.dumps(fields)
    assert "report_text" not in text and "Bearer" not in text


def test_an_error_line_names_the_exception_type() -> None:
    try:
        raise TimeoutError("smtp relay slow")
    except TimeoutError:
        fields = line("notice not delivered", exc=True, notification_key="k1",
                      case_id="case-1")
    assert fields["error"] == "TimeoutError" and "Traceback" in str(fields["traceback"])
    assert fields["notification_key"] == "k1" and fields["case_id"] == "case-1"


def test_http_client_lines_with_raw_urls_are_not_written() -> None:
    """httpx logs every request it sends at INFO with its whole URL: through the UI
    proxy that was a line per upstream call of a history page (issue 15: with the longer
    JSON lines, more than an unread pipe of `casework dev` holds), and a webhook URL may
    carry a token. After configure_logging only httpx's warnings come through."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level,
             {name: logging.getLogger(name).level for name in QUIET_LIBRARY_LOGGERS})
    try:
        configure_logging("json")
        assert root.isEnabledFor(logging.INFO)
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
        assert logging.getLogger("httpx").isEnabledFor(logging.WARNING)
        assert not logging.getLogger("httpcore.connection").isEnabledFor(logging.INFO)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
