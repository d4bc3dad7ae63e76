"""A webhook endpoint on 127.0.0.1 that counts the POSTs it receives per
`Idempotency-Key`, as an agency's integration would see them (issue 18)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """What the endpoint has received; `delay_seconds` makes each answer take that long,
    so senders racing for the same notice overlap as they would under load."""

    def __init__(self, delay_seconds: float = 0.0) -> None:
        self.delay_seconds = delay_seconds
        self.posts: Counter[str] = Counter()
        self.bodies: list[dict[str, object]] = []
        self.raw: list[tuple[dict[str, str], bytes]] = []
        """Each POST's headers and exact body (issue 15: signatures are over bytes)."""
        self._lock = threading.Lock()
        self.url = ""

    def received(self, key: str, body: dict[str, object]) -> None:
        with self._lock:
            self.posts[key] += 1
            self.bodies.append(body)


@contextmanager
def webhook_receiver(delay_seconds: float = 0.0) -> Iterator[Receiver]:
    """Serve on a free port of 127.0.0.1 for the block; always shut down after."""
    receiver = Receiver(delay_seconds)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            body = json.loads(raw or b"{}")
            with receiver._lock:
                receiver.raw.append((dict(self.headers.items()), raw))
            receiver.received(self.headers.get("Idempotency-Key") or "", body)
            time.sleep(receiver.delay_seconds)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/notices"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
