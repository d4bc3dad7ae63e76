"""Issue 13, item 4: database round trips per request -- at most four for a write, two
for a read -- counted on PostgreSQL's wire (tests/round_trip_proxy.py), so a pool
ping, a BEGIN or a COMMIT counts as much as a statement.

A write's four: the access log's row before acting and its completion (issue 18), and
what the route itself must read or write. The counts are of a warm service: each pooled
connection has prepared its statements once (a first use costs one more round trip per
statement), and no connection has sat idle long enough to be pinged
(casework/db.py `ping_when_idle`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date

import httpx
import pytest
from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from casework.config import Settings
from casework.db import make_autocommit_session_factory, make_engine, ping_when_idle
from tests.api.conftest import (
    ApiClient,
    endorsement,
    new_case_id,
    registration,
    running_app,
    today,
    wait_idle,
)
from tests.round_trip_proxy import RoundTripProxy, round_trip_proxy

WRITE_LIMIT = 4
READ_LIMIT = 2


@pytest.fixture(scope="module")
async def proxy(database_url: str, is_postgres: bool) -> AsyncIterator[RoundTripProxy]:
    if not is_postgres:
        pytest.skip("round trips are counted on PostgreSQL's wire protocol")
    async with round_trip_proxy(database_url) as running:
        yield running


@pytest.fixture(scope="module")
async def counted_api(api_settings: Settings, proxy: RoundTripProxy, api_worker: Worker,
                      temporal_env: WorkflowEnvironment) -> AsyncIterator[ApiClient]:
    """The app with its database behind the proxy; the worker's is not (its recordings
    are not the request's round trips)."""
    settings = api_settings.model_copy(
        update={"database_url": proxy.url_for(api_settings.database_url)})
    async with running_app(settings, temporal_env.client) as client:
        yield client


Counted = dict[str, tuple[int, list[str], int]]
"""Request name -> (round trips, what each asked, statements the app executed)."""


async def _one_case_through(api: ApiClient, proxy: RoundTripProxy, day: date,
                            statements: list[int] | None = None) -> Counted:
    """Register, endorse, report, assess, record a contact, then read: each request's
    status checked, its round trips returned by name (and its statements, when
    `statements` is a counter the caller's engine listener adds to)."""
    case_id = new_case_id("trips")
    counted: Counted = {}
    said = statements if statements is not None else [0]

    async def count(name: str, status: int,
                    call: Callable[[], Awaitable[httpx.Response]]) -> None:
        proxy.reset()
        proxy.trace = []
        said[0] = 0
        response = await call()
        assert response.status_code == status, (name, response.text)
        counted[name] = (proxy.round_trips, proxy.trace, said[0])

    await count("POST /cases", 201,
                lambda: api.post("/cases", json=registration(case_id)))
    await count("POST endorsement", 200,
                lambda: api.post(f"/cases/{case_id}/endorsement", json=endorsement(day)))
    await wait_idle(api, case_id)
    await count("POST reports", 201,
                lambda: api.post(f"/cases/{case_id}/reports", json={"report_id": "rep-1"}))
    await wait_idle(api, case_id)
    await count("POST assessment", 200, lambda: api.post(
        f"/cases/{case_id}/reports/rep-1/assessment",
        json={"assessment": "adequate", "assessed_by": "cp-1"}))
    await count("POST contacts", 201, lambda: api.post(f"/cases/{case_id}/contacts", json={
        "contact_id": "c-1", "occurred_on": day.isoformat(), "kind": "home_visit",
        "by_role": "practitioner", "by": "cp-1"}))
    await wait_idle(api, case_id)
    await count("GET /cases", 200,
                lambda: api.get("/cases", params={"status": "active", "limit": 5}))
    await count("GET /cases/{id}", 200, lambda: api.get(f"/cases/{case_id}"))
    await count("GET timeline", 200, lambda: api.get(f"/cases/{case_id}/timeline"))
    return counted


async def test_a_write_costs_at_most_four_round_trips_and_a_read_two(
        counted_api: ApiClient, proxy: RoundTripProxy) -> None:
    day = today()
    # Warm: every pooled connection prepares each statement once.
    for _ in range(2):
        await _one_case_through(counted_api, proxy, day)
    counted = await _one_case_through(counted_api, proxy, day)
    over = {name: (trips, trace) for name, (trips, trace, _) in counted.items()
            if trips > (READ_LIMIT if name.startswith("GET") else WRITE_LIMIT)}
    assert not over, over
    # The access log's two rows are there: a write that costs fewer than two round
    # trips would have lost them.
    assert all(trips >= 2 for name, (trips, _, _) in counted.items()
               if name.startswith("POST")), counted


async def test_a_connection_idle_in_the_pool_is_pinged_once_and_a_dead_one_replaced(
        database_url: str, proxy: RoundTripProxy) -> None:
    """casework/db.py `ping_when_idle`: a connection used moments ago is handed out as
    it is; one idle longer than the bound is pinged first, in one round trip; one the
    server has dropped meanwhile is replaced, and the request never sees it."""
    engine = make_engine(proxy.url_for(database_url))
    ping_when_idle(engine, idle_seconds=0.3)  # a second, shorter bound for this test
    sessions = make_autocommit_session_factory(engine)

    async def select_backend() -> int:
        async with sessions() as session:
            return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())

    try:
        first = await select_backend()
        proxy.reset()
        assert await select_backend() == first
        assert proxy.round_trips == 1  # used moments ago: no ping, no BEGIN, no COMMIT
        await asyncio.sleep(0.5)
        proxy.reset()
        assert await select_backend() == first
        assert proxy.round_trips == 2  # idle: the ping, then the statement
        admin = make_engine(database_url)
        try:
            async with admin.connect() as connection:
                await connection.execute(text("SELECT pg_terminate_backend(:pid)"),
                                         {"pid": first})
        finally:
            await admin.dispose()
        await asyncio.sleep(0.5)
        assert await select_backend() != first
    finally:
        await engine.dispose()
