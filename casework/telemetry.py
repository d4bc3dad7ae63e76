"""Telemetry of a casework process (issue 15): the Temporal SDK's Prometheus exporter on
the worker, and OpenTelemetry traces.

Traces: when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, each process builds one tracer
provider exporting by OTLP/HTTP in batches (`tracer_for`), the API opens a server span
per request (api/observability.py), and every Temporal client carries the SDK's
`TracingInterceptor` (casework/temporal_client.py), which passes the span context in
a header to the workflow and on to its activities -- so a report submission reads as
one trace: request, update, workflow handler, activity. Unset, nothing is traced and no
header is added. Spans carry names and ids (route templates, workflow and activity
types), never payloads.

The SDK's core (Rust) keeps the worker's own metrics -- task slots in use, poll and
schedule-to-start latency, workflow task failures, activity execution latency -- and
serves them itself when the runtime is built with a Prometheus bind address. A runtime
is per process and must exist before the client connects, so the worker builds it once
(`worker_runtime`) and connects with it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind, Tracer
from temporalio.api.common.v1 import Payload
from temporalio.contrib.opentelemetry import (
    TracingInterceptor,
    TracingWorkflowInboundInterceptor,
)
from temporalio.contrib.opentelemetry._interceptor import _TracingWorkflowOutboundInterceptor
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import (
    HandleSignalInput,
    HandleUpdateInput,
    StartActivityInput,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)
from temporalio.workflow import ActivityHandle

from casework.config import Settings

TRACER_NAME = "casework"


def worker_runtime(settings: Settings) -> Runtime | None:
    """A runtime serving SDK metrics at `worker_metrics_bind_address`, or None (the
    SDK's default runtime, no metrics endpoint) when it is unset."""
    if not settings.worker_metrics_bind_address:
        return None
    return Runtime(telemetry=TelemetryConfig(
        metrics=PrometheusConfig(bind_address=settings.worker_metrics_bind_address)))


def tracer_for(settings: Settings) -> Tracer | None:
    """This process's tracer, exporting to the configured OTLP endpoint; None when no
    endpoint is configured (tracing off)."""
    if not settings.otel_exporter_otlp_endpoint:
        return None
    return _otlp_tracer(settings.otel_exporter_otlp_endpoint.rstrip("/"),
                        settings.otel_service_name)


@lru_cache(maxsize=4)
def _otlp_tracer(endpoint: str, service_name: str) -> Tracer:
    """One provider per process and endpoint: its batch processor flushes on exit."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(
        OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")))
    return provider.get_tracer(TRACER_NAME)


class CaseTracingInterceptor(TracingInterceptor):
    """The SDK's tracing interceptor, with a case's messages continuing their caller's
    trace (`MessageTracingWorkflowInbound`)."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # installs the span extern function
        return MessageTracingWorkflowInbound


class MessageTracingWorkflowInbound(TracingWorkflowInboundInterceptor):
    """Why: the SDK puts the spans of a signal or update under the workflow's own trace
    (the one its start began, months ago for a case) and only *links* the caller's. For
    casework the question is "what did this request do", so an update or signal that
    carries a span context runs under it: its handler span, and the activities the
    handler starts, join the request's trace, which then reads API -> update ->
    handler -> activity. A message without a context (a continued run's replay of its
    own) keeps the SDK's behaviour. Spans only: no command changes, so replay is the
    same with or without tracing. Uses the SDK's own helpers, as its docs invite for
    subclasses (temporalio<2 is pinned).

    A case records what its messages did in one activity -- a local one since issue 13
    -- started from its main loop after the handlers ran (`_flush`), outside any
    handler; so the next activity or local activity the workflow starts after a traced
    message runs under that message's context (with a batch of several, the last
    one's)."""

    _message_carrier: dict[str, str] | None = None

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        # Ours outside the SDK's outbound tracing, so its StartActivity span is made
        # under the message's context.
        WorkflowInboundInterceptor.init(
            self, _FollowMessage(_TracingWorkflowOutboundInterceptor(outbound, self), self))

    def take_message_context(self) -> object | None:
        """The context of the last traced message not yet followed by an activity."""
        carrier, self._message_carrier = self._message_carrier, None
        if carrier is None:
            return None
        return self._set_on_context(self.text_map_propagator.extract(carrier))

    @contextmanager
    def _caller_context(self, headers: Mapping[str, Payload]) -> Iterator[bool]:
        header = headers.get(self.header_key)
        if not header:
            yield False
            return
        carrier = self.payload_converter.from_payloads([header])[0]
        context = self._set_on_context(self.text_map_propagator.extract(carrier))
        token = otel_context.attach(context)
        try:
            yield True
        finally:
            otel_context.detach(token)
            self._message_carrier = carrier

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        with self._caller_context(input.headers) as traced:
            if not traced:
                return await super().handle_update_handler(input)
            self._completed_span(f"HandleUpdate:{input.update}", kind=SpanKind.SERVER,
                                 link_context_carrier=self._load_workflow_context_carrier())
            return await self.next.handle_update_handler(input)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        with self._caller_context(input.headers) as traced:
            if not traced:
                super().handle_update_validator(input)
                return
            self._completed_span(f"ValidateUpdate:{input.update}", kind=SpanKind.SERVER)
            self.next.handle_update_validator(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        with self._caller_context(input.headers) as traced:
            if not traced:
                await super().handle_signal(input)
                return
            self._completed_span(f"HandleSignal:{input.signal}", kind=SpanKind.SERVER,
                                 link_context_carrier=self._load_workflow_context_carrier())
            await self.next.handle_signal(input)


class _FollowMessage(WorkflowOutboundInterceptor):
    """Starts the first activity after a traced message under the message's context."""

    def __init__(self, next: WorkflowOutboundInterceptor,
                 inbound: MessageTracingWorkflowInbound) -> None:
        super().__init__(next)
        self._inbound = inbound

    def start_activity(self, input: StartActivityInput) -> ActivityHandle[Any]:
        with self._under_message():
            return super().start_activity(input)

    def start_local_activity(self, input: StartLocalActivityInput) -> ActivityHandle[Any]:
        # A case records what its messages did in a local activity (issue 13).
        with self._under_message():
            return super().start_local_activity(input)

    @contextmanager
    def _under_message(self) -> Iterator[None]:
        context = self._inbound.take_message_context()
        if context is None:
            yield
            return
        token = otel_context.attach(context)  # type: ignore[arg-type]
        try:
            yield
        finally:
            otel_context.detach(token)
