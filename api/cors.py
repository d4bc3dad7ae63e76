"""CORS: the front-end's origins for the API, the Temporal UI's origins for /codec.

The two are different audiences: the Temporal UI must be able to call the codec
endpoint from the browser, but has no business calling the rest of the API, and the
front-end has no business decrypting history. Starlette's CORS middleware serves one
list of origins, so requests are routed to one of two by path.

Preflight requests (OPTIONS) are answered here, before authentication: browsers never
send credentials on a preflight, so requiring a token would make the UI unusable. The
answer only says which origins, methods and headers are allowed; the request that
follows still needs its bearer token.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from casework.config import Settings

CODEC_PREFIX = "/codec/"
CODEC_HEADERS = ("Authorization", "Content-Type", "X-Namespace")
"""What the Temporal UI sends to a codec server."""
PREFLIGHT_CACHE_SECONDS = 600


def codec_origins(settings: Settings) -> list[str]:
    """`codec_cors_origins`, or else the embedded UI's address -- under both spellings of
    the loopback host, since people open either `127.0.0.1` or `localhost`."""
    if settings.codec_cors_origins:
        return list(settings.codec_cors_origins)
    origins = [settings.temporal_ui_url]
    host = urlsplit(settings.temporal_ui_url).hostname
    if host in ("127.0.0.1", "localhost"):
        other = "localhost" if host == "127.0.0.1" else "127.0.0.1"
        origins.append(f"http://{other}:{settings.temporal_ui_port}")
    return origins


class SplitCors:
    """Codec paths get the UI's CORS policy; every other path the front-end's (or none)."""

    def __init__(self, app: ASGIApp, *, api_origins: Sequence[str],
                 codec_origins: Sequence[str]) -> None:
        # Credentials: the UI's "Include cross-origin credentials" sends the codec
        # session cookie (api/codec_session.py); origins are explicit, never "*".
        self.codec = CORSMiddleware(app, allow_origins=codec_origins, allow_methods=["POST"],
                                    allow_headers=CODEC_HEADERS, allow_credentials=True,
                                    max_age=PREFLIGHT_CACHE_SECONDS)
        self.api: ASGIApp = app
        if api_origins:
            self.api = CORSMiddleware(app, allow_origins=api_origins, allow_methods=["*"],
                                      allow_headers=["*"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(CODEC_PREFIX):
            await self.codec(scope, receive, send)
        else:
            await self.api(scope, receive, send)
