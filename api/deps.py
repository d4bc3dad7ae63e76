"""Typed dependencies so each route says what it needs in its signature."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from api.errors import DATABASE_UNAVAILABLE, ServiceUnavailable, database_unavailable
from api.state import AppState
from casework.config import Settings


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.casework
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_settings_dep(state: StateDep) -> Settings:
    return state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """The request is the unit of work: commit on success, roll back on error."""
    try:
        async with state.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
    except DATABASE_UNAVAILABLE as exc:
        # Bounded by the engine's timeouts (casework/db.py), so this comes in seconds.
        raise database_unavailable(exc) from exc


# scope="function": commit before the response is sent, so a client that got 2xx can
# read its write back, and a failed commit answers 503 instead of vanishing.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_temporal(state: StateDep) -> Client:
    try:
        return await state.temporal.client()
    except (RPCError, RuntimeError, OSError, TimeoutError) as exc:
        raise ServiceUnavailable("Temporal is unreachable.", component="temporal") from exc


TemporalDep = Annotated[Client, Depends(get_temporal)]
