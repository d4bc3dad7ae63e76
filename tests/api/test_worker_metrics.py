"""Issue 15: the worker serves the Temporal SDK's own metrics (its Prometheus exporter,
configured through the runtime's telemetry) at WORKER_METRICS_BIND_ADDRESS."""

from __future__ import annotations

import socket
import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from casework.codec import codec_for_settings
from casework.config import Settings
from casework.telemetry import worker_runtime
from casework.temporal_client import client_options
from tests.api.conftest import temporal_address
from tests.polling import eventually
from worker import build_worker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_no_bind_address_means_no_metrics_runtime(base_settings: Settings) -> None:
    assert worker_runtime(base_settings) is None


async def test_worker_serves_sdk_metrics_at_the_configured_address(
        base_settings: Settings, temporal_env: WorkflowEnvironment,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    address = f"127.0.0.1:{free_port()}"
    settings = base_settings.model_copy(update={"worker_metrics_bind_address": address})
    runtime = worker_runtime(settings)
    assert runtime is not None
    client = await Client.connect(temporal_address(temporal_env), namespace="default",
                                  runtime=runtime,
                                  **client_options(codec_for_settings(settings)))
    task_queue = f"metrics-{uuid.uuid4().hex[:8]}"
    worker = build_worker(client, task_queue, sessions)
    async with worker, httpx.AsyncClient(timeout=5) as http:
        async def polling_reported() -> str:
            response = await http.get(f"http://{address}/metrics")
            assert response.status_code == 200
            assert f'task_queue="{task_queue}"' in response.text
            return response.text

        text = await eventually(polling_reported)
    # The SDK's worker metrics, labelled with the task queue; no case data.
    assert f'temporal_worker_start{{namespace="default",service_name="temporal-core-sdk",' \
           f'task_queue="{task_queue}"}} 1' in text
