"""Browser sign-in for the codec endpoint, so the Temporal UI can decrypt history.

The UI calls `/codec/decode` from the operator's browser. It can send a bearer token
only when it has a login of its own (OIDC); without one -- the embedded default -- it
can instead send cookies ("Include cross-origin credentials" in its codec settings).
So an operator signs in once here with a token (`casework token --role operations`),
and gets a cookie that carries that token:

- HttpOnly (page scripts cannot read it), Path=/codec (sent nowhere else),
  SameSite=Strict (never sent by another site's page: no cross-site request forgery;
  the UI on the same host but another port is the same site), Secure over HTTPS,
  expiring with the token.
- The cookie's token is verified on every call exactly like a bearer token, and needs
  the same roles (operations, admin): the cookie adds a way to carry a token, not a
  way around checking it.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.staff_session import STAFF_COOKIE

CODEC_COOKIE = "casework_codec"
COOKIE_PATH = "/codec"
SESSION_PATH = "/codec/session"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>casework codec sign-in</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:3em auto}}
textarea{{width:100%;height:8em}}.error{{color:#a00}}</style></head>
<body><h1>Decrypt history in the Temporal UI</h1>
<p>{status}</p>
<form method="post" action="{path}">
<label for="token">Bearer token with the <code>operations</code> or <code>admin</code> role
(<code>casework token --role operations</code>):</label>
<textarea id="token" name="token" autocomplete="off" required></textarea>
<button type="submit">Sign in</button></form>
<form method="post" action="{path}"><input type="hidden" name="sign_out" value="1">
<button type="submit">Sign out</button></form>
<p>Then, in the Temporal UI's codec server settings, turn on
<em>Include cross-origin credentials</em>, and open the UI on the same host name as this
page.</p></body></html>"""

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"


def session_page(status: str, *, error: bool = False, status_code: int = 200) -> HTMLResponse:
    text = html.escape(status)
    body = _PAGE.format(status=f'<span class="error">{text}</span>' if error else text,
                        path=SESSION_PATH)
    return HTMLResponse(body, status_code=status_code,
                        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY,
                                 "Cache-Control": "no-store"})


def set_session_cookie(response: HTMLResponse, request: Request, token: str,
                       expires_at: datetime | None, *, production: bool) -> None:
    """HttpOnly, SameSite=strict, and Secure in production whatever the scheme the app
    sees (behind a proxy that ends TLS it sees http); the embedded default is plain http."""
    max_age = None
    if expires_at is not None:
        max_age = max(0, int((expires_at - datetime.now(UTC)).total_seconds()))
    response.set_cookie(CODEC_COOKIE, token, max_age=max_age, path=COOKIE_PATH,
                        httponly=True, samesite="strict",
                        secure=production or request.url.scheme == "https")


def clear_session_cookie(response: HTMLResponse) -> None:
    response.delete_cookie(CODEC_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def cookie_token(request: Request) -> str | None:
    """The token of a codec session, for codec calls only (never the rest of the API):
    this page's cookie, or the staff sign-in's (api/staff_session.py) that the Temporal
    UI served under /ui/ sends to the codec on the same origin."""
    if not request.url.path.startswith(COOKIE_PATH + "/") or request.url.path == SESSION_PATH:
        return None
    return request.cookies.get(CODEC_COOKIE) or request.cookies.get(STAFF_COOKIE) or None


def from_this_site(request: Request) -> bool:
    """A browser says where a form post comes from: `Sec-Fetch-Site` (worked out by the
    browser itself, so right behind a proxy too), else `Origin` against the Host it was
    sent to. Clients that say neither (scripts, tests) carry nobody's cookie."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host")


async def limited_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None once it passes `limit` (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
