"""Issue 15: the worker serves the Temporal SDK's own metrics (its Prometheus exporter,
configured through the runtime's telemetry) at WORKER_METRICS_BIND_ADDRESS, and the
orchestrator's /healthz and /readyz at WORKER_HEALTH_BIND_ADDRESS."""

from __future__ import annotations

import socket
import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from casework.codec import codec_for_settings
from casework.config import Settings
from casework.db import make_session_factory
from casework.telemetry import worker_runtime
from casework.temporal_client import client_options
from casework.worker_health import health_app
from tests.api.conftest import temporal_address
from tests.polling import eventually
from worker import build_worker, running_worker


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


async def test_worker_answers_healthz_and_readyz_at_the_configured_address(
        api_settings: Settings, temporal_env: WorkflowEnvironment) -> None:
    """Issue 15: the orchestrator's probes reach the worker (casework/worker_health.py):
    /healthz while it runs, /readyz once it polls and Temporal and the database answer."""
    address = f"127.0.0.1:{free_port()}"
    settings = api_settings.model_copy(update={
        "worker_health_bind_address": address,
        "temporal_task_queue": f"health-{uuid.uuid4().hex[:8]}"})
    client = Client(temporal_env.client.service_client, namespace="default",
                    **client_options(codec_for_settings(settings)))
    async with running_worker(client, settings), httpx.AsyncClient(timeout=10) as http:
        assert (await http.get(f"http://{address}/healthz")).json() == {"status": "ok"}
        ready = await http.get(f"http://{address}/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"worker": "ok", "database": "ok", "temporal": "ok"}
    with pytest.raises(httpx.ConnectError):  # stopped with the worker
        await httpx.AsyncClient().get(f"http://{address}/healthz")


async def test_worker_readyz_names_an_unreachable_database(
        api_settings: Settings, temporal_env: WorkflowEnvironment) -> None:
    unreachable = create_async_engine(
        f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/nothing")
    worker = build_worker(temporal_env.client, f"health-{uuid.uuid4().hex[:8]}",
                          make_session_factory(unreachable))
    app = health_app(temporal_env.client, unreachable, "default", worker)
    async with worker, httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://worker") as http:
        async def only_the_database_fails() -> httpx.Response:
            answer = await http.get("/readyz")
            assert answer.json()["checks"]["worker"] == "ok", answer.json()  # started
            return answer

        answer = await eventually(only_the_database_fails)
    await unreachable.dispose()
    assert answer.status_code == 503
    assert answer.json()["failed"] == ["database"], answer.json()
    assert answer.json()["checks"]["database"].startswith("unreachable")
