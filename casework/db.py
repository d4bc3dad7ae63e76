"""One async engine per process and the unit-of-work session factory.

SQLAlchemy 2 async with asyncpg (PostgreSQL) or aiosqlite (embedded default): one code
path for both databases (DESIGN decision 7).

Every wait on the database is bounded (issue 18): a database that stops answering (a
frozen or overloaded server, a lock held too long) must cost a caller seconds and a 503,
never a request hanging for as long as the outage lasts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_

from casework.config import Settings


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long one wait on the database may take, in seconds (settings
    `DATABASE_*_TIMEOUT_SECONDS`)."""

    connect: float = 2.0
    """Opening a connection (TCP and the login handshake)."""
    statement: float = 5.0
    """One statement, lock waits included; on SQLite, how long a writer waits for the
    write lock (busy timeout)."""
    pool: float = 2.0
    """Waiting for a free connection of the pool."""

    @classmethod
    def of(cls, settings: Settings) -> DatabaseTimeouts:
        return cls(connect=settings.database_connect_timeout_seconds,
                   statement=settings.database_statement_timeout_seconds,
                   pool=settings.database_pool_timeout_seconds)


def make_engine(url: str, timeouts: DatabaseTimeouts | None = None) -> AsyncEngine:
    """Create the engine; SQLite gets WAL and a busy timeout because the worker's
    activities and the API write from several connections at once. PostgreSQL gets a
    connect timeout, a server-side `statement_timeout` (a statement stuck behind a lock
    is cancelled cleanly) and the same bound on the client side (asyncpg's
    `command_timeout`: a server that does not answer at all cannot cancel anything)."""
    bounds = timeouts or DatabaseTimeouts()
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": bounds.statement})
        busy_timeout_ms = max(1, int(bounds.statement * 1000))

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
            cursor.close()

        return engine
    engine = create_async_engine(
        url, pool_size=10, max_overflow=10, pool_timeout=bounds.pool,
        connect_args={
            "timeout": bounds.connect,
            "command_timeout": bounds.statement,
            "server_settings": {"statement_timeout": str(max(1, int(bounds.statement * 1000)))},
        })
    ping_when_idle(engine)
    return engine


IDLE_BEFORE_PING_SECONDS = 5.0
"""A pooled connection unused for longer than this is pinged before it is handed out."""

_CHECKED_IN_AT = "casework.checked_in_at"


def ping_when_idle(engine: AsyncEngine, idle_seconds: float = IDLE_BEFORE_PING_SECONDS
                   ) -> None:
    """Pessimistic disconnect handling that costs a busy service nothing (issue 13).

    SQLAlchemy's `pool_pre_ping` pings on every checkout, and on asyncpg outside
    autocommit a ping is three round trips (BEGIN, `;`, ROLLBACK): three of every
    request's round trips were pings of connections used milliseconds before. A
    connection that sat idle in the pool (a restarted or failed-over server, a firewall
    dropping quiet connections) is still pinged -- in one round trip, a `SELECT 1` in the
    simple query protocol -- and replaced by a fresh one if it does not answer (raising
    DisconnectionError in `checkout` makes the pool retry with a new connection). A
    connection that dies while in use fails its statement; SQLAlchemy then invalidates
    the whole pool, so one request answers 503 and the next ones reconnect."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _remember(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)
        if checked_in_at is None or time.monotonic() - checked_in_at <= idle_seconds:
            return  # new, or used moments ago
        try:
            await_(record.driver_connection.execute("SELECT 1"))
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError
                ) as error:
            raise exc.DisconnectionError(f"idle connection did not answer: {error}"
                                         ) from error


def engine_for(settings: Settings) -> AsyncEngine:
    """The engine of the read model named by `settings`, with their timeouts."""
    return make_engine(settings.effective_database_url, DatabaseTimeouts.of(settings))


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def make_autocommit_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose every statement commits on its own: no BEGIN and no COMMIT round
    trips (issue 13). For the API, whose requests mostly read one row before acting
    through Temporal, and whose few writes are each one statement (an insert-only
    upsert, an access-log row) or repeat-safe by key (notes): nothing there needs two
    statements to be atomic together. The worker's recordings, which do, keep
    `make_session_factory`."""
    return async_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"),
                              expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    """Raise if the database cannot answer a trivial query."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
