"""Issue 18, part 4 and the access log: a database that stops answering costs each call
seconds and a 503 naming the database, never a hang; writes made meanwhile still leave
their access-log record (in the fallback file); and a write's row is in the log before
it acts, so a crash while it acts cannot erase it.

PostgreSQL is frozen the way SIGSTOP freezes it, as clients see it: a relay on
127.0.0.1 (tests/frozen_database.py) that stops passing bytes on connections already in
the pool and on new ones. SQLite is "frozen" for writers by a connection holding its
write lock (its readers are not blocked, in WAL mode, and answer)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from casework.config import Settings
from casework.tokens import Role
from models.tables import AccessLogRow
from tests.api.conftest import (
    ApiClient,
    assert_problem,
    new_case_id,
    registration,
    running_app,
    temporal_address,
)
from tests.frozen_database import FreezableRelay
from tests.polling import eventually

CONNECT, STATEMENT, POOL = 1.0, 2.0, 1.0
BOUND_SECONDS = 2 * (CONNECT + STATEMENT) + 2
"""A frozen pooled connection costs the statement timeout (its ping) and a reconnection
the connect timeout; the access log's own attempt at most as much again; plus slack."""


def _bounded(settings: Settings, data_dir: Path, **update: object) -> Settings:
    return settings.model_copy(update={
        "database_connect_timeout_seconds": CONNECT,
        "database_statement_timeout_seconds": STATEMENT,
        "database_pool_timeout_seconds": POOL, "data_dir": data_dir, **update})


def _closure_day() -> dict[str, str]:
    """A closure in a jurisdiction no case uses: nothing to recompute, any day."""
    return {"jurisdiction": "AU-TAS", "day": date(2031, 7, 1).isoformat(),
            "name": f"outage drill {uuid.uuid4().hex[:6]}"}


def _fallback_lines(data_dir: Path) -> list[dict[str, object]]:
    path = data_dir / "access-log-fallback.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


async def _timed(client: ApiClient, method: str, path: str, **kwargs: object
                 ) -> tuple[int, dict[str, object], float]:
    started = time.monotonic()
    response = await asyncio.wait_for(client.request(method, path, **kwargs),  # type: ignore[arg-type]
                                      BOUND_SECONDS * 3)
    body = response.json() if response.content else {}
    return response.status_code, body, time.monotonic() - started


async def test_a_frozen_postgresql_answers_every_call_503_within_seconds(
    api_settings: Settings, database_url: str, is_postgres: bool, tmp_path: Path,
) -> None:
    if not is_postgres:
        pytest.skip("freezes a PostgreSQL server (SQLite: the write-lock test below)")
    server = make_url(database_url)
    relay = FreezableRelay(server.host or "127.0.0.1", server.port or 5432)
    async with relay.running():
        through_relay = server.set(host="127.0.0.1", port=relay.port).render_as_string(
            hide_password=False)
        settings = _bounded(api_settings, tmp_path, database_url=through_relay)
        async with running_app(settings) as api:
            subject = f"outage-{uuid.uuid4().hex[:8]}"
            client = api.as_role(Role.ADMIN, subject=subject)
            assert (await client.get("/cases")).status_code == 200  # a pooled connection
            relay.freeze()
            calls = [("GET", "/cases", {}), ("GET", f"/cases/{new_case_id()}", {}),
                     ("GET", "/notifications", {}), ("GET", "/tasks", {}),
                     ("GET", f"/cases/{new_case_id()}/timeline", {}),
                     ("POST", "/calendar/closures", {"json": _closure_day()})]
            answers = await asyncio.gather(*(_timed(client, method, path, **kwargs)
                                             for method, path, kwargs in calls))
            for (method, path, _), (status, body, seconds) in zip(calls, answers,
                                                                  strict=True):
                assert (status, body.get("component")) == (503, "database"), (path, body)
                assert seconds < BOUND_SECONDS, (method, path, seconds)
            # The write's access record went to the fallback file, not nowhere.
            [line] = [line for line in _fallback_lines(tmp_path)
                      if line["subject"] == subject and line["event"] == "finished"]
            assert (line["method"], line["path"], line["status_code"], line["outcome"],
                    line["action"]) == ("POST", "/calendar/closures", 503, "failed",
                                        "declare_closure_day")
            relay.thaw()

            async def recovered() -> None:
                assert (await client.get("/cases")).status_code == 200

            await eventually(recovered)


async def test_a_locked_sqlite_answers_writes_503_within_seconds_and_logs_them_aside(
    api_settings: Settings, database_url: str, is_postgres: bool, tmp_path: Path,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    if is_postgres:
        pytest.skip("SQLite's write lock (PostgreSQL: the frozen-server test above)")
    settings = _bounded(api_settings, tmp_path)
    database = make_url(database_url).database
    assert database is not None
    blocker = sqlite3.connect(database, timeout=1)
    try:
        async with running_app(settings) as api:
            subject = f"outage-{uuid.uuid4().hex[:8]}"
            client = api.as_role(Role.ADMIN, subject=subject)
            assert (await client.get("/cases")).status_code == 200  # in WAL mode now
            blocker.execute("BEGIN IMMEDIATE")  # holds the one write lock
            status, body, seconds = await _timed(client, "POST", "/calendar/closures",
                                                 json=_closure_day())
            assert (status, body.get("component")) == (503, "database"), body
            assert seconds < BOUND_SECONDS, seconds
            status, body, seconds = await _timed(client, "GET", "/cases")
            assert status == 200 and seconds < BOUND_SECONDS, body  # readers go on
            lines = [line for line in _fallback_lines(tmp_path) if line["subject"] == subject]
            assert [(line["event"], line["status_code"], line["outcome"]) for line in lines
                    ] == [("started", None, "started"), ("finished", 503, "failed")]
    finally:
        blocker.rollback()
        blocker.close()
    async with sessions() as session:
        assert (await session.scalars(select(AccessLogRow).where(
            AccessLogRow.subject == subject))).all() == []


async def test_a_write_is_in_the_access_log_before_it_acts(
    api_settings: Settings, temporal_env: WorkflowEnvironment, tmp_path: Path,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A registration held up in Temporal (which accepts the connection and never
    answers): while it acts, its row is already there, `started`, naming who and what
    -- what a crash at that moment would leave -- and the answer completes it."""
    host, port = temporal_address(temporal_env).rsplit(":", 1)
    silent = FreezableRelay(host, int(port))
    silent.freeze()
    async with silent.running():
        settings = _bounded(api_settings, tmp_path,
                            temporal_address=f"127.0.0.1:{silent.port}")
        async with running_app(settings) as api:
            subject = f"crash-{uuid.uuid4().hex[:8]}"
            client = api.as_role(Role.PRACTITIONER, subject=subject)
            case_id = new_case_id("crash")
            request = asyncio.create_task(client.post("/cases", json=registration(case_id)))

            async def started() -> AccessLogRow:
                async with sessions() as session:
                    rows = (await session.scalars(select(AccessLogRow).where(
                        AccessLogRow.subject == subject))).all()
                assert len(rows) == 1
                row = rows[0]
                assert (row.status_code, row.outcome, row.action, row.method, row.path) == (
                    None, "started", "register_case", "POST", "/cases")
                return row

            row = await eventually(started, timeout_seconds=8)
            assert not request.done()
            answer = await asyncio.wait_for(request, 30)
    assert assert_problem(answer, 503)["component"] == "temporal"
    async with sessions() as session:
        [done] = (await session.scalars(select(AccessLogRow).where(
            AccessLogRow.subject == subject))).all()
    assert (done.id, done.status_code, done.outcome) == (row.id, 503, "failed")
