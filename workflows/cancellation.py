"""Refusing a cancellation requested through Temporal (issue 10 review): `temporal
workflow cancel`, the UI's "Request Cancellation", an SDK's `cancel()`. A case (E1, E2)
or a request between districts (T1-T4) ends by its rules, never because somebody who
reaches Temporal asked; the request is recorded as refused instead.

The SDK delivers a cancellation to the workflow's main task alone. So the workflow's own
work runs in a task of its own and the main task only waits for it here: the request
lands in this wait, never in a timer, a wait for a message or a recording, which would
otherwise be interrupted and their work lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from temporalio import workflow


async def refusing_cancellation(work: asyncio.Task[Any], refuse: Callable[[], None]) -> None:
    """Wait for `work`, calling `refuse` for every cancellation requested meanwhile. Only
    this wait is interrupted by one, never `work`."""
    while True:
        try:
            await workflow.wait_condition(work.done)
            return
        except asyncio.CancelledError:
            if work.cancelled() or (not work.done() and work.cancelling()):
                raise  # the worker evicts the workflow from its cache: every task ends
            refuse()
