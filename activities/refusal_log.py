"""Writes the access-log rows of updates refused before they entered history
(workflows/unrecorded_refusals.py, issue 10), on the worker's event loop.

The rows are handed over from the threads that run workflow tasks, so each is scheduled
on the loop the worker was built on; one that cannot be written (the database down) is
logged and dropped: the refused update changed nothing and its sender has its answer.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.read_model import write_access
from models.effects import AccessEntry

log = logging.getLogger(__name__)


class RefusalLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 loop: asyncio.AbstractEventLoop) -> None:
        self._sessions = sessions
        self._loop = loop
        self._pending: set[Future[None]] = set()

    def __call__(self, entry: AccessEntry) -> None:
        """The sink: called from any thread."""
        future = asyncio.run_coroutine_threadsafe(self._write(entry), self._loop)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    async def _write(self, entry: AccessEntry) -> None:
        try:
            async with self._sessions() as session, session.begin():
                await write_access(session, [entry])
        except Exception as exc:  # never raised into the workflow's thread
            log.warning("access-log row of a refused update not written (%s: %s): %s",
                        type(exc).__name__, exc, entry.path)
