"""Workflow ids a start from outside the service tried to take (issue 10): a case's
`case-contract-<case_id>`, a request's `transfer-<request_id>` ...

Temporal lets anyone with access to the namespace start a workflow under any id. The
service's own starts carry a signed caller envelope (models/envelope.py) and their
input; a run whose start has neither -- plaintext, unsigned, not the workflow's input
at all -- is a stranger. The workflow fails such a run in its first task (workflows/
doors.py), but a stranger can also pick a task queue no worker polls, or a workflow type
no worker knows, and then nothing ever fails it. So before the service starts its own
workflow under an id a stranger holds, it waits a little for the stranger's run to end,
and terminates it if it has not, naming why: the id belongs to the registration.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from models.envelope import HEADER

log = logging.getLogger(__name__)

STRANGER_SETTLE = timedelta(seconds=10)
"""How long a start waits for a stranger's run to end before terminating it."""
QUERY_TIMEOUT = timedelta(seconds=10)
TERMINATION_REASON = ("started from outside the service (issue 10): this id is the "
                      "service's, and its registration took it over")


class NoWorkflow(Exception):
    """No workflow under this id."""


async def started_input(client: Client, workflow_id: str, input_type: type,
                        run_id: str | None = None) -> Any | None:
    """The input of the latest run under `workflow_id` (or of run `run_id`) when the
    service started it: its start carries a caller envelope (or the run continued an
    earlier one) and its input reads as `input_type`. None for a stranger's run;
    `NoWorkflow` when there is none. Raises RPCError otherwise (the caller answers 503)."""
    try:
        async for event in client.get_workflow_handle(
                workflow_id, run_id=run_id).fetch_history_events(rpc_timeout=QUERY_TIMEOUT):
            started = event.workflow_execution_started_event_attributes
            # Ours: signed by the service's client, continued by the workflow itself, or
            # started by a parent workflow (a dispute; its door checks the parent).
            if (HEADER not in started.header.fields and not started.continued_execution_run_id
                    and not started.HasField("parent_workflow_execution")):
                return None
            try:
                [found] = await client.data_converter.decode(started.input.payloads,
                                                             [input_type])
            except Exception:  # not the workflow's input: whatever the converter raises
                return None
            return found if isinstance(found, input_type) else None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise NoWorkflow(workflow_id) from exc
        raise
    raise NoWorkflow(workflow_id)


async def evict_stranger(client: Client, workflow_id: str, input_type: type,
                         settle: timedelta = STRANGER_SETTLE) -> None:
    """Let a stranger's running run under `workflow_id` end -- within `settle` the worker
    fails it -- and terminate it if it still runs then (no worker polls its queue, or
    knows its type). Only that run, by its run id, and only once its own start has been
    read as a stranger's: a run of the service's started meanwhile is never touched."""
    with suppress(RPCError, NoWorkflow):
        description = await client.get_workflow_handle(workflow_id).describe(
            rpc_timeout=QUERY_TIMEOUT)
        if description.status != WorkflowExecutionStatus.RUNNING:
            return
        run_id = description.run_id
        if await started_input(client, workflow_id, input_type, run_id) is not None:
            return  # the service's own run
        stranger = client.get_workflow_handle(workflow_id, run_id=run_id)
        with suppress(TimeoutError, WorkflowFailureError, RPCError):
            await asyncio.wait_for(stranger.result(follow_runs=False), settle.total_seconds())
        if (await stranger.describe(rpc_timeout=QUERY_TIMEOUT)).status == (
                WorkflowExecutionStatus.RUNNING):
            log.warning("terminating %s (run %s): started from outside the service",
                        workflow_id, run_id)
            await stranger.terminate(reason=TERMINATION_REASON)
