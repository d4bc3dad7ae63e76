"""Staff sign-in for the Temporal UI served by the API (issue 11).

Operations staff read case history in the Temporal UI, whose payloads only the codec
endpoint can decrypt (DESIGN decision 6). The API serves the UI under `/ui/` (its own
origin, api/routes/ui.py), so one cookie set here reaches both the UI proxy and
`/codec/decode`, and the UI's codec calls are same-origin: no settings dialog, no
"include cross-origin credentials".

The embedded identity: a person signs in with a name and the *staff sign-in code*,
a random code kept in `DATA_DIR/staff-sign-in-code` (0600) and printed by `casework
dev`. Knowing it proves the same thing as being able to run `casework token --role
operations`: access to the service's console or its private data folder. A name alone
would not do: anyone on the host (other users of a shared machine) reaches the
loopback port. The name is the token's subject, so the access log says who read what.
The session is an `operations` token (reads, decrypts, changes nothing) signed with the
local key and lasting `staff_session_minutes`.

The cookie:
- HttpOnly (page scripts cannot read it), Path=/ (the UI proxy and the codec endpoint;
  the rest of the API ignores it and still wants a bearer token);
- SameSite=Lax: a link to a case's history from mail or a ticket opens signed in, while
  another site's POST or script fetch never carries it (no cross-site request forgery
  on `/codec/decode` or on the UI's own calls);
- Secure in production or over HTTPS; a browser-session cookie, so an expired token is
  still there to say "your session expired" rather than a bare "sign in".
"""

from __future__ import annotations

import hmac
import html
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import jwt
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import TypeAdapter, ValidationError

from api.schemas.common import PersonRef
from casework.config import UI_PUBLIC_PATH
from casework.tokens import TokenFailure

STAFF_COOKIE = "casework_staff"
SIGN_IN_PATH = f"{UI_PUBLIC_PATH}/sign-in"
SIGN_OUT_PATH = f"{UI_PUBLIC_PATH}/sign-out"
UI_LOGIN_PATH = f"{UI_PUBLIC_PATH}/login"
"""Where the Temporal UI itself sends the browser when its API answers 401."""

_NAME: TypeAdapter[str] = TypeAdapter(PersonRef)


def load_or_create_sign_in_code(path: Path) -> str:
    """The staff sign-in code, created (0600, `O_EXCL`) on first use: 12 characters of a
    URL-safe alphabet, about 72 bits, so guessing it through the form is hopeless."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    code = secrets.token_urlsafe(9)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it between our read and our open
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(code + "\n")
    return code


def code_matches(given: str, expected: str) -> bool:
    """Constant-time, so the answer's timing says nothing about how much was right."""
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def staff_name(given: str) -> str | None:
    """The name as the token's subject, or None when it is not an id: it goes into the
    access log and, through actor fields, could reach workflow history (ids only)."""
    try:
        name = _NAME.validate_python(given.strip())
    except ValidationError:
        return None
    return name or None


def safe_return_path(return_url: str | None) -> str:
    """Where to go after signing in: a path of the UI on this origin, never another
    site (an open redirect would let a link send a freshly signed-in person anywhere).
    The Temporal UI passes a full URL (`returnUrl`), so only its path and query are
    kept, and only under /ui/."""
    fallback = f"{UI_PUBLIC_PATH}/"
    if not return_url:
        return fallback
    parts = urlsplit(return_url)
    path = parts.path
    if not path.startswith(fallback) or "\\" in path or path.startswith("//"):
        return fallback
    if path in (SIGN_IN_PATH, SIGN_OUT_PATH, UI_LOGIN_PATH):
        return fallback
    return path + (f"?{parts.query}" if parts.query else "")


def session_message(failure: str | None, expired_at: datetime | None) -> str:
    """What the sign-in page says about the session the browser brought (none, expired,
    refused), so a person whose history view stopped decrypting knows why."""
    if failure is None:
        return "Sign in to read case history in the Temporal UI."
    if failure == TokenFailure.EXPIRED.value:
        when = f" at {expired_at:%H:%M} UTC" if expired_at is not None else ""
        return f"Your session expired{when}. Sign in again to read case history."
    return (f"Your session was refused ({failure}). Sign in again to read case history.")


def token_expiry(token: str) -> datetime | None:
    """The `exp` of a token, read without verifying it: for the message only."""
    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return None
    return datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None


def staff_token(request: Request) -> str | None:
    return request.cookies.get(STAFF_COOKIE) or None


def set_staff_cookie(response: Response, request: Request, token: str, *,
                     production: bool) -> None:
    response.set_cookie(STAFF_COOKIE, token, path="/", httponly=True, samesite="lax",
                        secure=production or request.url.scheme == "https")


def clear_staff_cookie(response: Response) -> None:
    response.delete_cookie(STAFF_COOKIE, path="/", httponly=True, samesite="lax")


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>casework: staff sign-in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:sans-serif;max-width:32em;margin:4em auto;padding:0 1em}}
label{{display:block;margin-top:1em}}input{{width:100%;padding:.4em;font-size:1em}}
button{{margin-top:1.2em;padding:.5em 1.5em;font-size:1em}}
.error{{color:#a00}}.note{{color:#555;font-size:.9em}}</style></head>
<body><h1>Case history (Temporal UI)</h1>
<p id="status" class="{status_class}">{status}</p>
{form}
</body></html>"""

_FORM = """<form method="post" action="{path}">
<input type="hidden" name="return" value="{return_path}">
<label for="name">Your name (an id: letters, digits, <code>. _ : @ -</code>)</label>
<input id="name" name="name" autocomplete="username" required maxlength="64">
<label for="code">Staff sign-in code</label>
<input id="code" name="code" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>
<p class="note">The code is printed by <code>casework dev</code> when it starts, and kept
in the data folder (<code>staff-sign-in-code</code>). Signing in lets this browser read
decrypted case history for {minutes} minutes; every history you open is in the access
log under your name.</p>"""

_NO_EMBEDDED = """<p class="note">This deployment verifies people with its identity
provider: sign in to the Temporal UI there (see the README, <em>Reading decrypted
history</em>).</p>"""

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"


def sign_in_page(status: str, *, error: bool, return_path: str, minutes: int,
                 embedded: bool, status_code: int = 200) -> HTMLResponse:
    form = (_FORM.format(path=SIGN_IN_PATH, return_path=html.escape(return_path),
                         minutes=minutes) if embedded else _NO_EMBEDDED)
    body = _PAGE.format(status=html.escape(status), status_class="error" if error else "",
                        form=form)
    return HTMLResponse(body, status_code=status_code,
                        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY,
                                 "Cache-Control": "no-store"})
