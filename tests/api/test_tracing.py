"""Issue 15 (3): OpenTelemetry traces API -> workflow -> activities. With an in-process
span exporter, one report submission forms one trace: the request's server span, the
client's update, the workflow's update handler and the activity it leads to."""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from casework.codec import codec_for_settings
from casework.config import Settings
from casework.telemetry import tracer_for
from casework.temporal_client import client_options
from tests.api.conftest import ApiClient, active_case, running_app, wait_idle
from tests.polling import eventually
from worker import build_worker


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture(scope="module")
async def traced_api(api_settings: Settings, temporal_env: WorkflowEnvironment,
                     sessions: async_sessionmaker[AsyncSession],
                     exporter: InMemorySpanExporter) -> AsyncIterator[ApiClient]:
    """An app and a worker of their own task queue, both tracing to `exporter` (a
    provider of this test's, not the process-wide one)."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("casework-test")
    settings = api_settings.model_copy(
        update={"temporal_task_queue": f"traced-{uuid.uuid4().hex[:8]}"})
    client = Client(temporal_env.client.service_client, namespace="default",
                    **client_options(codec_for_settings(settings), tracer=tracer))
    worker = build_worker(client, settings.temporal_task_queue, sessions, strict_sandbox=True)
    async with worker, running_app(settings, client, tracer=tracer) as api:
        yield api
    provider.shutdown()


def test_tracing_is_off_without_an_otlp_endpoint(api_settings: Settings) -> None:
    assert tracer_for(api_settings) is None
    assert "interceptors" not in client_options(None)


async def test_r4_one_report_submission_forms_one_trace(
        traced_api: ApiClient, exporter: InMemorySpanExporter) -> None:
    case_id = await active_case(traced_api, "traced")
    exporter.clear()
    answer = await traced_api.post(f"/cases/{case_id}/reports",
                                   json={"report_id": "rep-traced"})
    assert answer.status_code in (200, 201), answer.text
    await wait_idle(traced_api, case_id)

    def spans_of_the_submission() -> list[ReadableSpan]:
        spans = list(exporter.get_finished_spans())
        names = [span.name for span in spans]
        assert any(name.startswith("RunActivity:") for name in names), names
        return spans

    spans = await eventually(lambda: _async(spans_of_the_submission()))
    [server] = [s for s in spans if s.parent is None]  # one root: the request
    assert server.name == "POST /cases/{case_id}/reports" and server.kind == SpanKind.SERVER
    assert server.attributes is not None
    assert server.attributes["http.response.status_code"] == answer.status_code
    assert server.attributes["casework.request_id"] == answer.headers["x-request-id"]
    assert {span.context.trace_id for span in spans} == {server.context.trace_id}, [
        (s.name, s.context.trace_id) for s in spans]
    by_name = {span.name: span for span in spans}
    update = by_name["StartWorkflowUpdate:submit_report"]
    handler = by_name["HandleUpdate:submit_report"]
    activity = by_name["RunActivity:record_case_effects"]
    assert update.parent is not None and update.parent.span_id == server.context.span_id
    assert handler.parent is not None and handler.parent.span_id == update.context.span_id
    started = by_name["StartActivity:record_case_effects"]
    assert activity.parent is not None and activity.parent.span_id == started.context.span_id
    # Names and ids only: no report payload in any span.
    assert all("rep-traced" not in str(span.attributes) for span in spans)


async def _async(value: list[ReadableSpan]) -> list[ReadableSpan]:
    return value


def test_with_an_endpoint_spans_go_out_by_otlp_http(api_settings: Settings) -> None:
    """OTEL_EXPORTER_OTLP_ENDPOINT set: the process's tracer exports by OTLP/HTTP to
    `<endpoint>/v1/traces` (a collector on 127.0.0.1 here), under OTEL_SERVICE_NAME."""
    received: list[tuple[str, str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append((self.path, self.headers.get("Content-Type", ""), body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        tracer = tracer_for(api_settings.model_copy(update={
            "otel_exporter_otlp_endpoint": f"http://127.0.0.1:{server.server_address[1]}/",
            "otel_service_name": "casework-otlp-test"}))
        assert tracer is not None
        with tracer.start_as_current_span("GET /cases/{case_id}"):
            pass
        assert tracer.span_processor.force_flush(10_000)  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
    [(path, content_type, body)] = received
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    assert b"casework-otlp-test" in body and b"GET /cases/{case_id}" in body
