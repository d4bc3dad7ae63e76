"""The FastAPI application: `create_app()` wires settings, database, Temporal, tokens
and the payload codec."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.trace import Tracer

from api.access_log import FALLBACK_FILE_NAME, AccessJournal, AccessLogMiddleware
from api.auth import authenticator_for
from api.body_limit import BodyLimit
from api.cors import SplitCors, codec_origins
from api.decode_attribution import DecodeAttribution
from api.docs import install_docs
from api.errors import install_error_handlers
from api.metrics import ApiMetrics
from api.observability import Observability
from api.openapi import install_openapi, operation_id
from api.routes import (
    app_page,
    audits,
    calendar,
    cases,
    closure,
    codec,
    contacts,
    coworking,
    disputes,
    events,
    health,
    metrics,
    notifications,
    reports,
    reviews,
    tasks,
    transfers,
    ui,
)
from api.state import AppState, TemporalGateway
from api.ui_proxy import UiProxy
from casework.codec import codec_for_settings
from casework.config import Settings, get_settings
from casework.db import engine_for, make_autocommit_session_factory
from casework.telemetry import tracer_for

DESCRIPTION = """
Keeps every contracted child-protection case on track: each case is a durable Temporal
workflow that owns its reporting deadlines (DOMAIN rules R1-R8), reviews and closure.
Errors are `application/problem+json` (RFC 9457).

Every endpoint but `/healthz` and `/readyz` needs a bearer token (**Authorize** above);
in the embedded default, `casework token --role practitioner` prints one. Which role may
call what is in the README's permission table; agency accounts reach only their own
contracts in force (C7), and anything else answers 404 like an unknown case.
"""


def freeze_startup_heap() -> None:
    """Move every object alive once the service has started into the garbage collector's
    permanent generation (`gc.freeze`), so its full collections no longer walk them.

    Issue 13: a full (generation 2) collection walked the ~170,000 objects of the loaded
    modules -- SQLAlchemy, pydantic, temporalio, OpenTelemetry -- in ~65 ms, blocking the
    event loop every few hundred requests: with 10 clients, `GET /cases` had a p50 of
    26 ms and a p99 of 93 ms, and froze it was 39 ms (bench/list_cases_http.py). For a
    process that serves until it stops; not for one that builds and drops apps (the
    tests), whose frozen cycles would never be collected."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, *, tracer: Tracer | None = None,
               freeze_heap: bool = False) -> FastAPI:
    """Refuses (raises) at once on an unsafe configuration: production without a JWKS URL
    (`LocalSigningKeyRefused`) or without payload encryption keys (`MissingEncryptionKeys`),
    so a misconfigured deployment never serves a single request. `tracer`: default the
    OTLP one when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, else no tracing (issue 15).
    `freeze_heap`: `freeze_startup_heap` once started (the serving commands)."""
    settings = settings or get_settings()
    tracer = tracer or tracer_for(settings)
    authenticator = authenticator_for(settings)
    payload_codec = codec_for_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = engine_for(settings)
        sessions = make_autocommit_session_factory(engine)
        app.state.casework = AppState(
            settings=settings,
            engine=engine,
            sessions=sessions,
            temporal=TemporalGateway(settings, payload_codec, tracer),
            authenticator=authenticator,
            codec=payload_codec,
            access_journal=AccessJournal(sessions, settings.data_dir / FALLBACK_FILE_NAME),
        )
        upstream = settings.ui_upstream_url
        app.state.ui_proxy = UiProxy(upstream) if upstream else None  # api/routes/ui.py
        if freeze_heap:
            freeze_startup_heap()
        try:
            yield
        finally:
            if app.state.ui_proxy is not None:
                await app.state.ui_proxy.aclose()
            await engine.dispose()

    # The docs pages are this service's own (api/docs.py), not FastAPI's CDN-backed ones;
    # the document and its operation ids are api/openapi.py's (issue 12).
    app = FastAPI(title="casework", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, generate_unique_id_function=operation_id)
    # Added innermost first: CORS answers preflights before anything is logged, and a
    # body too large is logged (and refused) before anything reads it. A decode call's
    # record learns its case (and whether it repeats a logged page view) in between.
    app.add_middleware(BodyLimit)
    app.add_middleware(DecodeAttribution)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(SplitCors, api_origins=settings.cors_origins,
                       codec_origins=codec_origins(settings))
    # Outermost (issue 15): every answer, preflights and refusals included, is counted,
    # timed and logged under the request's id.
    app.state.metrics = ApiMetrics()
    app.add_middleware(Observability, metrics=app.state.metrics, tracer=tracer)
    install_error_handlers(app)
    app.include_router(health.router)
    for resource in (cases, reports, events, audits, reviews, contacts, closure, tasks,
                     notifications, calendar, transfers, disputes, coworking, codec, ui,
                     app_page, metrics):
        app.include_router(resource.router)
    install_docs(app)
    install_openapi(app)
    return app
