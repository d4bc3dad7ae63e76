"""The REST API beside the raw Temporal client, in the same run on the same stack (issue
13): `casework dev` (dev server on its SQLite file, one worker, the API under uvicorn,
the read model on SQLite), driven by `CONCURRENCY` clients at once.

- registration: `POST /cases` then `POST /cases/{id}/endorsement` through HTTP, beside
  the same start and `endorse` update sent with the service's own Temporal client
  (codec, signed caller envelope) -- what the API adds is authentication, validation,
  the access log and its reads of the read model;
- report submission: `POST /cases/{id}/reports` beside the `submit_report` update.

Run twice when TEST_DATABASE_URL names a PostgreSQL server: with the read model on the
embedded SQLite file (one writer: the API's access-log rows queue behind the worker's
recordings), then on a throw-away PostgreSQL database, as production runs.

Prints operations per second and p50/p99 latency of each, and the API's ratio to the raw
client (throughput, p99). `API_BENCH_CASES` sets how many cases each way (default 100).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from temporalio.client import Client

from bench.list_cases import _postgres
from casework.caller_envelope import CallerIdentity
from casework.cli import issue_dev_token
from casework.codec import codec_for_settings
from casework.config import Settings
from casework.processes import free_port
from casework.temporal_client import client_options
from models.messages import EndorseContract, SubmitReport
from tests.api.dates import endorsement_body, registration_body
from tests.e2e.test_dev_stack import _start, _stop, _wait_ready
from tests.workflows.conftest import endorsement_for, make_terms
from workflows.case_contract import CaseContractInput, CaseContractWorkflow, workflow_id_for

CASES = int(os.environ.get("API_BENCH_CASES", "100"))
CONCURRENCY = 10


async def _timed(count: int, operation: Callable[[int], Awaitable[None]]
                 ) -> tuple[float, list[float]]:
    """(operations per second, each operation's seconds), CONCURRENCY at a time."""
    gate = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []

    async def one(index: int) -> None:
        async with gate:
            began = time.perf_counter()
            await operation(index)
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(one(index) for index in range(count)))
    return count / (time.perf_counter() - began), latencies


def _p(latencies: list[float], quantile: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000


async def run(count: int = CASES) -> None:
    await _run_on("the read model on SQLite (embedded default)", None, count)
    server = os.environ.get("TEST_DATABASE_URL")
    if server and not server.startswith("sqlite"):
        async with _postgres(server) as engine:
            await engine.dispose()  # the stack's own engine does the work
            await _run_on("the read model on PostgreSQL",
                          engine.url.render_as_string(hide_password=False), count)


async def _run_on(read_model: str, database_url: str | None, count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        ports = {"api": free_port(), "temporal": free_port(), "ui": free_port()}
        api = f"http://127.0.0.1:{ports['api']}"
        # `casework dev`, as the end-to-end tests run it (its output read as it comes).
        stack = _start(data_dir, ports, database_url=database_url)
        try:
            await asyncio.to_thread(_wait_ready, api, stack, 120)
            settings = Settings(data_dir=data_dir)
            token = issue_dev_token(settings, ["admin"], subject="bench")
            temporal = await Client.connect(
                f"127.0.0.1:{ports['temporal']}", **client_options(
                    codec_for_settings(settings),
                    default_caller=CallerIdentity("bench", ("admin",), None)))
            results = await _measure(api, token, temporal, settings.temporal_task_queue,
                                     count)
        finally:
            await asyncio.to_thread(_stop, stack)
    print(f"\nREST API vs the raw Temporal client: {count} cases each, {CONCURRENCY} "
          f"clients at once, casework dev, {read_model}")
    print(f"  {'operation':<36} {'per s':>7} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'x raw/s':>8} {'x raw p99':>10}")
    for name in ("register + endorse", "report submission"):
        raw_rate, raw_latencies = results[f"raw {name}"]
        for way in ("raw", "api"):
            rate, latencies = results[f"{way} {name}"]
            label = f"{name} ({'Temporal client' if way == 'raw' else 'HTTP'})"
            print(f"  {label:<36} {rate:>7.1f} {_p(latencies, .5):>8.0f} "
                  f"{_p(latencies, .99):>8.0f} {rate / raw_rate:>8.2f} "
                  f"{_p(latencies, .99) / _p(raw_latencies, .99):>10.2f}")


async def _measure(api: str, token: str, temporal: Client, task_queue: str, count: int
                   ) -> dict[str, tuple[float, list[float]]]:
    today = datetime.now(UTC).date()
    run_id = uuid.uuid4().hex[:6]
    results: dict[str, tuple[float, list[float]]] = {}
    async with httpx.AsyncClient(base_url=api, timeout=60, headers={
            "Authorization": f"Bearer {token}"}) as http:

        async def api_register(index: int) -> None:
            case_id = f"api-{run_id}-{index}"
            created = await http.post("/cases", json=registration_body(case_id, today))
            assert created.status_code == 201, created.text
            endorsed = await http.post(f"/cases/{case_id}/endorsement",
                                       json=endorsement_body(today))
            assert endorsed.status_code == 200, endorsed.text

        async def api_report(index: int) -> None:
            answer = await http.post(f"/cases/api-{run_id}-{index}/reports",
                                     json={"report_id": f"rep-{index}"})
            assert answer.status_code == 201, answer.text

        async def raw_register(index: int) -> None:
            terms = make_terms(f"raw-{run_id}-{index}", today, agency_id="agency-api")
            handle = await temporal.start_workflow(
                CaseContractWorkflow.run, CaseContractInput(terms),
                id=workflow_id_for(terms.case_id), task_queue=task_queue)
            await handle.execute_update(CaseContractWorkflow.endorse,
                                        EndorseContract(endorsement_for(terms, today)))

        async def raw_report(index: int) -> None:
            handle = temporal.get_workflow_handle_for(
                CaseContractWorkflow.run, workflow_id_for(f"raw-{run_id}-{index}"))
            await handle.execute_update(CaseContractWorkflow.submit_report,
                                        SubmitReport(report_id=f"rep-{index}"))

        # Warm both paths, then alternate so neither has the quieter machine.
        await _timed(5, lambda i: raw_register(count + i))
        await _timed(5, lambda i: api_register(count + i))
        results["raw register + endorse"] = await _timed(count, raw_register)
        results["api register + endorse"] = await _timed(count, api_register)
        results["raw report submission"] = await _timed(count, raw_report)
        results["api report submission"] = await _timed(count, api_report)
    return results


def main(count: int = CASES) -> None:
    asyncio.run(run(count))


if __name__ == "__main__":
    main()
