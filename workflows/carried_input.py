"""A continued run's input is the workflow's own carried state, written by the worker
that continued it: never a sender's. When it cannot be read (models/payloads.py gives a
`RefusedPayload`, e.g. after a deploy that changed the state's shape), the run must not
go on as a refused stranger's start with placeholder terms: its workflow task fails, and
is retried until a worker that can read the state is deployed -- the state is intact in
history meanwhile."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from models.payloads import RefusedPayload


class UnreadableCarriedState(RuntimeError):
    """Fails the workflow task (not the workflow): retried until readable."""


def check_carried_input(value: Any) -> None:
    """Called first in the init of every workflow that continues as new."""
    if isinstance(value, RefusedPayload) and workflow.info().continued_run_id is not None:
        raise UnreadableCarriedState(
            f"the carried state of this continued run is {value.reason}: deploy a worker "
            "that reads it (the workflow task is retried meanwhile)")
