"""Database round trips per request (issue 13, item 4), on PostgreSQL's wire.

The app in-process with its database behind a counting proxy (tests/round_trip_proxy.py;
the worker's recordings bypass it), a Temporal dev server and a worker: one case
registered, endorsed, reported, assessed and contacted, then read. Baseline, measured in
the same run: the SQL statements each request executes (SQLAlchemy's own count) -- a
round trip per statement is the floor; pings, BEGIN and COMMIT are what lies above it.

Needs TEST_DATABASE_URL (a PostgreSQL server); prints figures, never pass/fail.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import event
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from bench.list_cases import _postgres, postgres_server
from casework.codec import codec_for_settings, generate_key
from casework.config import Settings
from casework.db import make_session_factory
from casework.processes import venv_binary
from casework.temporal_client import client_options, ensure_search_attributes, make_data_converter
from tests.api.conftest import running_app, today
from tests.api.test_round_trips import _one_case_through
from tests.round_trip_proxy import round_trip_proxy
from worker import build_worker

ROUNDS = 3


async def run() -> None:
    server = postgres_server("Database round trips per request")
    if server is None:
        return
    async with _postgres(server) as engine:
        url = engine.url.render_as_string(hide_password=False)
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(_env_file=None,  # type: ignore[call-arg]
                                data_dir=Path(folder), database_url=url,
                                codec_keys=f"k1:{generate_key()}")
            codec = codec_for_settings(settings)
            environment = await WorkflowEnvironment.start_local(
                data_converter=make_data_converter(codec),
                dev_server_existing_path=str(venv_binary("temporal")),
                dev_server_log_level="error")
            async with environment:
                await ensure_search_attributes(environment.client, "default")
                queue = f"bench-trips-{uuid.uuid4().hex[:6]}"
                client = Client(environment.client.service_client, namespace="default",
                                **client_options(codec))
                async with build_worker(client, queue, make_session_factory(engine)), \
                        round_trip_proxy(url) as proxy:
                    app_settings = settings.model_copy(update={
                        "database_url": proxy.url_for(url),
                        "temporal_address": environment.client.service_client.config
                        .target_host, "temporal_task_queue": queue})
                    async with running_app(app_settings, environment.client) as api:
                        app_engine = api.transport.app.state.casework.engine  # type: ignore
                        statements = [0]

                        def counted(*_: Any) -> None:
                            statements[0] += 1

                        event.listen(app_engine.sync_engine, "before_cursor_execute", counted)
                        day = today()
                        for _ in range(2):  # warm: each connection prepares once
                            await _one_case_through(api, proxy, day)
                        rounds = [await _one_case_through(api, proxy, day, statements)
                                  for _ in range(ROUNDS)]
    print(f"\nDatabase round trips per request on PostgreSQL (warm; median of {ROUNDS} "
          "cases)")
    print(f"  {'request':<20} {'round trips':>11} {'statements (baseline)':>22} "
          f"{'x baseline':>10}")
    for name in rounds[0]:
        trips = sorted(r[name][0] for r in rounds)[ROUNDS // 2]
        said = sorted(r[name][2] for r in rounds)[ROUNDS // 2]
        print(f"  {name:<20} {trips:>11} {said:>22} {trips / max(said, 1):>10.2f}")


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
