"""Issue 13: the sandboxed worker builds `TypeAdapter(CaseContractInput)` once per
process. The SDK gives each workflow instance its own payload converter inside the
sandbox; the adapters must come from the one cache that `models/payloads.py` keeps
(passed through the sandbox, worker.py `PASSED_THROUGH_MODULES`), or every new case
pays pydantic's schema generation again."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.workflows.conftest import begin_on, make_terms, start_case
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
