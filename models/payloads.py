"""The payload converter of every client and worker: pydantic's, plus one encoding of our
own for what the strict codec refused (issue 10, "strict codec").

The codec may not raise on decode (a workflow task that fails to decode fails again on
every retry: the case would stall for ever), so it replaces a plaintext payload with an
empty one of encoding `REFUSED_MARK`. Converting that gives a `RefusedPayload` whatever
type was asked for, so the workflow sees it and refuses the message by name: a signal is
recorded as `signal_refused` (reason `plaintext`), an update is rejected, and a start
fails the run with a non-retryable error. Importable inside the workflow sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticPayloadConverter
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


class CaseworkPayloadConverter(PydanticPayloadConverter):
    """Pydantic JSON (needed for `date` values), and `RefusedPayload` for a refused one."""

    def __init__(self) -> None:
        super().__init__()
        self._set_converters(*self.converters.values(), _RefusedConverter())
