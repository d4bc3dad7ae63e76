"""The Temporal SDK's runtime telemetry (issue 15): its Prometheus exporter on the worker.

The SDK's core (Rust) keeps the worker's own metrics -- task slots in use, poll and
schedule-to-start latency, workflow task failures, activity execution latency -- and
serves them itself when the runtime is built with a Prometheus bind address. A runtime
is per process and must exist before the client connects, so the worker builds it once
(`worker_runtime`) and connects with it.
"""

from __future__ import annotations

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from casework.config import Settings


def worker_runtime(settings: Settings) -> Runtime | None:
    """A runtime serving SDK metrics at `worker_metrics_bind_address`, or None (the
    SDK's default runtime, no metrics endpoint) when it is unset."""
    if not settings.worker_metrics_bind_address:
        return None
    return Runtime(telemetry=TelemetryConfig(
        metrics=PrometheusConfig(bind_address=settings.worker_metrics_bind_address)))
