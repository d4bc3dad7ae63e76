"""Real processes for the fault suite (issue 16): the service's worker and API, and the
Temporal dev server on a file, each a child process the test can SIGKILL and start
again. Every one started here is stopped by the context manager that started it (and
dies with the test process if that is killed: `processes._die_with_parent`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casework import processes
from casework.config import Settings
from casework.processes import free_port, venv_binary
from models.tables import NotificationRow
from tests.api.conftest import endorsement, new_case_id, registration

REPOSITORY = Path(__file__).resolve().parents[2]


class Child:
    """One child process in its own session, its output in a log file; `kill()` is
    SIGKILL to its whole group (no goodbye), `stop()` the polite way, then SIGKILL."""

    def __init__(self, args: list[str], env: Mapping[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, dict(env), log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.args, cwd=REPOSITORY, env=self.env, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=processes._die_with_parent)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None:
            processes.stop(self.process, timeout_seconds=10)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def service_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a `casework` process reads its settings from: the test's."""
    env = {**os.environ,
           "TEMPORAL_ADDRESS": settings.temporal_address or "",
           "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
           "DATABASE_URL": settings.database_url or "",
           "CODEC_KEYS": settings.codec_keys or "",
           "DATA_DIR": str(settings.data_dir)}
    env.update(extra)
    return env


async def sleep_until(instant: datetime) -> None:
    """Wait on the real clock until `instant` (the fault suite runs real servers in real
    time, with deadlines moved seconds ahead: `deadlines_at`)."""
    await asyncio.sleep(max(0.0, (instant - datetime.now(UTC)).total_seconds()))


def deadlines_at(file: Path, *seconds_ahead: float) -> list[datetime]:
    """R1, R2, R3 instants that many seconds from now, written where the fault worker
    reads them (FAULT_DEADLINES_FILE)."""
    now = time.time()
    instants = [now + s for s in seconds_ahead]
    file.write_text(",".join(f"{t:.3f}" for t in instants))
    return [datetime.fromtimestamp(t, UTC) for t in instants]


async def wait_for_line(child: Child, line: str, timeout_seconds: float = 60) -> None:
    deadline = time.monotonic() + timeout_seconds
    while line not in child.log_text().splitlines():
        assert child.process is not None
        if child.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"no {line!r} from {child.args}:\n{child.log_text()[-3000:]}")
        await asyncio.sleep(0.2)


@asynccontextmanager
async def worker_process(settings: Settings, log: Path, **extra_env: str
                         ) -> AsyncIterator[Child]:
    """tests/faults/fault_worker.py, started and polling; stopped after the block."""
    child = Child([sys.executable, "-m", "tests.faults.fault_worker"],
                  service_env(settings, **extra_env), log)
    try:
        child.start()
        await wait_for_line(child, "ready")
        yield child
    finally:
        child.stop()


async def restart_worker(child: Child) -> None:
    """The same worker again, after it died."""
    child.start()
    await wait_for_line(child, "ready")


class DevServer:
    """`temporal server start-dev --db-filename FILE` on a fixed port, so a server
    killed with SIGKILL can be started again on the same file and address."""

    def __init__(self, db_file: Path, log: Path) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.child = Child([str(venv_binary("temporal")), "server", "start-dev",
                            "--db-filename", str(db_file), "--ip", "127.0.0.1",
                            "--port", str(self.port), "--http-port", str(free_port()),
                            "--metrics-port", str(free_port()), "--headless",
                            "--log-level", "error"], os.environ, log)

    def start(self) -> None:
        self.child.start()
        assert self.child.process is not None
        processes.wait_for_port("127.0.0.1", self.port, 60, self.child.process)


@contextmanager
def dev_server(db_file: Path, log: Path) -> Iterator[DevServer]:
    server = DevServer(db_file, log)
    try:
        server.start()
        yield server
    finally:
        server.child.stop()


@asynccontextmanager
async def api_process(settings: Settings, log: Path) -> AsyncIterator[tuple[Child, int]]:
    """`casework api` (uvicorn) on a free port of 127.0.0.1; yields it and the port."""
    port = free_port()
    child = Child([str(venv_binary("casework")), "api"],
                  service_env(settings, API_PORT=str(port)), log)
    try:
        await start_api(child, port)
        yield child, port
    finally:
        child.stop()


async def start_api(child: Child, port: int) -> None:
    """Start (or start again) the API and wait until `/healthz` answers."""
    child.start()
    await wait_healthy(child, port)


async def wait_healthy(child: Child, port: int) -> None:
    """Until the API started as `child` answers `/healthz` on `port` (a minute at most)."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as probe:
        while True:
            with contextlib.suppress(httpx.TransportError):
                if (await probe.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            assert child.process is not None and child.process.poll() is None, child.log_text()
            assert time.monotonic() < deadline, child.log_text()[-3000:]
            await asyncio.sleep(0.2)


# ------------------------------------------------------------------- the cases
async def register_cases(api: httpx.AsyncClient, count: int, prefix: str,
                         at_once: int = 4) -> list[str]:
    """`count` contracts registered and endorsed through the API (C1-C5, C4), a few at
    a time, as a front-end would."""
    gate = asyncio.Semaphore(at_once)

    async def one() -> str:
        case_id = new_case_id(prefix)
        async with gate:
            created = await api.post("/cases", json=registration(case_id))
            assert created.status_code == 201, created.text
            endorsed = await api.post(f"/cases/{case_id}/endorsement", json=endorsement())
            assert endorsed.status_code == 200, endorsed.text
        return case_id

    return list(await asyncio.gather(*(one() for _ in range(count))))


# -------------------------------------------------------------------- counting
async def outbox(sessions: async_sessionmaker[AsyncSession], case_ids: list[str]
                 ) -> list[NotificationRow]:
    async with sessions() as session:
        return list((await session.scalars(select(NotificationRow).where(
            NotificationRow.case_id.in_(case_ids)))).all())
