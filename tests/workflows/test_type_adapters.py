"""Issue 13: the sandboxed worker builds `TypeAdapter(CaseContractInput)` once per
process. The SDK gives each workflow instance its own payload converter inside the
sandbox; the adapters must come from the one cache that `models/payloads.py` keeps
(passed through the sandbox, worker.py `PASSED_THROUGH_MODULES`), or every new case
pays pydantic's schema generation again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.workflows.conftest import begin_on, make_terms, start_case
from worker import (
    MAX_CACHED_WORKFLOWS,
    MAX_CONCURRENT_WORKFLOW_TASKS,
    STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT,
)
from workflows.case_contract import CaseContractInput


async def test_issue13_new_cases_reuse_the_input_type_adapter_inside_the_sandbox(
    env: WorkflowEnvironment, worker: Worker, unique_id: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    start = await begin_on(env)
    first = await start_case(env.client, worker, make_terms(f"a-{unique_id}", start))
    await first.status()  # its first workflow task has run: the input was read

    built: list[Any] = []
    original = TypeAdapter.__init__

    def counting(self: TypeAdapter[Any], type_: Any, *args: Any, **kwargs: Any) -> None:
        built.append(type_)
        original(self, type_, *args, **kwargs)

    monkeypatch.setattr(TypeAdapter, "__init__", counting)
    for n in range(3):
        case = await start_case(env.client, worker, make_terms(f"b{n}-{unique_id}", start))
        assert (await case.status()).case_id == case.terms.case_id
    assert [t for t in built if getattr(t, "__name__", "") == CaseContractInput.__name__] == []


async def test_issue13_the_worker_is_tuned_for_a_deadline_burst(worker: Worker) -> None:
    """Issue 13: a cache and concurrency sized for clustered 09:00 wakes (R1, R3), and a
    sticky queue that holds a woken case for a minute rather than 10 s (the SDK default,
    which timed out 785 of 1,000 wakes in the issue's burst and made them replay)."""
    config = worker.config()
    assert config.get("max_cached_workflows") == MAX_CACHED_WORKFLOWS >= 2_000
    assert config.get("max_concurrent_workflow_tasks") == MAX_CONCURRENT_WORKFLOW_TASKS
    assert config.get("sticky_queue_schedule_to_start_timeout") == (
        STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT) > timedelta(seconds=10)
