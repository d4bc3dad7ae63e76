"""Issue 15 (5): the cluster's topology on one machine. One Temporal dev server, one
PostgreSQL database, two worker processes and two API processes (subprocesses on free
ports, configured by environment variables alone, as in a deployment); cases are driven
through both APIs, one worker is killed (SIGKILL) while they are in flight, and every
case's schedule, notice and report lands exactly once.

Real time, like the API tests: contracts start today (tests/api/dates.py), so what
lands during the run is what registration, endorsement and a report produce -- the
periods and their deadlines (R1-R3 instants), the C6 contract copies, the report (R4)
-- not timers firing months ahead (those are the time-skipping tests' business).
Bounded: every wait has a limit, and every process started here is stopped here."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from casework.config import Settings
from casework.tokens import Role, load_or_create_local_key
from tests.api.conftest import endorsement, registration, temporal_address, token_for
from tests.polling import eventually
from tests.webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.e2e

REPOSITORY = Path(__file__).resolve().parents[2]
CASES = 6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def process(name: str, command: list[str], env: dict[str, str], logs: Path
                  ) -> AsyncIterator[asyncio.subprocess.Process]:
    """A child process for the block, its output in `logs/name.log`; stopped after
    (SIGTERM, then SIGKILL after ten seconds), whatever happened."""
    with (logs / f"{name}.log").open("wb") as log:
        child = await asyncio.create_subprocess_exec(
            *command, cwd=REPOSITORY, env=env, stdout=log, stderr=log)
        try:
            yield child
        finally:
            if child.returncode is None:
                child.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(child.wait(), 10)
                except TimeoutError:
                    child.kill()
                    await child.wait()


async def drive(apis: list[httpx.AsyncClient], index: int) -> str:
    """Register and endorse through one API, submit the report through the other."""
    case_id = f"scale-{index}-{uuid.uuid4().hex[:8]}"
    first, other = apis[index % 2], apis[(index + 1) % 2]
    created = await first.post("/cases", json=registration(case_id, "agency-scale"))
    assert created.status_code == 201, created.text
    endorsed = await first.post(f"/cases/{case_id}/endorsement", json=endorsement())
    assert endorsed.status_code == 200, endorsed.text
    report = await other.post(f"/cases/{case_id}/reports", json={"report_id": f"rep-{index}"})
    assert report.status_code in (200, 201), report.text
    return case_id


async def test_two_workers_two_apis_one_worker_killed_everything_lands_once(
        temporal_env: WorkflowEnvironment, base_settings: Settings, is_postgres: bool,
        tmp_path: Path) -> None:
    if not is_postgres:
        pytest.skip("the cluster topology shares one PostgreSQL database "
                    "(set TEST_DATABASE_URL)")
    load_or_create_local_key(base_settings.local_signing_key_file)  # the APIs' key
    queue = f"scale-out-{uuid.uuid4().hex[:8]}"
    with webhook_receiver() as receiver:
        common = {**os.environ, "TEMPORAL_ADDRESS": temporal_address(temporal_env),
                  "TEMPORAL_TASK_QUEUE": queue,
                  "DATABASE_URL": base_settings.database_url or "",
                  "CODEC_KEYS": base_settings.codec_keys or "",
                  "DATA_DIR": str(base_settings.data_dir),
                  "NOTIFICATION_WEBHOOK_URL": receiver.url,
                  "NOTIFICATION_RETRY_SECONDS": "1", "LOG_FORMAT": "json"}
        ports = [free_port(), free_port()]
        worker = [sys.executable, "-m", "worker"]
        api = [sys.executable, "-c", "from casework.cli import main; main(['api'])"]
        async with (process("worker-1", worker, common, tmp_path) as doomed,
                    process("worker-2", worker, common, tmp_path),
                    process("api-1", api, {**common, "API_PORT": str(ports[0])}, tmp_path),
                    process("api-2", api, {**common, "API_PORT": str(ports[1])}, tmp_path)):
            token = token_for(base_settings, Role.ADMIN, subject="scale-out-admin")
            clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30,
                                         headers={"Authorization": f"Bearer {token}"})
                       for port in ports]
            try:
                await asyncio.wait_for(_scenario(clients, doomed, receiver), 150)
            finally:
                for client in clients:
                    await client.aclose()


async def _scenario(apis: list[httpx.AsyncClient], doomed: asyncio.subprocess.Process,
                    receiver: Receiver) -> None:
    for api in apis:
        async def ready(api: httpx.AsyncClient = api) -> None:
            try:
                answer = await api.get("/readyz")
            except httpx.TransportError as exc:
                raise AssertionError(f"not listening yet: {exc}") from exc
            assert answer.status_code == 200, answer.text

        await eventually(ready, timeout_seconds=60)

    # Half the cases first, then kill one worker while the other half is in flight.
    case_ids = list(await asyncio.gather(*(drive(apis, i) for i in range(CASES // 2))))
    rest = [asyncio.create_task(drive(apis, i)) for i in range(CASES // 2, CASES)]
    await asyncio.sleep(0.3)
    doomed.kill()  # SIGKILL: no goodbye to Temporal
    await doomed.wait()
    case_ids += await asyncio.gather(*rest)

    async def all_landed() -> dict[str, list[dict[str, object]]]:
        notices: dict[str, list[dict[str, object]]] = {}
        for index, case_id in enumerate(case_ids):
            case = (await apis[index % 2].get(f"/cases/{case_id}")).json()
            assert case["status"] == "active", case
            periods = case["periods"]
            assert [p["index"] for p in periods] == [0, 1, 2, 3], periods
            assert [r["report_id"] for r in periods[0]["reports"]] == [f"rep-{index}"]
            page = (await apis[(index + 1) % 2].get(
                "/notifications", params={"case_id": case_id, "limit": 100})).json()
            assert page["items"] and all(n["delivered_at"] for n in page["items"]), page
            notices[case_id] = page["items"]
        return notices

    notices = await eventually(all_landed, timeout_seconds=90)
    await asyncio.sleep(1.5)  # a late duplicate from a redelivery round would land now
    for items in notices.values():
        keys = [str(n["notification_key"]) for n in items]
        assert len(set(keys)) == len(keys)
        assert any("contract_copy" in key for key in keys), keys  # C6, at endorsement
        # Every notice reached the endpoint, and no POST went uncounted on its row. A
        # worker killed between a POST and recording it makes the one resend the outbox
        # allows (activities/notifications.py), under the same Idempotency-Key, so a
        # receiver that keeps the keys it has seen takes each notice exactly once.
        attempts = {str(n["notification_key"]): int(str(n["attempts"])) for n in items}
        for key in keys:
            assert 1 <= receiver.posts[key] <= min(attempts[key], 2), (key, attempts)
