"""Who is calling: a bearer token on every request except health checks and the docs.

The API holds children's case data, so nothing is answered to an unknown caller. The
token is checked by `casework.tokens.TokenVerifier`, built once when the app is created
(`authenticator_for`): against the identity provider's JWKS when `auth_jwks_url` is set,
otherwise -- embedded default only -- against the local signing key that `casework token`
signs with. Production without a JWKS URL refuses to start.

Answers:
- no token, or one that is expired, not yet valid, wrongly signed, for another audience
  or issuer, or malformed -> 401 problem+json with `WWW-Authenticate: Bearer` (RFC 6750);
- the identity provider's keys cannot be fetched -> 503 (our fault, the client may retry);
- a valid token without a role allowed here -> 403 (`require_roles`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.access_log import access_record
from api.codec_session import SESSION_PATH, cookie_token
from api.errors import Forbidden, ServiceUnavailable, Unauthorized
from casework.config import Settings
from casework.tokens import (
    Principal,
    Role,
    SigningKeysUnavailable,
    TokenError,
    TokenVerifier,
    verifier_for_settings,
)

bearer_scheme = HTTPBearer(
    auto_error=False,  # we answer 401 ourselves, as problem+json
    scheme_name="bearer",
    bearerFormat="JWT",
    description="A JWT from the identity provider; in the embedded default, print one with "
    "`casework token --role practitioner` (add `--agency ID` for agency roles).",
)


@dataclass(frozen=True)
class Authenticator:
    """The verifier and how to call it. With a JWKS URL, `verify` may fetch keys over
    HTTP, so it runs in a thread rather than stall every request on the event loop; the
    local key check is a few microseconds and runs inline."""

    verifier: TokenVerifier
    may_fetch_keys: bool

    async def principal(self, token: str) -> Principal:
        if self.may_fetch_keys:
            return await asyncio.to_thread(self.verifier.verify, token)
        return self.verifier.verify(token)


def authenticator_for(settings: Settings) -> Authenticator:
    """Raises `LocalSigningKeyRefused` in production without `auth_jwks_url`."""
    return Authenticator(verifier_for_settings(settings),
                         may_fetch_keys=settings.auth_jwks_url is not None)


def _challenge(reason: str) -> str:
    # RFC 6750 section 3: quoted-string values; our reasons contain no quotes.
    return f'Bearer error="invalid_token", error_description="{reason}"'


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The verified caller; noted in the access record of a write. Codec calls may
    carry the token in the codec session cookie instead (api/codec_session.py)."""
    token = credentials.credentials if credentials is not None else cookie_token(request)
    if token is None:
        raise Unauthorized("A bearer token is required (Authorization: Bearer <token>).",
                           reason="missing")
    authenticator: Authenticator = request.app.state.casework.authenticator
    try:
        principal = await authenticator.principal(token)
    except SigningKeysUnavailable as exc:
        raise ServiceUnavailable("The identity provider's signing keys cannot be fetched.",
                                 component="identity_provider") from exc
    except TokenError as exc:
        raise Unauthorized(f"The bearer token was refused: {exc.reason}.", reason=exc.reason,
                           challenge=_challenge(exc.reason)) from exc
    record = access_record(request)
    if record is not None:
        record.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticate)]


def forbidden(principal: Principal, allowed: Iterable[Role], action: str | None) -> Forbidden:
    """403 naming the roles that would do, so a caller knows what to ask for."""
    needed = sorted(role.value for role in allowed)
    what = f"'{action}'" if action else "this"
    return Forbidden(
        f"Your role(s) ({', '.join(sorted(principal.roles))}) may not do {what}; "
        f"it needs one of: {', '.join(needed)}.",
        required_roles=needed, **({"action": action} if action else {}))


def require_roles(*roles: Role, action: str | None = None
                  ) -> Callable[[Request, Principal], Awaitable[Principal]]:
    """A dependency yielding the caller when it holds one of `roles`, else 403.

    Routes do not call this with role lists of their own: they name an action of the
    permission table (api/permissions.py), which calls this with that action's roles.
    """
    allowed = frozenset(roles)

    async def gate(request: Request, principal: PrincipalDep) -> Principal:
        if not principal.has_any(*allowed):
            raise forbidden(principal, allowed, action)
        return principal

    return gate


PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/redoc",
                          "/openapi.json", SESSION_PATH})
"""What anyone may reach; `/codec/session` checks the token in its form itself."""


async def check_caller(request: Request) -> None:
    """Raise the 401/503 that `authenticate` would, for a request answered before its
    dependencies ran (see api/errors.py). Public paths pass."""
    if request.url.path in PUBLIC_PATHS:
        return
    await authenticate(request, await bearer_scheme(request))
