"""Request bodies have a size limit, enforced before anything reads them.

FastAPI reads and parses a JSON body before any dependency runs -- authentication
included -- so without a limit anyone could make the server buffer and parse bodies of
any size. Codec calls carry batches of history payloads and get a larger limit.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.cors import CODEC_PREFIX
from api.errors import problem_response

DEFAULT_LIMIT_BYTES = 1024 * 1024
CODEC_LIMIT_BYTES = 16 * 1024 * 1024


def limit_for(path: str) -> int:
    return CODEC_LIMIT_BYTES if path.startswith(CODEC_PREFIX) else DEFAULT_LIMIT_BYTES


def _too_large(limit: int) -> str:
    return f"The request body is larger than {limit // 1024} KiB."


class BodyLimit:
    """413 for a declared `Content-Length` over the limit, without reading the body; a
    body sent without one is counted as it is read and refused once it passes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = problem_response(413, "Content Too Large", _too_large(limit),
                                        scope["path"])
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counted, send)
