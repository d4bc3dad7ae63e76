"""One async engine per process and the unit-of-work session factory.

SQLAlchemy 2 async with asyncpg (PostgreSQL) or aiosqlite (embedded default): one code
path for both databases (DESIGN decision 7).

Every wait on the database is bounded (issue 18): a database that stops answering (a
frozen or overloaded server, a lock held too long) must cost a caller seconds and a 503,
never a request hanging for as long as the outage lasts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

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
    return create_async_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, pool_timeout=bounds.pool,
        connect_args={
            "timeout": bounds.connect,
            "command_timeout": bounds.statement,
            "server_settings": {"statement_timeout": str(max(1, int(bounds.statement * 1000)))},
        })


def engine_for(settings: Settings) -> AsyncEngine:
    """The engine of the read model named by `settings`, with their timeouts."""
    return make_engine(settings.effective_database_url, DatabaseTimeouts.of(settings))


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    """Raise if the database cannot answer a trivial query."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
