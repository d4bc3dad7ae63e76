"""The fault suite (issue 16) stands on the API tests' stack: a Temporal dev server, the
test database, settings with the tests' own keys, and the service's own client
(tests/api/conftest.py). Each scenario adds the real processes it breaks
(tests/faults/stack.py) on a task queue of its own, and stops them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from casework.config import Settings
from casework.processes import venv_binary
from tests.api.conftest import (  # noqa: F401  (fixtures, shared with tests/api)
    api,
    api_settings,
    api_worker,
    base_settings,
    old_codec_key,
    service_client,
    task_queue,
    temporal_env,
)
from tests.faults.stack import REPOSITORY, service_env

SCENARIO_SECONDS = 150
"""Each scenario runs inside `asyncio.timeout(SCENARIO_SECONDS)` (far shorter on a quiet
machine), so a fault that stalls the service fails the test instead of hanging it."""


async def reconcile_dry_run(settings: Settings, case_ids: Sequence[str]) -> tuple[int, str]:
    """`casework reconcile --dry-run` over these cases, as operations would run it:
    exit status 0 when the read model matches every workflow, 1 on drift."""
    child = await asyncio.create_subprocess_exec(
        str(venv_binary("casework")), "reconcile", "--dry-run", *case_ids,
        cwd=REPOSITORY, env=service_env(settings), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(child.communicate(), 60)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    assert child.returncode is not None
    return child.returncode, output.decode(errors="replace")
