"""`/ui/`: the Temporal UI for operations staff, behind a staff sign-in (issue 11).

One address (`/ui/`), one sign-in, then decrypted history: the UI is proxied from the
Temporal UI server (api/ui_proxy.py) and its codec calls go to `/codec` on this same
origin with the staff session cookie (api/staff_session.py). Nobody reaches the UI here
without a session that may decrypt history (operations, admin), so there is no page
that shows ciphertext with a red banner: a missing, expired or refused session sends
the browser to the sign-in page, which says which of the three it was. That includes
the Temporal UI's own reaction to a 401 from its API: it goes to `/ui/login`, answered
here.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.access_log import access_record
from api.auth import Authenticator, forbidden
from api.codec_session import CODEC_COOKIE, from_this_site, limited_body
from api.deps import StateDep
from api.errors import NotFound, ServiceUnavailable, Unauthorized
from api.permissions import PERMISSIONS, Action
from api.staff_session import (
    SIGN_IN_PATH,
    SIGN_OUT_PATH,
    STAFF_COOKIE,
    UI_LOGIN_PATH,
    clear_staff_cookie,
    code_matches,
    load_or_create_sign_in_code,
    safe_return_path,
    session_message,
    set_staff_cookie,
    sign_in_page,
    staff_name,
    staff_token,
    token_expiry,
)
from api.state import AppState
from api.ui_proxy import UiProxy, ui_call_allowed
from casework.config import UI_PUBLIC_PATH
from casework.tokens import (
    LocalSigningKeyRefused,
    Principal,
    Role,
    SigningKeysUnavailable,
    TokenError,
    local_signing_key,
    mint_token,
)

router = APIRouter(prefix=UI_PUBLIC_PATH, include_in_schema=False)

UI_ROLES = PERMISSIONS[Action.DECODE_PAYLOADS].roles
"""The UI here shows decrypted history, so who may open it is who may decode."""
SIGN_IN_FORM_LIMIT_BYTES = 8 * 1024
UI_API_PREFIX = f"{UI_PUBLIC_PATH}/api/"
"""The UI's own calls (JSON); anything else under /ui/ is a page or its assets."""


def _embedded_identity(state: AppState) -> str | None:
    """The local signing key when this deployment signs its own staff in, else None
    (production, or an identity provider configured: people sign in there)."""
    try:
        return local_signing_key(state.settings)
    except LocalSigningKeyRefused:
        return None


