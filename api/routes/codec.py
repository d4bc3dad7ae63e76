"""Temporal's remote codec protocol, so operations staff can read encrypted history.

The Temporal UI (and `temporal workflow show --codec-endpoint ...`) POST the payloads of
a history here to see them decrypted, and POST operator input to be encrypted like any
other payload (DESIGN decision 6). Decrypting history discloses case data, so the
endpoint sits behind the same tokens as the rest of the API, for operations and admin
only (see api/permissions.py), and each call is in the access log. The UI's preflight
(OPTIONS) is answered by the CORS middleware without a token (api/cors.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

import jwt
from fastapi import APIRouter, Body, Depends, Header, Request
from fastapi.responses import HTMLResponse

from api.access_log import access_record
from api.auth import Authenticator
from api.codec_session import (
    SESSION_PATH,
    clear_session_cookie,
    from_this_site,
    limited_body,
    session_page,
    set_session_cookie,
)
from api.deps import StateDep
from api.errors import Unprocessable
from api.openapi import problems
from api.permissions import PERMISSIONS, Action, permitted
from api.schemas.codec import CodecPayloads
from casework.codec import (
    CodecRequestError,
    PayloadDecryptionError,
    UnknownEncryptionKey,
    decode_json,
    encode_json,
)
from casework.tokens import SigningKeysUnavailable, TokenError

router = APIRouter(prefix="/codec", tags=["codec"])

PayloadsJson = Annotated[CodecPayloads, Body(
    description="proto3 JSON of `temporal.api.common.v1.Payloads`: "
    '`{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}`.')]
NamespaceHeader = Annotated[str | None, Header(
    alias="X-Namespace", description="The namespace the payloads belong to (the UI sends it).")]


def _check_namespace(state: StateDep, namespace: str | None) -> None:
    """This codec holds the keys of one namespace; payloads of another are not ours to
    open, and encoding them with our key would make them unreadable there."""
    expected = state.settings.temporal_namespace
    if namespace is not None and namespace != expected:
        raise Unprocessable(f"This codec serves namespace {expected!r} only.",
                            field="X-Namespace")


@router.post("/encode", dependencies=[Depends(permitted(Action.ENCODE_PAYLOADS))],
             summary="Encrypt payloads (Temporal remote codec protocol)",
             response_model=CodecPayloads, response_model_exclude_unset=True,
             responses=problems())
async def encode(body: PayloadsJson, state: StateDep,
                 namespace: NamespaceHeader = None) -> dict[str, Any]:
    _check_namespace(state, namespace)
    try:
        return await encode_json(state.codec, body.model_dump(exclude_unset=True))
    except CodecRequestError as exc:
        raise Unprocessable(str(exc), field="payloads") from exc


@router.post("/decode", dependencies=[Depends(permitted(Action.DECODE_PAYLOADS))],
             summary="Decrypt history payloads (Temporal remote codec protocol)",
             response_model=CodecPayloads, response_model_exclude_unset=True,
             responses=problems())
async def decode(body: PayloadsJson, state: StateDep,
                 namespace: NamespaceHeader = None) -> dict[str, Any]:
    """Payloads that are not encrypted come back unchanged. A payload sealed with a key
    this deployment no longer holds, or altered, is refused naming the key id."""
    _check_namespace(state, namespace)
    try:
        return await decode_json(state.codec, body.model_dump(exclude_unset=True))
    except (CodecRequestError, UnknownEncryptionKey, PayloadDecryptionError) as exc:
        raise Unprocessable(str(exc), field="payloads") from exc


@router.get(SESSION_PATH.removeprefix("/codec"), response_class=HTMLResponse,
            include_in_schema=False)
async def session_form() -> HTMLResponse:
    """The sign-in page for the Temporal UI's codec calls (api/codec_session.py)."""
    return session_page("Sign in to let the Temporal UI in this browser decrypt history.")


SESSION_FORM_LIMIT_BYTES = 64 * 1024
"""A token and a button: anything larger is not this form (and is not read)."""


@router.post(SESSION_PATH.removeprefix("/codec"), response_class=HTMLResponse,
             include_in_schema=False)
async def session_sign_in(request: Request, state: StateDep) -> HTMLResponse:
    """Verify the pasted token as the codec endpoint would, then keep it in the cookie.
    A form post (not JSON), so the page works without any script. Only from this page
    itself: another site's form could otherwise sign the browser in as someone else, or
    out (login CSRF)."""
    if not from_this_site(request):
        return session_page("Sign in from this page itself.", error=True, status_code=403)
    raw = await limited_body(request, SESSION_FORM_LIMIT_BYTES)
    if raw is None:
        return session_page("The form is too large.", error=True, status_code=413)
    form = parse_qs(raw.decode("utf-8", errors="replace"))
    if form.get("sign_out"):
        response = session_page("Signed out: the Temporal UI can no longer decrypt here.")
        clear_session_cookie(response)
        return response
    token = (form.get("token") or [""])[0].strip()
    authenticator: Authenticator = state.authenticator
    try:
        principal = await authenticator.principal(token)
    except SigningKeysUnavailable:
        return session_page("The identity provider's signing keys cannot be fetched; try "
                            "again shortly.", error=True, status_code=503)
    except TokenError as exc:
        return session_page(f"The token was refused: {exc.reason}.", error=True,
                            status_code=401)
    record = access_record(request)
    if record is not None:
        record.principal = principal
    allowed = PERMISSIONS[Action.DECODE_PAYLOADS].roles
    if not principal.has_any(*allowed):
        needed = ", ".join(sorted(role.value for role in allowed))
        return session_page(f"This token's roles may not decrypt history; it needs one of: "
                            f"{needed}.", error=True, status_code=403)
    expiry = jwt.decode(token, options={"verify_signature": False}).get("exp")
    response = session_page(f"Signed in as {principal.subject}. The Temporal UI in this "
                            "browser can now decrypt history.")
    set_session_cookie(response, request, token,
                       datetime.fromtimestamp(expiry, UTC) if expiry else None,
                       production=state.settings.environment == "production")
    return response
