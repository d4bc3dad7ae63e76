"""Bearer tokens: who is calling, in which roles, and for which agency.

The API holds children's case data, so every request carries a signed JWT and nothing
in it is trusted until `TokenVerifier.verify` has checked signature, issuer, audience
and lifetime. Agencies and their integrations may only reach their own contracts (C7),
so their tokens must name the agency they act for.

Two sources of signing keys:
- **production**: the identity provider's JWKS endpoint (RS256 or ES256);
- **development**: a local ES256 key pair in the data folder, with `mint_token` to issue
  tokens for manual testing -- never used when a JWKS URL is configured.

Only asymmetric algorithms are accepted, and each verifier has a fixed allow-list, so a
token cannot choose its own algorithm ("none", or HS256 keyed with the public key).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from time import monotonic
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from casework.config import Settings
from models.roles import AGENCY_SCOPED_ROLES as AGENCY_SCOPED_ROLES
from models.roles import Role as Role

log = logging.getLogger("casework.tokens")

LEEWAY_SECONDS = 30
"""Tolerated clock difference between the identity provider and us."""
LOCAL_KEY_ID = "local"
"""`kid` header of tokens minted with the local development key."""
LOCAL_ALGORITHMS = ("ES256",)
JWKS_ALGORITHMS = ("RS256", "ES256")
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
"""`nbf` is checked when present but not required: several identity providers omit it."""


# Role and AGENCY_SCOPED_ROLES live in models/roles.py (the workflow checks them too);
# re-exported here, where the API has always imported them from.


@dataclass(frozen=True)
class Principal:
    """The verified caller. Immutable so no handler can widen it after verification."""

    subject: str
    roles: frozenset[Role]
    agency_id: str | None
    # The district a CP staff member works in (T1-T4: a district sees its own requests
    # between districts); None for state-wide staff, who see every district's.
    district_id: str | None = None

    def has_any(self, *roles: Role) -> bool:
        """True when the caller holds at least one of `roles`."""
        return not self.roles.isdisjoint(roles)


class TokenFailure(StrEnum):
    """Why a token was refused; short, stable strings for a 401 problem detail."""

    EXPIRED = "expired"
    NOT_YET_VALID = "not yet valid"
    BAD_SIGNATURE = "bad signature"
    WRONG_AUDIENCE = "wrong audience"
    WRONG_ISSUER = "wrong issuer"
    MALFORMED = "malformed"
    ALGORITHM_NOT_ALLOWED = "algorithm not allowed"
    MISSING_CLAIM = "missing claim"
    MISSING_AGENCY_ID = "missing agency_id"
    UNKNOWN_ROLE = "unknown role"
    UNKNOWN_SIGNING_KEY = "unknown signing key"
    SIGNING_KEYS_UNAVAILABLE = "signing keys unavailable"


class TokenError(Exception):
    """A token was refused. `reason` is safe to show the caller; the message may say more."""

    def __init__(self, reason: TokenFailure, detail: str | None = None) -> None:
        super().__init__(detail or reason.value)
        self.reason: str = reason.value


class SigningKeysUnavailable(TokenError):
    """The JWKS endpoint could not be reached: our problem, not the caller's.

    A subclass so the API may answer 503 instead of 401, while code that only cares
    whether the token was accepted can still catch `TokenError`.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(TokenFailure.SIGNING_KEYS_UNAVAILABLE, detail)


_PYJWT_FAILURES: list[tuple[type[jwt.PyJWTError], TokenFailure]] = [
    # Order matters: InvalidSignatureError is a DecodeError.
    (jwt.ExpiredSignatureError, TokenFailure.EXPIRED),
    (jwt.ImmatureSignatureError, TokenFailure.NOT_YET_VALID),
    (jwt.InvalidSignatureError, TokenFailure.BAD_SIGNATURE),
    (jwt.InvalidAudienceError, TokenFailure.WRONG_AUDIENCE),
    (jwt.InvalidIssuerError, TokenFailure.WRONG_ISSUER),
    (jwt.InvalidAlgorithmError, TokenFailure.ALGORITHM_NOT_ALLOWED),
    (jwt.MissingRequiredClaimError, TokenFailure.MISSING_CLAIM),
]


def _failure_for(exc: jwt.PyJWTError) -> TokenFailure:
    for exc_type, failure in _PYJWT_FAILURES:
        if isinstance(exc, exc_type):
            return failure
    return TokenFailure.MALFORMED


STALE_KEYS_SECONDS = 3600.0
"""How long the last fetched key set may stand in for an unreachable provider."""


