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
from workflows.coworking import CoworkingWorkflow
from workflows.dispute import DisputeWorkflow
from workflows.doors import MESSAGE_TYPES
from workflows.service_request import ServiceRequestWorkflow
from workflows.transfer import TransferRequestWorkflow

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


# ---------------------------------------------------------------- T1-T4 (issue 14)
DISTRICT_WORKFLOWS = {"TransferRequest": TransferRequestWorkflow,
                      "ServiceRequest": ServiceRequestWorkflow,
                      "Dispute": DisputeWorkflow, "Coworking": CoworkingWorkflow}


def _district_messages() -> list[tuple[str, str, str, type | None]]:
    """(workflow type, message name, kind, payload dataclass) of every district
    workflow's start, updates and queries."""
    found: list[tuple[str, str, str, type | None]] = []
    for type_name, cls in DISTRICT_WORKFLOWS.items():
        definition = workflow._Definition.from_class(cls)
        assert definition is not None and definition.name == type_name
        # T1-T4 messages are updates (they answer); the one signal handler is the
        # dynamic one that refuses and records any signal (issue 10).
        assert set(definition.signals) == {None}, "T1-T4 messages are updates"
        start = typing.get_type_hints(definition.run_fn)["input"]
        found.append((type_name, "run", "start", start))
        for name, update in definition.updates.items():
            if name is None:  # the dynamic handler refusing unknown names (issue 10)
                continue
            hints = typing.get_type_hints(update.fn)
            found.append((type_name, name, "update",
                          next(t for k, t in hints.items() if k != "return")))
        for name in definition.queries:
            assert name is not None
            found.append((type_name, name, "query", None))
    return found


@pytest.mark.parametrize(("type_name", "name", "kind", "payload"), _district_messages(),
                         ids=[f"{t}.{n}" for t, n, _, _ in _district_messages()])
def test_t1_t4_every_district_message_is_documented_with_every_field(
        type_name: str, name: str, kind: str, payload: type | None) -> None:
    section = _section(f"{type_name}.{name}")
    assert kind in section.splitlines()[0]
    if payload is not None:
        assert dataclasses.is_dataclass(payload)
        for field in dataclasses.fields(payload):
            assert f'"{field.name}"' in section, f"`{type_name}.{name}` misses {field.name}"
