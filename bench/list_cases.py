"""`GET /cases` at 100,000 cases: how each query shape compares with a primary-key
lookup measured in the same run, on SQLite (always) and PostgreSQL (when
TEST_DATABASE_URL is set; a throw-away database is created and dropped).

Prints ratios, not pass/fail: absolute times depend on the machine, ratios show which
shape misses an index (a ratio in the hundreds means a scan).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from api.listing import CaseFilters, case_list
from api.pagination import Cursor, encode_cursor, keyset_page
from casework.config import normalise_database_url
from casework.db import DatabaseTimeouts, make_engine, make_session_factory
from casework.migrate import upgrade_to_head_async
from models.tables import CaseRow

CASES = 100_000
AGENCIES = 200
PAGE = 50
REPEATS = 15
NOW = datetime(2026, 11, 24, tzinfo=UTC)


SNAPSHOT: dict[str, Any] = {
    "runs": 3, "end_reason": None, "ended_at": None, "endorsed_at": "2026-01-05T23:00:00Z",
    "reviews": [{"review_id": f"rev-{n}", "kind": "case_plan", "rule": "V1",
                 "status": "completed", "concern": None,
                 "requested_at": "2026-03-02T01:00:00Z", "due_at": "2026-03-30T13:00:00Z",
                 "reminded_at": None, "escalated_at": None, "held_at": None,
                 "changed": ["goals"]} for n in range(2)],
    "plan_versions": [{"version": n, "status": "endorsed",
                       "recorded_at": "2026-03-20T02:00:00Z"} for n in range(1, 4)],
    "contacts": {"count": 14, "last_contact_on": "2026-11-10",
                 "last_practitioner_meeting_on": "2026-10-28"},
}
"""A case's `snapshot` as a year-old case's record writes it (workflows/effects_builder.py
`case_summary`): what a list that loads whole rows decodes for each one."""


def _rows(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """A plausible population: most cases active with a deadline in the coming year, a
    few overdue, failing or under audit (the rare rows the filters look for)."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        status = rng.choices(["active", "awaiting_endorsement", "closing", "closed"],
                             [85, 5, 5, 5])[0]
        deadline = None
        if status == "active":
            deadline = NOW + timedelta(minutes=rng.randrange(365 * 24 * 60))
        failures = rng.choices([0, 1, 2, 3, 4], [85, 10, 3, 1, 1])[0]
        rows.append({
            "case_id": f"case-{index:06d}", "agency_id": f"agency-{rng.randrange(AGENCIES)}",
            "jurisdiction": "AU-VIC", "status": status,
            "workflow_id": f"case-contract-case-{index:06d}",
            "contract_start": date(2026, 1, 1), "contract_end": date(2027, 1, 1),
            "order_expiry": date(2027, 6, 1), "next_deadline": deadline,
            "next_deadline_kind": "follow_up" if deadline else None,
            "overdue": status == "active" and rng.random() < 0.03,
            "consecutive_failures": failures, "audit_open": rng.random() < 0.02,
            "terms_fingerprint": "0" * 64, "snapshot": SNAPSHOT, "created_at": NOW,
            "updated_at": NOW, "closed_at": None,
        })
    return rows


async def _fill(engine: AsyncEngine) -> None:
    rows = _rows(CASES)
    async with engine.begin() as connection:
        for start in range(0, len(rows), 5_000):
            await connection.execute(insert(CaseRow), rows[start:start + 5_000])
        await connection.execute(text("ANALYZE"))


