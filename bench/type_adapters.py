"""Reading a new case's input, per workflow instance (issue 13, item 1).

The SDK makes a payload converter for every workflow instance. Pydantic's converter
caches type adapters per converter, so before issue 13 every new case rebuilt
`TypeAdapter(CaseContractInput)` -- schema generation for the whole terms tree. This
reads one case input `INSTANCES` times, each with a new converter, three ways:

- raw JSON (`json.loads`, no types; the baseline);
- a converter with its own cache (the SDK's pydantic converter; casework before);
- `CaseworkPayloadConverter` (adapters shared by the process; casework now).

Figures are ratios to the baseline measured in the same run, not pass/fail.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticPayloadConverter

from models.payloads import CaseworkPayloadConverter
from tests.workflows.conftest import make_terms
from workflows.case_contract import CaseContractInput

INSTANCES = 200


def _input_payload() -> Payload:
    terms = make_terms("bench-case", date(2028, 3, 14), periods=40)
    return CaseworkPayloadConverter().to_payloads([CaseContractInput(terms=terms)])[0]


def _per_instance(read: Callable[[Payload], Any], payload: Payload, instances: int) -> float:
    """Milliseconds per instance to read the input."""
    started = time.perf_counter()
    for _ in range(instances):
        read(payload)
    return (time.perf_counter() - started) * 1000 / instances


def measure(instances: int = INSTANCES) -> list[tuple[str, float]]:
    payload = _input_payload()
    CaseworkPayloadConverter().from_payloads([payload], [CaseContractInput])  # warm
    return [
        ("raw json.loads (baseline)", _per_instance(lambda p: json.loads(p.data), payload,
                                                    instances)),
        ("converter per instance, own cache (before)",
         _per_instance(lambda p: PydanticPayloadConverter().from_payloads(
             [p], [CaseContractInput]), payload, instances)),
        ("CaseworkPayloadConverter, shared (now)",
         _per_instance(lambda p: CaseworkPayloadConverter().from_payloads(
             [p], [CaseContractInput]), payload, instances)),
    ]


def main(instances: int = INSTANCES) -> None:
    results = measure(instances)
    baseline = results[0][1]
    print(f"\nReading a case input with a new converter per workflow instance "
          f"({instances} instances)")
    print(f"  {'way':<44} {'ms/instance':>12} {'x baseline':>11}")
    for name, ms in results:
        print(f"  {name:<44} {ms:>12.3f} {ms / baseline:>11.1f}")


if __name__ == "__main__":
    main()
