"""The worker's own `/healthz` and `/readyz` (issue 15), for an orchestrator's probes, as
the API has them: served at `WORKER_HEALTH_BIND_ADDRESS` (unset: not served).

- `/healthz`: the process answers (its event loop is not stuck) -- liveness.
- `/readyz`: the worker is running (polling its task queue), and Temporal and the
  read model's database both answer within five seconds -- readiness; 503 naming what
  failed otherwise, as the API's does.

Plain HTTP on its own port, no token: it says nothing about any case. The SDK's metrics
(`WORKER_METRICS_BIND_ADDRESS`) are another port.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Generator

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.worker import Worker

from casework.db import ping

CHECK_TIMEOUT_SECONDS = 5.0


def health_app(client: Client, engine: AsyncEngine, namespace: str, worker: Worker
               ) -> Starlette:
    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        checks: dict[str, str] = {"worker": "ok" if worker.is_running else "not running"}

        async def check(name: str, probe: Awaitable[object]) -> None:
            try:
                await asyncio.wait_for(probe, CHECK_TIMEOUT_SECONDS)
                checks[name] = "ok"
            except Exception as exc:  # any failure means "not ready"; say which
                checks[name] = f"unreachable: {type(exc).__name__}"

        await asyncio.gather(
            check("database", ping(engine)),
            check("temporal", client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace=namespace))))
        failed = sorted(name for name, result in checks.items() if result != "ok")
        if failed:
            return JSONResponse({"status": "not ready", "failed": failed, "checks": checks},
                                status_code=503)
        return JSONResponse({"status": "ready", "checks": checks})

    return Starlette(routes=[Route("/healthz", healthz), Route("/readyz", readyz)])


class _Server(uvicorn.Server):
    """uvicorn that leaves the process's signals to the worker (SIGTERM stops it)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


@contextlib.asynccontextmanager
async def serving_health(address: str | None, client: Client, engine: AsyncEngine,
                         namespace: str, worker: Worker) -> AsyncIterator[None]:
    """Serve the two endpoints at `address` for the block; nothing when it is None."""
    if not address:
        yield
        return
    host, port = split_address(address)
    server = _Server(uvicorn.Config(health_app(client, engine, namespace, worker),
                                    host=host, port=port, log_level="warning",
                                    lifespan="off", access_log=False))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn has a flag
            await asyncio.sleep(0.05)
        if task.done():
            await task  # a bind error surfaces here
        yield
    finally:
        server.should_exit = True
        await task
