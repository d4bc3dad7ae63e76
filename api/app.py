"""The FastAPI application: `create_app()` wires settings, database and Temporal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.errors import install_error_handlers
from api.routes import (
    audits,
    calendar,
    cases,
    closure,
    contacts,
    events,
    health,
    notifications,
    reports,
    reviews,
    tasks,
)
from api.state import AppState, TemporalGateway
from casework.config import Settings, get_settings
from casework.db import make_engine, make_session_factory

DESCRIPTION = """
Keeps every contracted child-protection case on track: each case is a durable Temporal
workflow that owns its reporting deadlines (DOMAIN rules R1-R8), reviews and closure.
Errors are `application/problem+json` (RFC 9457).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.effective_database_url)
        app.state.casework = AppState(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            temporal=TemporalGateway(settings),
        )
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(title="casework", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    install_error_handlers(app)
    app.include_router(health.router)
    for resource in (cases, reports, events, audits, reviews, contacts, closure, tasks,
                     notifications, calendar):
        app.include_router(resource.router)
    return app
