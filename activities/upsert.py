"""INSERT ... ON CONFLICT for both databases, so activities write by natural key and a
retry changes nothing twice (DESIGN "Activities ... idempotent")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


async def upsert(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    keys: Iterable[str],
    update: Iterable[str] | None = None,
) -> None:
    """Insert `rows`; on a key clash update the `update` columns (None: all non-key
    columns given; empty: leave the existing row as it is)."""
    if not rows:
        return
    key_list = list(keys)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(list(rows))
    columns = list(update) if update is not None else [c for c in rows[0] if c not in key_list]
    if columns:
        statement = statement.on_conflict_do_update(
            index_elements=key_list,
            set_={column: statement.excluded[column] for column in columns},
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=key_list)
    await session.execute(statement)
