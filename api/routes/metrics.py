"""`GET /metrics` for Prometheus (issue 15): operations and admin tokens only (the
permission table), so a scraper needs a service account with the operations role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.deps import SessionDep
from api.metrics import ApiMetrics
from api.openapi import PROMETHEUS_TEXT_REF, problems
from api.permissions import Action, Caller, permitted

router = APIRouter(tags=["operations"])


@router.get("/metrics", summary="Prometheus metrics: requests, open cases, outbox",
            response_class=Response,
            responses={200: {"description": "The metrics, as Prometheus scrapes them.",
                             "content": {CONTENT_TYPE_LATEST.split(";")[0]: {
                                 "schema": PROMETHEUS_TEXT_REF}}},
                       **problems()})
async def metrics(
    _caller: Annotated[Caller, Depends(permitted(Action.READ_METRICS))],
    session: SessionDep,
    request: Request,
) -> Response:
    """Request counts and latency by route template and status since this process
    started, and business gauges read from the read model now."""
    registry: ApiMetrics = request.app.state.metrics
    return Response(await registry.exposition(session), media_type=CONTENT_TYPE_LATEST)
