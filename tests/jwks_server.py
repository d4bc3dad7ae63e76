"""A real identity provider's key endpoint, for tests of the production key source:
a JWKS document served over HTTP on 127.0.0.1 (no mocks of the HTTP fetch)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


@contextmanager
def serving_jwks(public_key: rsa.RSAPublicKey, kid: str) -> Iterator[str]:
    """Serve `public_key` as an RS256 JWKS under `kid`; yields the URL, stops after."""
    jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    body = json.dumps({"keys": [jwk | {"kid": kid, "use": "sig", "alg": "RS256"}]}).encode()
    with serving(body, "application/json") as url:
        yield url


@contextmanager
def serving(body: bytes, content_type: str) -> Iterator[str]:
    """Serve `body` with status 200 at the JWKS path (a broken provider's answer, too)."""

    class JwksHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), JwksHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
