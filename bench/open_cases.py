"""Many open cases on one worker (issue 13): the worker's resident memory and the time to
start them, beside the same number of bare workflows asleep on a timer, in the same run.

Each case is registered and endorsed (its deadlines planned, recorded, asleep until its
first follow-up weeks ahead), on the Temporal dev server (its SQLite file) with the read
model on SQLite; the worker runs in this process with the service's settings (a cache
of `worker.MAX_CACHED_WORKFLOWS` sleeping cases: past it, a case is evicted and replayed
when it next wakes). RSS is this process's (worker, client and the benchmark together),
before and after. `OPEN_CASES` sets how many (default 10,000).
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
import uuid
from datetime import UTC, datetime, timedelta

from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from bench.deadline_burst import (
    KEYS,
    BareTimer,
    _in_flight,
    _start,
    bare_follow_up,
    dev_stack,
)
from worker import MAX_CACHED_WORKFLOWS, build_worker

CASES = int(os.environ.get("OPEN_CASES", "10000"))


def _rss_mib() -> float:
    """The process's resident set now (Linux /proc), in MiB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(count: int = CASES) -> None:
    async with dev_stack() as (client, sessions):
        queue = f"bare-{uuid.uuid4().hex[:6]}"
        rss_before = _rss_mib()
        async with Worker(client, task_queue=queue, workflows=[BareTimer],
                          activities=[bare_follow_up],
                          workflow_runner=UnsandboxedWorkflowRunner(),
                          max_cached_workflows=MAX_CACHED_WORKFLOWS):
            far = datetime.now(UTC) + timedelta(days=60)
            began = time.perf_counter()
            await _in_flight(count, lambda i: client.start_workflow(
                BareTimer.run, far, id=f"bare-{queue}-{i}", task_queue=queue))
            bare_seconds = time.perf_counter() - began
            await asyncio.sleep(5)  # their first tasks done
            bare_rss = _rss_mib()
        queue = f"open-{uuid.uuid4().hex[:6]}"
        async with build_worker(client, queue, sessions, caller_keys=KEYS):
            began = time.perf_counter()
            await _in_flight(count, lambda i: _start(client, queue, f"{queue}-{i}"))
            case_seconds = time.perf_counter() - began
            await asyncio.sleep(5)
            case_rss = _rss_mib()
    print(f"\n{count:,} open workflows on one worker (cache {MAX_CACHED_WORKFLOWS:,}), dev "
          f"server; RSS of the process, {rss_before:.0f} MiB before any")
    print(f"  {'workflows':<34} {'start s':>8} {'per s':>7} {'RSS MiB':>8} {'x bare':>7}")
    print(f"  {'bare timers (baseline)':<34} {bare_seconds:>8.1f} "
          f"{count / bare_seconds:>7.1f} {bare_rss:>8.0f} {1:>7.2f}")
    print(f"  {'casework cases, registered+endorsed':<34} {case_seconds:>8.1f} "
          f"{count / case_seconds:>7.1f} {case_rss:>8.0f} {case_rss / bare_rss:>7.2f}")
    print(f"  peak RSS of the process: {_peak_mib():.0f} MiB")


def main(count: int = CASES) -> None:
    asyncio.run(run(count))


if __name__ == "__main__":
    main()
