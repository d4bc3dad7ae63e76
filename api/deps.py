"""Typed dependencies so each route says what it needs in its signature."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session
from temporalio.client import Client
from temporalio.service import RPCError

from api.errors import DATABASE_UNAVAILABLE, ServiceUnavailable, database_unavailable
from api.state import AppState
from casework.config import Settings


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.casework
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_settings_dep(state: StateDep) -> Settings:
    return state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


log = logging.getLogger("casework.api")

_UNWRITTEN = "casework.unwritten"
"""Session.info key: True while the session holds writes not yet committed."""


def _track_writes(session: AsyncSession) -> None:
    """Mark the session when it writes (a flush, or an insert/update/delete statement)
    and clear the mark when that is committed, so the final commit knows whether it
    carries anything."""
    sync = session.sync_session

    def on_execute(execute: ORMExecuteState) -> None:
        if not execute.is_select:
            sync.info[_UNWRITTEN] = True

    def on_flush(flushed: Session, _: Any) -> None:
        flushed.info[_UNWRITTEN] = True

    def on_commit(committed: Session) -> None:
        committed.info[_UNWRITTEN] = False

    event.listen(sync, "do_orm_execute", on_execute)
    event.listen(sync, "after_flush", on_flush)
    event.listen(sync, "after_commit", on_commit)


async def _commit(session: AsyncSession) -> None:
    """Commit the request's work. When the transaction only read -- the usual case for a
    route whose write went to the case's workflow -- its commit loses nothing if it
    fails, so the failure must not turn a write that took effect into a 503 (issue
    18.3: a report the workflow had answered 503 when the database went down)."""
    try:
        await session.commit()
    except (OperationalError, DBAPIError, OSError):
        if session.sync_session.info.get(_UNWRITTEN):
            raise
        log.warning("commit of a read-only transaction failed; nothing was lost",
                    exc_info=True)
        with suppress(OperationalError, DBAPIError, OSError):
            await session.rollback()


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """The request is the unit of work: commit on success, roll back on error."""
    try:
        async with state.sessions() as session:
            _track_writes(session)
            try:
                yield session
                await _commit(session)
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
