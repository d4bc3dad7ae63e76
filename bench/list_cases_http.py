"""`GET /cases` with filters at 100,000 cases on PostgreSQL, through HTTP (issue 13).

`casework api` (uvicorn, its own process) on a throw-away PostgreSQL database filled by
bench/list_cases.py, driven by `CONCURRENCY` clients at once. Baselines measured in the
same run, against the same process: `GET /healthz` (HTTP, authentication-free, no
database) and `GET /cases/{id}/timeline` (one case's rows by key: `GET /cases/{id}`
asks the workflow, and no Temporal runs here). Then each filter's SQL -- as the
API sends it, captured from its own query code -- under `EXPLAIN ANALYZE`, to show
which index serves it.

Needs TEST_DATABASE_URL (a PostgreSQL server); prints figures, never pass/fail.
`HTTP_LIST_REQUESTS` sets requests per shape (default 400). The load comes from
ApacheBench (`ab`, Debian's apache2-utils) when it is installed -- a C client, so the
figures are the server's -- else from httpx in this process, whose own CPU share (on
the same cores as the server) lengthens every tail.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from api.listing import CaseFilters, case_list
from api.pagination import keyset_page
from bench.list_cases import NOW, _fill, _postgres, postgres_server
from casework.cli import issue_dev_token
from casework.config import Settings
from casework.db import make_session_factory
from casework.processes import free_port
from models.tables import CaseRow

CONCURRENCY = 10
REQUESTS = int(os.environ.get("HTTP_LIST_REQUESTS", "400"))
DEADLINE_BEFORE = (NOW + timedelta(days=30)).isoformat()

SHAPES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET /healthz (baseline: HTTP, no database)", "/healthz", {}),
    ("GET /cases/{id}/timeline (baseline: by key)", "/cases/case-054321/timeline", {}),
    ("no filter", "/cases", {}),
    ("agency_id", "/cases", {"agency_id": "agency-17"}),
    ("status=active", "/cases", {"status": "active"}),
    ("overdue=true", "/cases", {"overdue": "true"}),
    ("min_consecutive_failures=3", "/cases", {"min_consecutive_failures": "3"}),
    ("audit_open=true", "/cases", {"audit_open": "true"}),
    ("deadline_before=+30 days", "/cases", {"deadline_before": DEADLINE_BEFORE}),
    ("agency_id + overdue=true", "/cases", {"agency_id": "agency-17", "overdue": "true"}),
]

FILTERS: list[tuple[str, CaseFilters]] = [
    ("no filter", CaseFilters()),
    ("agency_id", CaseFilters(agency_id="agency-17")),
    ("status=active", CaseFilters(status="active")),
    ("overdue=true", CaseFilters(overdue=True)),
    ("min_consecutive_failures=3", CaseFilters(min_consecutive_failures=3)),
    ("audit_open=true", CaseFilters(audit_open=True)),
    ("deadline_before=+30 days", CaseFilters(deadline_before=NOW + timedelta(days=30))),
    ("agency_id + overdue=true", CaseFilters(agency_id="agency-17", overdue=True)),
]


@contextmanager
def _api(database_url: str, data_dir: Path) -> Iterator[str]:
    """`casework api` on its own port; stopped (and waited for) on leaving."""
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(data_dir), "DATABASE_URL": database_url,
           "API_PORT": str(port), "API_HOST": "127.0.0.1"}
    process = subprocess.Popen([sys.executable, "-m", "casework.cli", "api"], env=env,
                               cwd=data_dir, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError("casework api exited")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("casework api did not answer /healthz")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _load(client: httpx.AsyncClient, path: str, params: dict[str, Any]
                ) -> tuple[float, float, float]:
    """(requests per second, p50 ms, p99 ms) of `REQUESTS` calls, CONCURRENCY at once."""
    latencies: list[float] = []
    remaining = iter(range(REQUESTS))

    async def worker() -> None:
        for _ in remaining:
            began = time.perf_counter()
            response = await client.get(path, params=params)
            latencies.append(time.perf_counter() - began)
            if response.status_code != 200:
                raise RuntimeError(f"{path} {params}: {response.status_code} {response.text}")

    for _ in range(20):  # warm the pool, the plans and the statement caches
        await client.get(path, params=params)
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)

    def at(quantile: float) -> float:
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000

    return REQUESTS / elapsed, at(0.5), at(0.99)


def _load_ab(base: str, path: str, params: dict[str, Any], token: str
             ) -> tuple[float, float, float]:
    """`_load`'s figures from ApacheBench: (requests per second, p50 ms, p99 ms)."""
    url = f"{base}{path}" + (f"?{urlencode(params)}" if params else "")
    common = ["ab", "-q", "-c", str(CONCURRENCY), "-H", f"Authorization: Bearer {token}"]
    subprocess.run([*common, "-n", "50", url], capture_output=True, check=True)  # warm
    report = subprocess.run([*common, "-n", str(REQUESTS), url], capture_output=True,
                            text=True, check=True).stdout
    if "Non-2xx responses" in report or "Failed requests:        0" not in report:
        raise RuntimeError(f"{url}: not every answer was 200:\n{report}")
    per_second = float(re.search(r"Requests per second:\s+([\d.]+)", report).group(1))  # type: ignore[union-attr]
    percent = dict(re.findall(r"^\s+(\d+)%\s+(\d+)", report, re.M))
    return per_second, float(percent["50"]), float(percent["99"])


