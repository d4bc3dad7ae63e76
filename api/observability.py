"""One ASGI middleware, outermost, that makes every request observable (issue 15):

- a request id (the caller's `X-Request-ID` when it is a short plain token, else a new
  one), answered in `X-Request-ID` and put in every log line written while the request
  runs (casework/logs.py), with the case id when the path names one;
- Prometheus counts and latency by route template and status (api/metrics.py);
- one log line per request: method, route template, status, milliseconds -- never the
  raw path (it may carry a query), a header or the body;
- with a tracer (OTEL_EXPORTER_OTLP_ENDPOINT set), a server span per request, current
  while the app answers, so the Temporal client's spans -- and through their header the
  workflow's and its activities' -- join the request's trace (casework/telemetry.py).

The route template is known only once routing has run, so it is read from the scope
after the app answered (FastAPI puts the matched route there).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextlib import nullcontext
from typing import Any

from opentelemetry.trace import SpanKind, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import UNMATCHED_ROUTE, ApiMetrics
from casework.logs import case_id_var, request_id_var

REQUEST_LOGGER = "casework.api.requests"
log = logging.getLogger(REQUEST_LOGGER)

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's request id if it is safe to repeat in logs and answers (a short
    token of letters, digits and `._:-`), else a new one: a header never injects text
    into a log line."""
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(candidate):
                return candidate
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/cases/{case_id}`), or `unmatched`."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class Observability:
    """Request id, metrics and the request's log line (see the module docstring)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, tracer: Tracer | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope.get("headers", []))
        request_token = request_id_var.set(request_id)
        case_token = case_id_var.set(None)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"],
                                      (REQUEST_ID_HEADER.encode(), request_id.encode())]
            await send(message)

        method = str(scope.get("method", ""))
        span_context = (self.tracer.start_as_current_span(
            f"{method} request", kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "casework.request_id": request_id})
            if self.tracer is not None else nullcontext(None))
        try:
            with span_context as span:
                try:
                    await self.app(scope, receive, send_with_id)
                finally:
                    if span is not None:
                        route = route_template(scope)
                        span.update_name(f"{method} {route}")
                        span.set_attribute("http.route", route)
                        span.set_attribute("http.response.status_code", status)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            self.metrics.observe_request(method, route, status, seconds)
            case_id = scope.get("path_params", {}).get("case_id")
            if isinstance(case_id, str):
                case_id_var.set(case_id)
            log.info("request", extra={"method": method, "route": route, "status": status,
                                       "duration_ms": round(seconds * 1000, 1)})
            case_id_var.reset(case_token)
            request_id_var.reset(request_token)
