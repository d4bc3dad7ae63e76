"""The payload converter of every client and worker: pydantic's, plus one encoding of our
own for what the strict codec refused (issue 10, "strict codec").

The codec may not raise on decode (a workflow task that fails to decode fails again on
every retry: the case would stall for ever), so it replaces a plaintext payload with an
empty one of encoding `REFUSED_MARK`. Converting that gives a `RefusedPayload` whatever
type was asked for, so the workflow sees it and refuses the message by name: a signal is
recorded as `signal_refused` (reason `plaintext`), an update is rejected, and a start
fails the run with a non-retryable error. Importable inside the workflow sandbox.

Type adapters are built once per process (issue 13): the SDK makes a new payload
converter for every workflow instance, and pydantic's converter caches its
`TypeAdapter`s per converter, so each new case rebuilt `TypeAdapter(CaseContractInput)`
(24% of a worker's CPU per new case, and the schema generation the 2 s deadlock detector
caught in a deadline burst). This module is passed through the sandbox (worker.py
`PASSED_THROUGH_MODULES`, "models"), so the one cache below serves every instance.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, PydanticPayloadConverter
from temporalio.converter import EncodingPayloadConverter

from models.envelope import REFUSED_MARK


@dataclass(frozen=True)
class RefusedPayload:
    """Stands in for a value the codec would not pass: carries the reason only."""

    reason: str = "plaintext"


def refused_payload() -> Payload:
    """What the strict codec hands on instead of a plaintext payload: no data."""
    return Payload(metadata={"encoding": REFUSED_MARK})


class _RefusedConverter(EncodingPayloadConverter):
    @property
    def encoding(self) -> str:
        return REFUSED_MARK.decode()

    def to_payload(self, value: Any) -> Payload | None:
        return None  # never chosen to encode a value

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        return RefusedPayload()


SHARED_TYPE_ADAPTERS: functools._lru_cache_wrapper[TypeAdapter[Any]] = functools.lru_cache(
    maxsize=1024)(TypeAdapter)
"""The process's pydantic type adapters, one per type hint, shared by every converter
(issue 13): built the first time a type is read, then reused by every workflow instance,
activity and client. Bounded like the SDK's own cache (least recently used evicted)."""


class CaseworkPayloadConverter(PydanticPayloadConverter):
    """Pydantic JSON (needed for `date` values), and `RefusedPayload` for a refused one;
    its type adapters come from `SHARED_TYPE_ADAPTERS`, not a cache of its own."""

    def __init__(self) -> None:
        super().__init__()
        for converter in self.converters.values():
            if isinstance(converter, PydanticJSONPlainPayloadConverter):
                # The SDK's attribute (temporalio 1.x); the pickled form rebuilds a
                # private cache, which is only used outside the worker's sandbox.
                converter._type_adapter = SHARED_TYPE_ADAPTERS
        self._set_converters(*self.converters.values(), _RefusedConverter())