async def _plans(engine: AsyncEngine) -> list[tuple[str, list[str]]]:
    """Each filter's first-page SQL, captured as the API's own code sends it, explained."""
    sessions = make_session_factory(engine)
    plans: list[tuple[str, list[str]]] = []
    for name, filters in FILTERS:
        sent: list[tuple[str, Any]] = []

        def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any,
                    into: list[tuple[str, Any]] = sent) -> None:
            into.append((statement, parameters))

        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        try:
            async with sessions() as session:
                await keyset_page(session, case_list(filters), CaseRow.next_deadline,
                                  CaseRow.case_id, None, 50, nullable=True)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", capture)
        lines: list[str] = []
        async with engine.connect() as connection:
            for statement, parameters in sent:
                result = await connection.exec_driver_sql(
                    f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {statement}", parameters)
                lines.extend(str(row[0]) for row in result)
                lines.append("--")
        plans.append((name, lines))
    return plans


async def run() -> None:
    server = postgres_server("GET /cases through HTTP")
    if server is None:
        return
    async with _postgres(server) as engine:
        await _fill(engine)
        url = engine.url.render_as_string(hide_password=False)
        with tempfile.TemporaryDirectory() as folder, _api(url, Path(folder)) as base:
            token = issue_dev_token(Settings(data_dir=Path(folder)), ["admin"],
                                    subject="bench")
            async with httpx.AsyncClient(
                    base_url=base, headers={"Authorization": f"Bearer {token}"},
                    timeout=30, limits=httpx.Limits(max_connections=CONCURRENCY)) as client:
                if shutil.which("ab"):
                    generator = "ApacheBench"
                    results = [(name, *_load_ab(base, path, params, token))
                               for name, path, params in SHAPES]
                else:
                    generator = "httpx in the benchmark's process"
                    results = [(name, *await _load(client, path, params))
                               for name, path, params in SHAPES]
        plans = await _plans(engine)
    healthz_p99 = results[0][3]
    key_p99 = results[1][3]
    print(f"\nGET /cases at 100,000 cases on PostgreSQL through HTTP (`casework api`, "
          f"{CONCURRENCY} clients, {REQUESTS} requests per shape, load from {generator})")
    print(f"  {'request':<46} {'per s':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'p99 x healthz':>13} {'p99 x key':>9}")
    for name, per_second, p50, p99 in results:
        print(f"  {name:<46} {per_second:>7.0f} {p50:>7.1f} {p99:>7.1f} "
              f"{p99 / healthz_p99:>13.1f} {p99 / key_p99:>9.1f}")
    print("\nEXPLAIN ANALYZE of each filter's first page, as the API sends it:")
    for name, lines in plans:
        print(f"  {name}:")
        for line in lines:
            print(f"      {line}")


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
