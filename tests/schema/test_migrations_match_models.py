"""The read model is created only by Alembic migrations (issue 2): the migrated schema
must equal the SQLAlchemy models, on SQLite and on PostgreSQL, or the code and the
database would disagree on a column only one of them knows about (e.g. a status value
longer than its column, which SQLite accepts and PostgreSQL refuses)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from models.tables import Base


async def test_migrated_schema_has_no_difference_from_the_models(db_engine: AsyncEngine) -> None:
    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True})
        return list(compare_metadata(context, Base.metadata))

    async with db_engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []
