"""A TCP proxy in front of PostgreSQL that counts round trips (issue 13, item 4).

Counted on the wire rather than from SQLAlchemy's events, so nothing the driver does on
its own is missed: a pool's pre-ping, `BEGIN`, `COMMIT`, the reset of a connection
returned to the pool, a statement prepared before it is executed. A round trip is one
turn of the conversation: the client speaks after the server last spoke (or first, on a
new connection), however many messages it pipelines into that turn and however many
packets either side's turn takes.

Used by the round-trip test (tests/api/test_round_trips.py) and the benchmark
(bench/db_round_trips.py): point one engine at `proxy.url`, reset, make a request, read
`proxy.round_trips`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url


@dataclass
class _Conversation:
    """One client connection: whose turn it was last."""

    client_spoke_last: bool = False


@dataclass
class RoundTripProxy:
    upstream_host: str
    upstream_port: int
    round_trips: int = 0
    port: int = 0
    trace: list[str] | None = None
    """When a list: what each round trip asked, for reading a count (`describe_turn`)."""
    _server: asyncio.AbstractServer | None = None
    _pipes: set[asyncio.Task[None]] = field(default_factory=set)

    def reset(self) -> None:
        self.round_trips = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        for pipe in list(self._pipes):
            pipe.cancel()
        for pipe in list(self._pipes):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pipe

    def url_for(self, database_url: str) -> str:
        """`database_url` with its host and port replaced by the proxy's."""
        return make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(
            hide_password=False)

    async def _accept(self, client_reader: asyncio.StreamReader,
                      client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(
            self.upstream_host, self.upstream_port)
        conversation = _Conversation()
        upstream = asyncio.create_task(self._pipe(client_reader, server_writer,
                                                  conversation, from_client=True))
        downstream = asyncio.create_task(self._pipe(server_reader, client_writer,
                                                    conversation, from_client=False))
        self._pipes.update((upstream, downstream))
        try:
            await asyncio.wait((upstream, downstream), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in (upstream, downstream):
                pipe.cancel()
                self._pipes.discard(pipe)
            for writer in (client_writer, server_writer):
                writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    conversation: _Conversation, *, from_client: bool) -> None:
        while chunk := await reader.read(65536):
            if from_client and not conversation.client_spoke_last:
                self.round_trips += 1
                if self.trace is not None:
                    self.trace.append(describe_turn(chunk))
            conversation.client_spoke_last = from_client
            writer.write(chunk)
            await writer.drain()


def describe_turn(chunk: bytes) -> str:
    """The frontend messages of a turn's first packet: their type letters, and the SQL
    of a Parse or a simple Query (PostgreSQL's protocol: a type byte, a length)."""
    parts: list[str] = []
    offset = 0
    while offset + 5 <= len(chunk):
        kind = chr(chunk[offset])
        length = int.from_bytes(chunk[offset + 1:offset + 5], "big")
        body = chunk[offset + 5:offset + 1 + length]
        if kind == "Q":
            parts.append("Q " + body.split(b"\0", 1)[0].decode(errors="replace")[:80])
        elif kind == "P":
            sql = body.split(b"\0", 2)[1] if body.count(b"\0") >= 2 else b""
            parts.append("P " + sql.decode(errors="replace")[:80])
        else:
            parts.append(kind)
        offset += 1 + length
    return " ".join(parts) or f"{len(chunk)} bytes"


@contextlib.asynccontextmanager
async def round_trip_proxy(database_url: str) -> AsyncIterator[RoundTripProxy]:
    """A running proxy in front of the PostgreSQL server `database_url` names."""
    url = make_url(database_url)
    proxy = RoundTripProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()
