"""Waiting for the read model: the workflow answers an update before its activity has
written the rows, so tests poll instead of sleeping a guessed amount."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]], timeout_seconds: float = 15) -> T:
    """Poll `check` until it stops raising AssertionError, or re-raise after the timeout."""
    deadline = asyncio.get_running_loop().time() + timeout_seconds
    while True:
        try:
            return await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)
