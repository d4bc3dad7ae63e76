"""Bearer tokens: a valid token names the caller; every kind of bad token is refused
with a reason fit for a 401, including algorithm-confusion tricks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from casework.config import Settings
from casework.processes import free_port
from casework.tokens import (
    LocalSigningKeyRefused,
    Principal,
    Role,
    SigningKeysUnavailable,
    TokenError,
    TokenFailure,
    TokenVerifier,
    generate_local_key_pem,
    load_or_create_local_key,
    local_signing_key,
    mint_token,
    public_pem_from_private,
    verifier_for_settings,
)
from tests.jwks_server import serving_jwks

ISSUER = "https://id.example.test/"
AUDIENCE = "casework-api"


@pytest.fixture(scope="module")
def private_pem() -> str:
    return generate_local_key_pem()


@pytest.fixture(scope="module")
def verifier(private_pem: str) -> TokenVerifier:
    return TokenVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        local_public_key_pem=public_pem_from_private(private_pem),
    )


def _mint(private_pem: str, **overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "subject": "user-1",
        "roles": ["practitioner"],
        "agency_id": None,
        "issuer": ISSUER,
        "audience": AUDIENCE,
    }
    arguments.update(overrides)
    return mint_token(private_pem, **arguments)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _hand_made_token(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    """Build a token without PyJWT, which (rightly) refuses to mint these attacks."""
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    signature = (
        b"" if key is None else hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    )
    return f"{signing_input}.{_b64url(signature)}"


def _valid_claims() -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    return {
        "sub": "user-1",
        "roles": ["admin"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
    }


def _reason(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenError) as excinfo:
        verifier.verify(token)
    return excinfo.value.reason


def test_valid_token_gives_the_principal(private_pem: str, verifier: TokenVerifier) -> None:
    token = _mint(private_pem, roles=["practitioner", "team_manager"])

    principal = verifier.verify(token)

    assert principal == Principal(
        subject="user-1",
        roles=frozenset({Role.PRACTITIONER, Role.TEAM_MANAGER}),
        agency_id=None,
    )
    assert principal.has_any(Role.TEAM_MANAGER, Role.ADMIN)
    assert not principal.has_any(Role.OPERATIONS)
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "local", "typ": "JWT"}


def test_c7_agency_token_carries_its_agency(private_pem: str, verifier: TokenVerifier) -> None:
    token = _mint(private_pem, roles=["agency", "integration"], agency_id="agency-42")

    principal = verifier.verify(token)

    assert principal.agency_id == "agency-42"
    assert principal.roles == {Role.AGENCY, Role.INTEGRATION}


def test_expired_token_is_refused(private_pem: str, verifier: TokenVerifier) -> None:
    token = _mint(private_pem, now=datetime.now(UTC) - timedelta(hours=2), ttl_seconds=3600)

    assert _reason(verifier, token) == TokenFailure.EXPIRED == "expired"


def test_small_clock_skew_is_tolerated(private_pem: str, verifier: TokenVerifier) -> None:
    just_expired = _mint(private_pem, now=datetime.now(UTC) - timedelta(seconds=70), ttl_seconds=60)
    slightly_ahead = _mint(private_pem, now=datetime.now(UTC) + timedelta(seconds=10))

    assert verifier.verify(just_expired).subject == "user-1"
    assert verifier.verify(slightly_ahead).subject == "user-1"


def test_token_not_yet_valid_is_refused(private_pem: str, verifier: TokenVerifier) -> None:
    claims = _valid_claims()
    claims["nbf"] = claims["iat"] + 600
    token = jwt.encode(claims, private_pem, algorithm="ES256", headers={"kid": "local"})

    assert _reason(verifier, token) == "not yet valid"


def test_token_signed_by_another_key_is_refused(verifier: TokenVerifier) -> None:
    token = _mint(generate_local_key_pem())

    assert _reason(verifier, token) == "bad signature"


def test_wrong_audience_is_refused(private_pem: str, verifier: TokenVerifier) -> None:
    assert _reason(verifier, _mint(private_pem, audience="another-api")) == "wrong audience"


def test_wrong_issuer_is_refused(private_pem: str, verifier: TokenVerifier) -> None:
    token = _mint(private_pem, issuer="https://evil.example.test/")

    assert _reason(verifier, token) == "wrong issuer"


@pytest.mark.parametrize("token", ["", "not-a-token", "a.b.c", "bm90IGpzb24.e30.c2ln"])
def test_malformed_token_is_refused(verifier: TokenVerifier, token: str) -> None:
    assert _reason(verifier, token) == "malformed"


def test_alg_none_token_is_refused(verifier: TokenVerifier) -> None:
    token = _hand_made_token({"alg": "none", "typ": "JWT"}, _valid_claims(), key=None)

    assert _reason(verifier, token) == "algorithm not allowed"


def test_hs256_signed_with_the_public_key_is_refused(
    private_pem: str, verifier: TokenVerifier
) -> None:
    """Algorithm confusion: the public key is public, so it must never act as an HMAC secret."""
    public_pem = public_pem_from_private(private_pem).encode()
    token = _hand_made_token({"alg": "HS256", "kid": "local"}, _valid_claims(), key=public_pem)

    assert _reason(verifier, token) == "algorithm not allowed"


def test_c7_agency_role_without_agency_id_is_refused(
    private_pem: str, verifier: TokenVerifier
) -> None:
    for role in ("agency", "integration"):
        token = _mint(private_pem, roles=[role], agency_id=None)
        assert _reason(verifier, token) == "missing agency_id"


def test_unknown_role_is_refused(private_pem: str, verifier: TokenVerifier) -> None:
    token = _mint(private_pem, roles=["practitioner", "superuser"])

    with pytest.raises(TokenError) as excinfo:
        verifier.verify(token)
    assert excinfo.value.reason == "unknown role"
    assert "superuser" in str(excinfo.value)


@pytest.mark.parametrize("missing", ["roles", "exp", "sub", "iat"])
def test_missing_required_claim_is_refused(
    private_pem: str, verifier: TokenVerifier, missing: str
) -> None:
    claims = _valid_claims()
    del claims[missing]
    token = jwt.encode(claims, private_pem, algorithm="ES256", headers={"kid": "local"})

    assert _reason(verifier, token) == "missing claim"


@pytest.mark.parametrize(
    ("claim", "value"), [("roles", "admin"), ("roles", [1]), ("agency_id", 7), ("agency_id", "")]
)
def test_badly_typed_claims_are_refused(
    private_pem: str, verifier: TokenVerifier, claim: str, value: Any
) -> None:
    claims = _valid_claims() | {claim: value}
    token = jwt.encode(claims, private_pem, algorithm="ES256", headers={"kid": "local"})

    assert _reason(verifier, token) == "malformed"


def test_verifier_needs_exactly_one_key_source(private_pem: str) -> None:
    public_pem = public_pem_from_private(private_pem)
    with pytest.raises(ValueError, match="exactly one"):
        TokenVerifier(issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(ValueError, match="exactly one"):
        TokenVerifier(
            issuer=ISSUER,
            audience=AUDIENCE,
            local_public_key_pem=public_pem,
            jwks_url="http://127.0.0.1:1/jwks",
        )


def test_local_verifier_refuses_a_non_p256_key() -> None:
    rsa_public = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(ValueError, match="P-256"):
        TokenVerifier(issuer=ISSUER, audience=AUDIENCE, local_public_key_pem=rsa_public)


def test_local_key_is_created_private_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing-key.pem"

    created = load_or_create_local_key(path)
    reused = load_or_create_local_key(path)

    assert created == reused
    assert created.startswith("-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **overrides)  # type: ignore[call-arg]


def test_embedded_settings_verify_tokens_of_the_local_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    verifier = verifier_for_settings(settings)
    token = mint_token(local_signing_key(settings), subject="dev", roles=["admin"],
                       agency_id=None, issuer=settings.auth_issuer,
                       audience=settings.auth_audience)

    assert verifier.verify(token).roles == {Role.ADMIN}
    assert settings.local_signing_key_file.exists()


def test_production_refuses_the_local_signing_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path, environment="production")

    with pytest.raises(LocalSigningKeyRefused, match="production refuses the local signing key"):
        verifier_for_settings(settings)
    with pytest.raises(LocalSigningKeyRefused):
        local_signing_key(settings)
    assert not settings.local_signing_key_file.exists()


def test_a_jwks_url_replaces_the_local_key_even_in_embedded_mode(
    tmp_path: Path, private_pem: str
) -> None:
    settings = _settings(tmp_path, auth_jwks_url=f"http://127.0.0.1:{free_port()}/jwks.json")
    verifier = verifier_for_settings(settings)
    local = mint_token(private_pem, subject="dev", roles=["admin"], agency_id=None,
                       issuer=settings.auth_issuer, audience=settings.auth_audience)

    assert _reason(verifier, local) == "signing keys unavailable"
    with pytest.raises(LocalSigningKeyRefused, match="AUTH_JWKS_URL"):
        local_signing_key(settings)


# --- JWKS (production key source), served by a real HTTP server on 127.0.0.1 ---------


@pytest.fixture(scope="module")
def rsa_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(rsa_private_key: rsa.RSAPrivateKey) -> Iterator[str]:
    with serving_jwks(rsa_private_key.public_key(), "rsa-1") as url:
        yield url


@pytest.fixture
def jwks_verifier(jwks_url: str) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_url)


def _rs256(rsa_private_key: rsa.RSAPrivateKey, claims: dict[str, Any], kid: str) -> str:
    return jwt.encode(claims, rsa_private_key, algorithm="RS256", headers={"kid": kid})


def test_jwks_verifier_accepts_rs256_token(
    rsa_private_key: rsa.RSAPrivateKey, jwks_verifier: TokenVerifier
) -> None:
    claims = _valid_claims() | {"roles": ["integration"], "agency_id": "agency-7"}

    principal = jwks_verifier.verify(_rs256(rsa_private_key, claims, kid="rsa-1"))

    assert principal == Principal("user-1", frozenset({Role.INTEGRATION}), "agency-7")


def test_jwks_verifier_refuses_unknown_kid(
    rsa_private_key: rsa.RSAPrivateKey, jwks_verifier: TokenVerifier
) -> None:
    token = _rs256(rsa_private_key, _valid_claims(), kid="rsa-unknown")

    assert _reason(jwks_verifier, token) == "unknown signing key"


def test_jwks_verifier_refuses_other_rsa_key_with_known_kid(jwks_verifier: TokenVerifier) -> None:
    intruder = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    assert _reason(jwks_verifier, _rs256(intruder, _valid_claims(), kid="rsa-1")) == (
        "bad signature"
    )


def test_jwks_verifier_refuses_hs256_keyed_with_the_published_key(
    rsa_private_key: rsa.RSAPrivateKey, jwks_verifier: TokenVerifier
) -> None:
    public_pem = rsa_private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = _hand_made_token({"alg": "HS256", "kid": "rsa-1"}, _valid_claims(), key=public_pem)

    assert _reason(jwks_verifier, token) == "algorithm not allowed"


def test_jwks_verifier_reports_unreachable_key_server() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]
    verifier = TokenVerifier(
        issuer=ISSUER, audience=AUDIENCE, jwks_url=f"http://127.0.0.1:{port}/jwks"
    )
    token = jwt.encode(
        _valid_claims(), generate_local_key_pem(), algorithm="ES256", headers={"kid": "x"}
    )

    with pytest.raises(SigningKeysUnavailable) as excinfo:
        verifier.verify(token)
    assert excinfo.value.reason == "signing keys unavailable"


def test_an_outage_of_the_provider_is_bridged_by_the_last_key_set(
    rsa_private_key: rsa.RSAPrivateKey,
) -> None:
    """The key set's cache ran out while the provider is down: keys it served recently
    still verify (an unknown kid cannot be vouched for: 503); after the stale window,
    nothing is."""
    token = _rs256(rsa_private_key, _valid_claims(), kid="rsa-1")
    with serving_jwks(rsa_private_key.public_key(), "rsa-1") as url:
        bridged = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=url,
                                jwks_cache_seconds=0.05, jwks_stale_seconds=60)
        expired = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=url,
                                jwks_cache_seconds=0.05, jwks_stale_seconds=0.1)
        assert bridged.verify(token).subject == expired.verify(token).subject == "user-1"
    time.sleep(0.2)  # the provider is gone and the caches have run out
    assert bridged.verify(token).subject == "user-1"
    with pytest.raises(SigningKeysUnavailable):
        bridged.verify(_rs256(rsa_private_key, _valid_claims(), kid="rsa-2"))
    with pytest.raises(SigningKeysUnavailable):
        expired.verify(token)