async def _median_ms(action: Callable[[], Awaitable[Any]]) -> float:
    await action()  # warm the cache and the plan
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        await action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def _measure(engine: AsyncEngine) -> list[tuple[str, float]]:
    sessions = make_session_factory(engine)
    async with sessions() as session:
        deep_row = (await session.execute(
            select(CaseRow.next_deadline, CaseRow.case_id)
            .where(CaseRow.next_deadline.is_not(None))
            .order_by(CaseRow.next_deadline, CaseRow.case_id).offset(CASES // 2).limit(1)
        )).one()
    deep = Cursor(deep_row[0], deep_row[1])
    encode_cursor(deep.sort, deep.key)  # the cursor a client would hold at that depth

    async def page(session: AsyncSession, filters: CaseFilters,
                   cursor: Cursor | None = None) -> None:
        await keyset_page(session, case_list(filters), CaseRow.next_deadline, CaseRow.case_id,
                          cursor, PAGE, nullable=True)

    shapes: list[tuple[str, Callable[[AsyncSession], Awaitable[Any]]]] = [
        ("primary-key lookup (baseline)",
         lambda s: s.execute(select(CaseRow).where(CaseRow.case_id == "case-054321"))),
        ("first page, no filter", lambda s: page(s, CaseFilters())),
        ("deep page (row 50,000), no filter", lambda s: page(s, CaseFilters(), deep)),
        ("agency_id", lambda s: page(s, CaseFilters(agency_id="agency-17"))),
        ("agency_id, deep page", lambda s: page(s, CaseFilters(agency_id="agency-17"), deep)),
        ("status=active", lambda s: page(s, CaseFilters(status="active"))),
        ("overdue=true", lambda s: page(s, CaseFilters(overdue=True))),
        ("min_consecutive_failures=3",
         lambda s: page(s, CaseFilters(min_consecutive_failures=3))),
        ("audit_open=true", lambda s: page(s, CaseFilters(audit_open=True))),
        ("deadline_before=+30 days",
         lambda s: page(s, CaseFilters(deadline_before=NOW + timedelta(days=30)))),
        ("agency_id + overdue=true",
         lambda s: page(s, CaseFilters(agency_id="agency-17", overdue=True))),
    ]
    results = []
    async with sessions() as session:
        for name, shape in shapes:
            results.append((name, await _median_ms(lambda shape=shape: shape(session))))
    return results


SEEDING_TIMEOUTS = DatabaseTimeouts(connect=10.0, statement=600.0, pool=10.0)
"""Seeding 100,000 cases takes statements far longer than a request may (issue 18's
bounds are for serving calls, not for bulk loads)."""


@asynccontextmanager
async def _sqlite() -> AsyncIterator[AsyncEngine]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade_to_head_async(url)
        engine = make_engine(url, SEEDING_TIMEOUTS)
        try:
            yield engine
        finally:
            await engine.dispose()


@asynccontextmanager
async def _postgres(server: str) -> AsyncIterator[AsyncEngine]:
    base = make_url(normalise_database_url(server))
    name = f"casework_bench_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url, SEEDING_TIMEOUTS)
    try:
        await upgrade_to_head_async(url)
        yield engine
    finally:
        await engine.dispose()
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def postgres_server(benchmark: str) -> str | None:
    """TEST_DATABASE_URL when it names a PostgreSQL server; else None, having said that
    `benchmark` is skipped."""
    server = os.environ.get("TEST_DATABASE_URL")
    if server and not server.startswith("sqlite"):
        return server
    print(f"\n{benchmark}: skipped (set TEST_DATABASE_URL to a PostgreSQL server)")
    return None


def _print(database: str, results: list[tuple[str, float]]) -> None:
    baseline = results[0][1]
    print(f"\nGET /cases at {CASES:,} cases on {database} "
          f"(median of {REPEATS}; {PAGE} per page)")
    print(f"  {'query shape':<40} {'x baseline':>10}")
    for name, ms in results:
        print(f"  {name:<40} {ms / baseline:>10.1f}")
    print(f"  (baseline: {baseline:.3f} ms)")


async def run() -> None:
    targets: list[tuple[str, Any]] = [("SQLite", _sqlite())]
    server = os.environ.get("TEST_DATABASE_URL")
    if server and not server.startswith("sqlite"):
        targets.append(("PostgreSQL", _postgres(server)))
    for database, target in targets:
        async with target as engine:
            await _fill(engine)
            _print(database, await _measure(engine))


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