class TokenVerifier:
    """Checks bearer tokens against one issuer and audience.

    Give exactly one key source: `local_public_key_pem` (development) or `jwks_url`
    (production). `verify` is synchronous and, with a JWKS URL, may fetch keys over
    HTTP (cached for five minutes), so async callers should run it in a thread.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        local_public_key_pem: str | None = None,
        jwks_url: str | None = None,
        jwks_timeout_seconds: float = 5.0,
        jwks_cache_seconds: float = 300.0,
        jwks_stale_seconds: float = STALE_KEYS_SECONDS,
    ) -> None:
        if (local_public_key_pem is None) == (jwks_url is None):
            raise ValueError("give exactly one of local_public_key_pem or jwks_url")
        self._issuer = issuer
        self._audience = audience
        self._local_key: ec.EllipticCurvePublicKey | None = None
        self._jwks: jwt.PyJWKClient | None = None
        if local_public_key_pem is not None:
            key = serialization.load_pem_public_key(local_public_key_pem.encode())
            if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(
                key.curve, ec.SECP256R1
            ):
                raise ValueError("local public key must be an EC P-256 key (ES256)")
            self._local_key = key
            self._algorithms: tuple[str, ...] = LOCAL_ALGORITHMS
        else:
            assert jwks_url is not None
            self._jwks = jwt.PyJWKClient(jwks_url, timeout=jwks_timeout_seconds,
                                         lifespan=jwks_cache_seconds)
            self._algorithms = JWKS_ALGORITHMS
        # The last key set fetched, for an outage of the provider (see _signing_key).
        self._last_good: dict[str, jwt.PyJWK] = {}
        self._last_good_at = 0.0
        self._stale_seconds = jwks_stale_seconds

    def verify(self, token: str) -> Principal:
        """Return the caller for a valid token, or raise `TokenError` saying why not."""
        try:
            key = self._signing_key(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=list(self._algorithms),
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": _REQUIRED_CLAIMS},
            )
        except TokenError:
            raise
        except jwt.PyJWTError as exc:
            raise TokenError(_failure_for(exc), str(exc)) from exc
        return _principal_from_claims(claims)

    def _signing_key(self, token: str) -> jwt.PyJWK | ec.EllipticCurvePublicKey:
        if self._local_key is not None:
            return self._local_key
        assert self._jwks is not None
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenError(TokenFailure.UNKNOWN_SIGNING_KEY, "the token names no key (kid)")
        # The key set first: an unreachable endpoint, or one answering a page that is no
        # key set (a login page, a proxy error, no signing keys), is the provider's fault,
        # not the caller's -> 503. Only a kid the usable set lacks is the caller's -> 401.
        try:
            keys = self._jwks.get_signing_keys()
        except _BROKEN_KEY_SET as exc:
            # An outage of the provider: keys it served within the last hour still sign
            # today's tokens, so a cached key set outliving its five minutes keeps the
            # API answering; an unknown kid, or an older set, cannot be vouched for.
            stale = self._last_good.get(kid)
            if stale is not None and monotonic() - self._last_good_at < self._stale_seconds:
                log.warning("identity provider unavailable (%s); using its key set "
                            "fetched %.0f s ago", exc, monotonic() - self._last_good_at)
                return stale
            raise SigningKeysUnavailable(f"{type(exc).__name__}: {exc}") from exc
        self._last_good = {key.key_id: key for key in keys if key.key_id}
        self._last_good_at = monotonic()
        try:
            return self._jwks.get_signing_key(kid)
        except (jwt.PyJWKClientConnectionError, jwt.PyJWKSetError, ValueError, KeyError,
                TypeError) as exc:
            raise SigningKeysUnavailable(f"{type(exc).__name__}: {exc}") from exc
        except jwt.PyJWKClientError as exc:
            raise TokenError(TokenFailure.UNKNOWN_SIGNING_KEY, str(exc)) from exc


_BROKEN_KEY_SET = (jwt.PyJWTError, ValueError, KeyError, TypeError)
"""What PyJWT raises for a key set it cannot use: no JSON, no signing keys, a key
missing a member (`KeyError`), a member of the wrong type."""


def _principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Turn verified claims into a Principal, refusing anything ambiguous."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise TokenError(TokenFailure.MALFORMED, "'sub' must be a non-empty string")
    raw_roles = claims.get("roles")
    if raw_roles is None:
        raise TokenError(TokenFailure.MISSING_CLAIM, "token has no 'roles' claim")
    if not isinstance(raw_roles, list) or not all(isinstance(r, str) for r in raw_roles):
        raise TokenError(TokenFailure.MALFORMED, "'roles' must be a list of strings")
    known = {role.value for role in Role}
    unknown = sorted(set(raw_roles) - known)
    if unknown:
        # Refuse rather than ignore: a typo in the identity provider should be loud.
        raise TokenError(TokenFailure.UNKNOWN_ROLE, f"unknown role(s): {', '.join(unknown)}")
    roles = frozenset(Role(r) for r in raw_roles)
    if not roles:
        raise TokenError(TokenFailure.MISSING_CLAIM, "'roles' is empty")
    agency_id = claims.get("agency_id")
    if agency_id is not None and (not isinstance(agency_id, str) or not agency_id):
        raise TokenError(TokenFailure.MALFORMED, "'agency_id' must be a non-empty string")
    if agency_id is None and not roles.isdisjoint(AGENCY_SCOPED_ROLES):
        raise TokenError(
            TokenFailure.MISSING_AGENCY_ID,
            "agency and integration tokens must name their agency (C7)",
        )
    district_id = claims.get("district_id")
    if district_id is not None and (not isinstance(district_id, str) or not district_id):
        raise TokenError(TokenFailure.MALFORMED, "'district_id' must be a non-empty string")
    return Principal(subject=subject, roles=roles, agency_id=agency_id,
                     district_id=district_id)


class LocalSigningKeyRefused(RuntimeError):
    """The local development key was asked for where it must not be used.

    Production must verify tokens from the identity provider: a key file on one host
    lets anyone who can read it mint an admin token.
    """


def local_signing_key(settings: Settings) -> str:
    """The embedded default's private signing key (created on first use), or refusal.

    Refused in production, and whenever a JWKS URL is configured: the API would not
    accept tokens signed with it, so minting one could only mislead.
    """
    if settings.environment == "production":
        raise LocalSigningKeyRefused(
            "production refuses the local signing key: set AUTH_JWKS_URL to the identity "
            "provider's JWKS endpoint (and AUTH_ISSUER / AUTH_AUDIENCE to match its tokens)"
        )
    if settings.auth_jwks_url:
        raise LocalSigningKeyRefused(
            "AUTH_JWKS_URL is set: tokens come from that identity provider, not the local key"
        )
    return load_or_create_local_key(settings.local_signing_key_file)


def verifier_for_settings(settings: Settings) -> TokenVerifier:
    """The verifier this deployment trusts: the JWKS URL when configured, else (embedded
    default only) the public half of the local key."""
    if settings.auth_jwks_url:
        return TokenVerifier(issuer=settings.auth_issuer, audience=settings.auth_audience,
                             jwks_url=settings.auth_jwks_url)
    return TokenVerifier(
        issuer=settings.auth_issuer, audience=settings.auth_audience,
        local_public_key_pem=public_pem_from_private(local_signing_key(settings)),
    )


def generate_local_key_pem() -> str:
    """A new EC P-256 private key (PKCS8 PEM) for signing development tokens."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def load_or_create_local_key(path: Path) -> str:
    """Read the development signing key, creating it (mode 0600) on first use.

    The file is created with `O_EXCL` and restrictive permissions from the start, so
    the private key is never world-readable, not even for a moment.
    """
    try:
        return path.read_text(encoding="ascii")
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = generate_local_key_pem()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process created it between our read and our open; use theirs.
        return path.read_text(encoding="ascii")
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(pem)
    return pem


def public_pem_from_private(private_pem: str) -> str:
    """The public half, for the verifier (and for a JWKS of our own if ever needed)."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .decode("ascii")
    )


def mint_token(
    private_pem: str,
    *,
    subject: str,
    roles: Sequence[str],
    agency_id: str | None,
    issuer: str,
    audience: str,
    ttl_seconds: int = 8 * 3600,
    now: datetime | None = None,
    district_id: str | None = None,
) -> str:
    """Issue an ES256 token with the local development key (kid "local").

    Roles are taken as given, unchecked, so tests can mint deliberately bad tokens.
    """
    issued_at = now if now is not None else datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": list(roles),
        "iss": issuer,
        "aud": audience,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + timedelta(seconds=ttl_seconds),
    }
    if agency_id is not None:
        claims["agency_id"] = agency_id
    if district_id is not None:
        claims["district_id"] = district_id
    return jwt.encode(claims, private_pem, algorithm="ES256", headers={"kid": LOCAL_KEY_ID})
