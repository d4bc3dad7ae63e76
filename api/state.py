"""Process-wide resources the API holds: one engine, one Temporal client, the token
authenticator and the payload codec.

The Temporal client connects lazily and reconnects after a failure, so the API starts
(and `/readyz` can say what is wrong) even while Temporal is still coming up.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from opentelemetry.trace import Tracer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.converter import PayloadCodec

from api.access_log import AccessJournal
from api.auth import Authenticator
from casework.codec import EncryptionCodec
from casework.config import Settings
from casework.temporal_client import connect


@dataclass
class TemporalGateway:
    settings: Settings
    codec: PayloadCodec | None = None
    tracer: Tracer | None = None
    """Issue 15: traces continue from the request's span into the workflow."""
    _client: Client | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def client(self) -> Client:
        """The connected client; raises the connection error if Temporal is unreachable."""
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                self._client = await asyncio.wait_for(connect(self.settings, self.codec,
                                                              tracer=self.tracer), 10)
        return self._client


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    temporal: TemporalGateway
    authenticator: Authenticator
    codec: EncryptionCodec
    """The same codec as the Temporal client's, for the remote codec endpoint."""
    access_journal: AccessJournal
