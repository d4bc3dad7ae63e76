"""The payload converter of every client and worker: pydantic's, plus one encoding of our
own for what the strict codec refused (issue 10, "strict codec").

The codec may not raise on decode (a workflow task that fails to decode fails again on
every retry: the case would stall for ever), so it replaces a plaintext payload with an
empty one of encoding `REFUSED_MARK`. Converting that gives a `RefusedPayload` whatever
type was asked for, so the workflow sees it and refuses the message by name: a signal is
recorded as `signal_refused` (reason `plaintext`), an update is rejected, and a start
fails the run with a non-retryable error. Importable inside the workflow sandbox.

For every message or input read from a payload, the digest of that payload is remembered
(`raw_digest`): the caller envelope vouches for the bytes the sender serialised
(models/envelope.py), and a workflow that re-serialised the value it was given to check
them would stop matching envelopes already in history as soon as a message or input
type gained a field.

Type adapters are built once per process (issue 13): the SDK makes a new payload
converter for every workflow instance, and pydantic's converter caches its
`TypeAdapter`s per converter, so each new case rebuilt `TypeAdapter(CaseContractInput)`
(24% of a worker's CPU per new case, and the schema generation the 2 s deadlock detector
caught in a deadline burst). This module is passed through the sandbox (worker.py
`PASSED_THROUGH_MODULES`, "models"), so the one cache below serves every instance.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, PydanticPayloadConverter
from temporalio.converter import EncodingPayloadConverter

from models.envelope import REFUSED_MARK, payload_digest

_DIGESTS: dict[int, tuple[weakref.ref[Any], str]] = {}
"""Digest of the payload each live value was read from, by the value's id; an entry
goes when its value does (the weak reference's callback), before the id can be reused."""


def _remember_digest(value: Any, digest: str) -> None:
    key = id(value)
    try:
        ref = weakref.ref(value, lambda _, key=key: _DIGESTS.pop(key, None))  # type: ignore[misc]
    except TypeError:  # a slotted class: its digest is re-serialised instead
        return
    _DIGESTS[key] = (ref, digest)


def raw_digest(value: Any) -> str | None:
    """The digest of the payload `value` was read from (`CaseworkPayloadConverter`), or
    None for a value built in code. The value itself is untouched: no attribute to leak
    into `__dict__`, equality or serialisation."""
    found = _DIGESTS.get(id(value))
    return found[1] if found is not None and found[0]() is value else None


@dataclass(frozen=True)
class RefusedPayload:
    """Stands in for a value the codec would not pass (`plaintext`), or a payload that is
    not the shape of the message or input it was sent as (`undecodable`): carries the
    reason only, never the payload."""

    reason: str = "plaintext"


UNDECODABLE = RefusedPayload("undecodable")

_READ_AT_THE_DOOR: set[type] = set()
"""The types a sender outside the service may send (the workflows' messages and inputs,
registered by workflows/doors.py and the workflows): one that cannot be read as such is
`UNDECODABLE` rather than an error. The SDK converts an update's argument, and a
workflow's input, before any workflow code runs: a conversion error there was answered
with pydantic's message quoting the payload, marked retryable, written to the worker's
log with a traceback (for a start, on every retry of its first workflow task), and was
never seen by the door."""


def read_at_the_door(*types: type) -> None:
    """Register message and input types whose unreadable payloads become `UNDECODABLE`."""
    _READ_AT_THE_DOOR.update(types)


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

    def from_payloads(self, payloads: Sequence[Payload],
                      type_hints: list[type] | None = None) -> list[Any]:
        """The values. For a message or input read at the door (`read_at_the_door`), the
        digest of the payload it came from is remembered (`raw_digest`), so an envelope is
        checked against the bytes sent; anything else (activity results, query answers)
        is read as the SDK reads it."""
        hints: list[Any] = list(type_hints or [])
        if not any(hint in _READ_AT_THE_DOOR for hint in hints):
            return super().from_payloads(payloads, type_hints)
        values = [self._read_one(payload, hints[index] if index < len(hints) else None)
                  for index, payload in enumerate(payloads)]
        for payload, value in zip(payloads, values, strict=False):
            if type(value) in _READ_AT_THE_DOOR:
                _remember_digest(value, payload_digest(payload))
        return values

    def _read_one(self, payload: Payload, hint: Any) -> Any:
        try:
            return super().from_payloads([payload], [hint] if hint is not None else None)[0]
        except Exception:  # whatever the converter raises; its text quotes the payload
            if hint in _READ_AT_THE_DOOR:
                return UNDECODABLE
            raise