async def _session(request: Request, state: StateDep) -> tuple[Principal | None, str | None]:
    """The caller of a /ui/ request: the staff cookie (or a bearer token, for scripts),
    and if there is none or it is refused, why (a `TokenFailure` value)."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else staff_token(request)
    if token is None:
        return None, None
    authenticator: Authenticator = state.authenticator
    try:
        return await authenticator.principal(token), None
    except SigningKeysUnavailable as exc:
        raise ServiceUnavailable("The identity provider's signing keys cannot be fetched.",
                                 component="identity_provider") from exc
    except TokenError as exc:
        return None, exc.reason


def _page(state: AppState, status: str, *, error: bool, return_path: str,
          status_code: int = 200) -> HTMLResponse:
    return sign_in_page(status, error=error, return_path=return_path,
                        minutes=state.settings.staff_session_minutes,
                        embedded=_embedded_identity(state) is not None,
                        status_code=status_code)


async def _sign_in_or_continue(request: Request, state: AppState, return_url: str | None
                               ) -> Response:
    """Signed in already: on to where the person was going. Otherwise the form, saying
    whether the session is missing, expired or refused."""
    return_path = safe_return_path(return_url)
    principal, failure = await _session(request, state)
    if principal is not None and principal.has_any(*UI_ROLES):
        return RedirectResponse(return_path, status_code=303)
    if principal is not None:
        status = (f"Signed in as {principal.subject}, whose roles may not read decrypted "
                  "history. Sign in as operations staff.")
    else:
        token = staff_token(request)
        status = session_message(failure, token_expiry(token) if token else None)
    return _page(state, status, error=failure is not None or principal is not None,
                 return_path=return_path)


@router.get(SIGN_IN_PATH.removeprefix(UI_PUBLIC_PATH), response_class=HTMLResponse)
async def sign_in_form(request: Request, state: StateDep) -> Response:
    return await _sign_in_or_continue(request, state, request.query_params.get("return"))


@router.get(UI_LOGIN_PATH.removeprefix(UI_PUBLIC_PATH), response_class=HTMLResponse)
async def ui_login(request: Request, state: StateDep) -> Response:
    """The Temporal UI sends the browser here (with `returnUrl`) on a 401 from its API:
    that is how an expired session inside an open UI reaches a clear message."""
    return await _sign_in_or_continue(request, state, request.query_params.get("returnUrl"))


@router.post(SIGN_IN_PATH.removeprefix(UI_PUBLIC_PATH), response_class=HTMLResponse)
async def sign_in(request: Request, state: StateDep) -> Response:
    """Name and staff sign-in code -> an `operations` session (api/staff_session.py).
    Only from this page itself (login CSRF: another site must not sign a browser in as
    someone else, whose reads would then be logged under that name)."""
    signing_key = _embedded_identity(state)
    if signing_key is None:
        return _page(state, "Sign in through the identity provider.", error=True,
                     return_path=safe_return_path(None), status_code=404)
    if not from_this_site(request):
        return _page(state, "Sign in from this page itself.", error=True,
                     return_path=safe_return_path(None), status_code=403)
    raw = await limited_body(request, SIGN_IN_FORM_LIMIT_BYTES)
    if raw is None:
        return _page(state, "The form is too large.", error=True,
                     return_path=safe_return_path(None), status_code=413)
    form = parse_qs(raw.decode("utf-8", errors="replace"))
    return_path = safe_return_path((form.get("return") or [""])[0])
    settings = state.settings
    code = load_or_create_sign_in_code(settings.staff_sign_in_code_file)
    if not code_matches((form.get("code") or [""])[0], code):
        return _page(state, "That staff sign-in code is not right.", error=True,
                     return_path=return_path, status_code=401)
    name = staff_name((form.get("name") or [""])[0])
    if name is None:
        return _page(state, "Your name must be an id: letters, digits, '.', '_', ':', '@' "
                     "or '-', at most 64.", error=True, return_path=return_path,
                     status_code=422)
    token = mint_token(signing_key, subject=name, roles=[Role.OPERATIONS.value],
                       agency_id=None, issuer=settings.auth_issuer,
                       audience=settings.auth_audience,
                       ttl_seconds=settings.staff_session_minutes * 60)
    record = access_record(request)
    if record is not None:
        record.principal = Principal(subject=name, roles=frozenset({Role.OPERATIONS}),
                                     agency_id=None)
    response = RedirectResponse(return_path, status_code=303)
    set_staff_cookie(response, request, token,
                     production=settings.environment == "production")
    return response


@router.post(SIGN_OUT_PATH.removeprefix(UI_PUBLIC_PATH), response_class=HTMLResponse)
async def sign_out(request: Request, state: StateDep) -> Response:
    if not from_this_site(request):
        return _page(state, "Sign out from this site itself.", error=True,
                     return_path=safe_return_path(None), status_code=403)
    response = _page(state, "Signed out: this browser no longer reads decrypted history.",
                     error=False, return_path=safe_return_path(None))
    clear_staff_cookie(response)
    return response


def _proxy(request: Request) -> UiProxy:
    proxy: UiProxy | None = getattr(request.app.state, "ui_proxy", None)
    if proxy is None:
        raise NotFound("The Temporal UI is not served by this API (TEMPORAL_UI_UPSTREAM "
                       "is unset and TEMPORAL_ADDRESS names a cluster).")
    return proxy


@router.api_route("", methods=["GET", "HEAD"])
@router.api_route("/{path:path}",
                  methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
async def temporal_ui(request: Request, state: StateDep) -> Response:
    """Every other /ui/ address: the Temporal UI, for a session that may read it."""
    proxy = _proxy(request)
    principal, failure = await _session(request, state)
    is_api_call = request.url.path.startswith(UI_API_PREFIX)
    if principal is None or not principal.has_any(*UI_ROLES):
        if not is_api_call and request.method in ("GET", "HEAD"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{SIGN_IN_PATH}?return={quote(target, safe='')}",
                                    status_code=303)
        if principal is None:
            raise Unauthorized("Sign in at /ui/sign-in to read case history.",
                               reason=failure or "missing")
        raise forbidden(principal, UI_ROLES, "read case history in the Temporal UI")
    record = access_record(request)  # the UI's calls that POST (queries) are logged
    if record is not None:
        record.principal = principal
    if not ui_call_allowed(request.method, request.url.path, principal.roles):
        raise forbidden(principal, {Role.ADMIN}, "change a workflow from the Temporal UI")
    try:
        return await proxy.forward(request, drop_cookies=(STAFF_COOKIE, CODEC_COOKIE))
    except httpx.HTTPError as exc:
        raise ServiceUnavailable("The Temporal UI server is unreachable.",
                                 component="temporal_ui") from exc
