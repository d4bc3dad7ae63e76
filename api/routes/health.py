"""Liveness and readiness for orchestrators and `casework dev`."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

from api.deps import StateDep
from api.errors import problem_response
from api.openapi import problems
from api.schemas.views import Health, Readiness
from casework.db import ping

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive", response_model=Health)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Temporal and the database are reachable",
    response_model=None,
    responses={200: {"model": Readiness, "description": "Ready: every check is `ok`."},
               **problems(token=False)},
)
async def readyz(state: StateDep) -> JSONResponse:
    checks: dict[str, str] = {}

    async def check_database() -> None:
        try:
            await asyncio.wait_for(ping(state.engine), 5)
            checks["database"] = "ok"
        except Exception as exc:  # any failure means "not ready"; say which
            checks["database"] = f"unreachable: {type(exc).__name__}"

    async def check_temporal() -> None:
        try:
            client = await state.temporal.client()
            await asyncio.wait_for(
                client.workflow_service.describe_namespace(
                    DescribeNamespaceRequest(namespace=state.settings.temporal_namespace)
                ),
                5,
            )
            checks["temporal"] = "ok"
        except Exception as exc:
            checks["temporal"] = f"unreachable: {type(exc).__name__}"

    await asyncio.gather(check_database(), check_temporal())
    failed = sorted(name for name, result in checks.items() if result != "ok")
    if failed:
        return problem_response(503, "Service Unavailable",
                                f"Not ready: {', '.join(failed)} unreachable.",
                                failed=failed, checks=checks)
    return JSONResponse({"status": "ready", "checks": checks})
