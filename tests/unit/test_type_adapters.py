"""Issue 13: pydantic type adapters are built once per process, not once per workflow
instance (the SDK makes a payload converter per instance; each used to bring its own
cache, so every new case rebuilt `TypeAdapter(CaseContractInput)`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from pydantic import TypeAdapter

from models.payloads import CaseworkPayloadConverter


@dataclass
class _NeverReadBefore:
    """A type no other test converts, so the first read below must build its adapter."""

    day: date
    note: str


def _count_adapters(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    built: list[Any] = []
    original = TypeAdapter.__init__

    def counting(self: TypeAdapter[Any], type_: Any, *args: Any, **kwargs: Any) -> None:
        built.append(type_)
        original(self, type_, *args, **kwargs)

    monkeypatch.setattr(TypeAdapter, "__init__", counting)
    return built


def test_issue13_a_second_converter_reuses_the_first_ones_type_adapter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = _count_adapters(monkeypatch)
    value = _NeverReadBefore(date(2028, 3, 14), "x")
    first = CaseworkPayloadConverter()
    payload = first.to_payloads([value])[0]
    assert first.from_payloads([payload], [_NeverReadBefore]) == [value]
    assert built.count(_NeverReadBefore) == 1

    for _ in range(5):  # a new converter per workflow instance, as the SDK makes them
        again = CaseworkPayloadConverter()
        assert again.from_payloads([payload], [_NeverReadBefore]) == [value]
    assert built.count(_NeverReadBefore) == 1
