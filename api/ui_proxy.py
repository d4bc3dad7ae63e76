"""The Temporal UI, served by the API under `/ui/` (issue 11).

Why a proxy rather than telling the UI to send credentials cross-origin: the Temporal
UI's codec settings that matter here (`includeCredentials`, `passAccessToken`) cannot be
preset by `temporal server start-dev` (it sets only the endpoint), and a person had to
open the codec dialog in every browser profile to turn them on. Served from the API's
own origin, the UI's codec calls are same-origin: the browser sends the staff session
cookie without being told, and sends the page address as Referer, which names the
workflow being read (api/decode_attribution.py). The UI server runs with publicPath
`/ui`, so paths are forwarded unchanged.

Only what the UI needs crosses: our own cookies and the Authorization header are
dropped on the way in (the UI server has no business with a casework token); hop-by-hop
headers are dropped both ways; a redirect to the upstream's address is rewritten to
ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse

from casework.tokens import Role

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate",
                        "proxy-authorization", "te", "trailer", "trailers",
                        "transfer-encoding", "upgrade"})
NOT_FORWARDED = HOP_BY_HOP | {"host", "authorization", "content-length"}
"""content-length: httpx sets it again from the body it streams."""

QUERY_SEGMENT = "/query/"
"""A workflow query (the UI's stack trace and query tabs): a read, sent as POST."""


def ui_call_allowed(method: str, path: str, roles: Iterable[Role]) -> bool:
    """Operations staff read through the UI and change nothing (the permission table:
    `operations` reads everything and changes nothing), so the UI's actions --
    terminate, cancel, signal, reset, batch, schedules -- are for `admin` only. Reads
    are GET, and queries, which are reads sent as POST."""
    if Role.ADMIN in set(roles):
        return True
    return method in ("GET", "HEAD") or (method == "POST" and QUERY_SEGMENT in path)


def cookie_header_without(cookie_header: str, names: Sequence[str]) -> str:
    """The Cookie header minus `names`: the session's token stays on our side."""
    kept = [part.strip() for part in cookie_header.split(";")
            if part.strip() and part.strip().split("=", 1)[0] not in names]
    return "; ".join(kept)


def request_headers(headers: Iterable[tuple[str, str]], drop_cookies: Sequence[str]
                    ) -> list[tuple[str, str]]:
    forwarded: list[tuple[str, str]] = []
    for name, value in headers:
        lower = name.lower()
        if lower in NOT_FORWARDED:
            continue
        if lower == "cookie":
            value = cookie_header_without(value, drop_cookies)
            if not value:
                continue
        forwarded.append((name, value))
    return forwarded


def rewrite_location(location: str, upstream: str) -> str:
    """A redirect to the UI server's own address becomes the same path on ours."""
    if not location.startswith(upstream):
        return location
    return location[len(upstream):] or "/"


def response_headers(headers: Iterable[tuple[bytes, bytes]], upstream: str
                     ) -> list[tuple[bytes, bytes]]:
    """Raw headers, so each Set-Cookie stays its own line."""
    answered: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        lower = name.decode("latin-1").lower()
        if lower in HOP_BY_HOP:
            continue
        if lower == "location":
            value = rewrite_location(value.decode("latin-1"), upstream).encode("latin-1")
        answered.append((name, value))
    return answered


class UiProxy:
    """One HTTP client for the app's life, streaming both ways (history pages and the
    UI's scripts are passed through as they arrive, never held whole)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0))

    async def forward(self, request: Request, drop_cookies: Sequence[str]
                      ) -> StreamingResponse:
        """Raises httpx.HTTPError when the UI server cannot be reached."""
        raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope.get("query_string", b"")
        url = self.upstream + raw_path.decode("latin-1") + (
            "?" + query.decode("latin-1") if query else "")
        headers = request_headers(request.headers.items(), drop_cookies)
        host = request.headers.get("host")
        if host:
            headers.append(("X-Forwarded-Host", host))
        headers.append(("X-Forwarded-Proto", request.url.scheme))
        has_body = request.method not in ("GET", "HEAD")
        upstream_request = self.client.build_request(
            request.method, url, headers=headers,
            content=request.stream() if has_body else None)
        upstream_response = await self.client.send(upstream_request, stream=True)
        response = StreamingResponse(upstream_response.aiter_raw(),
                                     status_code=upstream_response.status_code,
                                     background=BackgroundTask(upstream_response.aclose))
        response.raw_headers = response_headers(upstream_response.headers.raw,
                                                self.upstream)
        return response

    async def aclose(self) -> None:
        await self.client.aclose()
