"""docs/workflow-messages.md is what an integration reads to send a signal or update
with the Temporal CLI (issue 3): every handler must be there, with every field of its
payload, so the document cannot silently fall behind the code."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

import pytest
from temporalio import workflow

from workflows.case_contract import CaseContractWorkflow
from workflows.doors import MESSAGE_TYPES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "workflow-messages.md").read_text()
DEFINITION = workflow._Definition.from_class(CaseContractWorkflow)
assert DEFINITION is not None


def _section(name: str) -> str:
    match = re.search(rf"^### `{name}`.*?(?=^### |\Z)", DOC, flags=re.M | re.S)
    assert match, f"docs/workflow-messages.md has no section for `{name}`"
    return match.group(0)


def _handlers() -> dict[str, typing.Callable[..., object]]:
    found: dict[str, typing.Callable[..., object]] = {}
    for kind in (DEFINITION.signals, DEFINITION.updates, DEFINITION.queries):
        for name, handler in kind.items():
            if name is not None:
                found[name] = handler.fn
    return found


@pytest.mark.parametrize("name", sorted(_handlers()))
def test_every_handler_is_documented_with_every_payload_field(name: str) -> None:
    section = _section(name)
    # Signal handlers take the raw payload (issue 10) and convert it to the message's
    # dataclass (workflows/doors.py): that is what a sender must send.
    payloads = [MESSAGE_TYPES[name]] if name in MESSAGE_TYPES else [
        t for key, t in typing.get_type_hints(_handlers()[name]).items() if key != "return"]
    for payload in payloads:
        assert dataclasses.is_dataclass(payload)
        for field in dataclasses.fields(payload):
            assert f'"{field.name}"' in section, f"`{name}` section misses {field.name}"


def test_signal_and_update_kinds_are_stated_correctly() -> None:
    for name in DEFINITION.signals:
        if name is not None:
            assert "signal" in _section(name).splitlines()[0]
    for name in DEFINITION.updates:
        if name is not None:
            assert "update" in _section(name).splitlines()[0]
    for name in set(DEFINITION.signals) - set(DEFINITION.updates) - {None}:
        assert "update" not in _section(name).splitlines()[0], name
