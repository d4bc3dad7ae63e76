"""Shared fixtures: a migrated database (PostgreSQL when TEST_DATABASE_URL/DATABASE_URL
points to one, SQLite otherwise) and Temporal servers started from the installed wheels,
never downloaded, always stopped."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from casework.config import normalise_database_url
from casework.db import make_engine, make_session_factory
from casework.migrate import upgrade_to_head_async


def _server_url() -> str | None:
    raw = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    return normalise_database_url(raw) if raw else None


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A fresh, migrated database for this test run. On PostgreSQL a throw-away database
    is created beside the configured one and dropped at the end."""
    server = _server_url()
    if server is None or server.startswith("sqlite"):
        path: Path = tmp_path_factory.mktemp("db") / "casework.db"
        url = f"sqlite+aiosqlite:///{path}"
        await upgrade_to_head_async(url)
        yield url
        return
    base = make_url(server)
    name = f"casework_test_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade_to_head_async(url)
        yield url
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(scope="session")
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessions(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(db_engine)


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture
def unique_id() -> Iterator[str]:
    yield uuid.uuid4().hex[:12]
