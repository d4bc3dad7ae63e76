"""Workflow history per reporting period (DESIGN decision 3: bounded history).

A case lives for years and continues-as-new at period boundaries, so what must stay
small is the history of one run. This runs eight quarterly periods of one case on the
time-skipping server, three ways, and prints events and bytes per run:

- quiet: each report on time and assessed adequate (the baseline);
- busy: each period also has a resubmission request, a resubmitted report, a contact
  and an R7 event -- the most a period usually sees;
- quiet, encrypted: the baseline with the payload codec, to show its cost in bytes.

Figures are ratios to the baseline measured in the same run, not pass/fail.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from casework.caller_envelope import CallerEnvelopeInterceptor, CallerIdentity
from casework.codec import EncryptionCodec, generate_key, parse_keys
from casework.db import make_engine, make_session_factory
from casework.migrate import upgrade_to_head_async
from casework.processes import venv_binary
from casework.temporal_client import ensure_search_attributes, make_data_converter
from models.messages import AssessReport, RaiseEvent, RecordContact, SubmitReport
from tests.workflows.conftest import (
    Case,
    local_today,
    make_terms,
    run_ids,
    sleep_until,
    start_case,
)
from workflows.case_contract import CaseContractWorkflow

PERIODS = 8
Period = Callable[[WorkflowEnvironment, Case, int], Awaitable[None]]


async def quiet(env: WorkflowEnvironment, case: Case, index: int) -> None:
    """A report on time, assessed adequate, and the practitioner's quarterly visit (so
    K1 raises nothing: contact frequency is at its one-year maximum)."""
    update = case.handle.execute_update
    today = local_today(await env.get_current_time())
    await update(CaseContractWorkflow.record_contact,
                 RecordContact(f"visit-{index}", today, "practitioner_visit", "practitioner"))
    await update(CaseContractWorkflow.submit_report, SubmitReport(f"r-{index}", index))
    await update(CaseContractWorkflow.assess_report, AssessReport(f"r-{index}", "adequate"))


async def busy(env: WorkflowEnvironment, case: Case, index: int) -> None:
    update = case.handle.execute_update
    today = local_today(await env.get_current_time())
    await update(CaseContractWorkflow.record_contact,
                 RecordContact(f"k-{index}", today, "direct", "agency"))
    await update(CaseContractWorkflow.raise_event,
                 RaiseEvent(f"e-{index}", "case_plan_deviation"))
    await update(CaseContractWorkflow.submit_report, SubmitReport(f"r-{index}", index))
    await update(CaseContractWorkflow.assess_report,
                 AssessReport(f"r-{index}", "request_resubmission"))
    await update(CaseContractWorkflow.submit_report, SubmitReport(f"r-{index}b", index))
    await update(CaseContractWorkflow.assess_report, AssessReport(f"r-{index}b", "adequate"))


async def _runs(client: Client, workflow_id: str) -> list[tuple[int, int]]:
    """(events, bytes) of every run of the workflow, oldest first."""
    sizes: list[tuple[int, int]] = []
    for run_id in await run_ids(client, workflow_id):
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        sizes.append((len(history.events), sum(e.ByteSize() for e in history.events)))
    return sizes


async def scenario(period: Period, *, encrypted: bool, database_url: str
                   ) -> list[tuple[int, int]]:
    codec = (EncryptionCodec(parse_keys(f"b1:{generate_key()}"), "b1") if encrypted
             else None)
    # Issue 10: the bench's client signs as an admin, as the API's clients sign.
    keys = codec.caller_keys if codec else {"bench": bytes(32)}
    signing = CallerEnvelopeInterceptor(keys, next(iter(keys)), default=CallerIdentity(
        subject="bench", roles=("admin",), agency_id=None))
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=make_data_converter(codec), interceptors=[signing],
        test_server_existing_path=str(venv_binary("temporal-test-server")))
    engine = make_engine(database_url)
    try:
        async with env:
            from worker import build_worker

            await ensure_search_attributes(env.client, "default")
            worker: Worker
            async with build_worker(env.client, f"bench-{uuid.uuid4().hex[:6]}",
                                    make_session_factory(engine),
                                    caller_keys=keys) as worker:
                start = local_today(await env.get_current_time())
                terms = make_terms(f"bench-{uuid.uuid4().hex[:8]}", start, periods=PERIODS,
                                   contact_frequency_days=365)
                case = await start_case(env.client, worker, terms, endorse_on=start)
                periods = (await case.status()).state.periods
                for index, state in enumerate(periods):
                    await sleep_until(env, state.follow_up_at + timedelta(hours=1))
                    await period(env, case, index)
                    await sleep_until(env, state.ends_at + timedelta(hours=1))
                await asyncio.sleep(0.5)
                return await _runs(env.client, case.handle.id)
    finally:
        await engine.dispose()


def _summary(name: str, runs: list[tuple[int, int]], baseline: tuple[float, float]) -> str:
    events = max(e for e, _ in runs)
    size = max(b for _, b in runs)
    return (f"  {name:<18} {len(runs):>4} {events:>10} {size:>10,} "
            f"{events / baseline[0]:>9.2f} {size / baseline[1]:>9.2f}")


async def run() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade_to_head_async(url)
        results = {
            "quiet": await scenario(quiet, encrypted=False, database_url=url),
            "busy": await scenario(busy, encrypted=False, database_url=url),
            "quiet, encrypted": await scenario(quiet, encrypted=True, database_url=url),
        }
    base = results["quiet"]
    baseline = (float(max(e for e, _ in base)), float(max(b for _, b in base)))
    print(f"\nWorkflow history of one case over {PERIODS} quarterly periods "
          "(largest run; x quiet)")
    print(f"  {'periods like':<18} {'runs':>4} {'events':>10} {'bytes':>10} "
          f"{'x events':>9} {'x bytes':>9}")
    for name, runs in results.items():
        print(_summary(name, runs, baseline))
    print("  (Temporal's hard limits per run: 51,200 events, 50 MB)")


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
