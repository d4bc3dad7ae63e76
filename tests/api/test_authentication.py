"""Issue 6: nobody reaches the API without a valid bearer token.

Each kind of bad token answers 401 problem+json with `WWW-Authenticate: Bearer`; an
unreachable identity provider answers 503; a production configuration (JWKS, explicit
codec keys) accepts the provider's RS256 tokens; `casework token` mints tokens the
embedded API accepts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from api.body_limit import DEFAULT_LIMIT_BYTES, limit_for
from casework import cli
from casework.config import Settings
from casework.processes import free_port
from casework.tokens import generate_local_key_pem, mint_token
from tests.api.conftest import ApiClient, assert_problem, running_app, token_for
from tests.jwks_server import serving, serving_jwks


def _bad_tokens(settings: Settings) -> dict[str, tuple[str, str]]:
    """name -> (token, the `reason` the API must give)."""
    now = datetime.now(UTC)
    other_key = generate_local_key_pem()
    return {
        "expired": (token_for(settings, "admin", now=now - timedelta(hours=2),
                              ttl_seconds=3600), "expired"),
        "not_yet_valid": (token_for(settings, "admin", now=now + timedelta(hours=1)),
                          "not yet valid"),
        "wrong_signature": (mint_token(other_key, subject="intruder", roles=["admin"],
                                       agency_id=None, issuer=settings.auth_issuer,
                                       audience=settings.auth_audience), "bad signature"),
        "wrong_audience": (token_for(settings, "admin", audience="someone-else"),
                           "wrong audience"),
        "wrong_issuer": (token_for(settings, "admin", issuer="https://evil.example"),
                         "wrong issuer"),
        "malformed": ("not-a-jwt", "malformed"),
        "malformed_segments": ("bm90IGpzb24.e30.c2ln", "malformed"),  # header not JSON
        "unknown_role": (token_for(settings, "superuser"), "unknown role"),
        "c7_agency_without_agency_id": (token_for(settings, "agency"), "missing agency_id"),
    }


BAD_TOKEN_NAMES = ["expired", "not_yet_valid", "wrong_signature", "wrong_audience",
                   "wrong_issuer", "malformed", "malformed_segments", "unknown_role",
                   "c7_agency_without_agency_id"]


@pytest.mark.parametrize("name", BAD_TOKEN_NAMES)
async def test_bad_token_is_401_problem_with_bearer_challenge(
        api: ApiClient, api_settings: Settings, name: str) -> None:
    token, reason = _bad_tokens(api_settings)[name]
    client = api.with_token(token)
    for response in (await client.get("/cases"),
                     await client.post("/cases/any-case/reports", json={"report_id": "r"})):
        problem = assert_problem(response, 401, field="Authorization")
        assert problem["reason"] == reason
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge


def test_the_bad_token_list_covers_every_case(api_settings: Settings) -> None:
    assert sorted(_bad_tokens(api_settings)) == sorted(BAD_TOKEN_NAMES)


@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer "])
async def test_missing_token_is_401_with_a_plain_bearer_challenge(
        api: ApiClient, header: str | None) -> None:
    client = api.with_token(None)
    headers = {"Authorization": header} if header is not None else {}
    response = await client.get("/cases", headers=headers)
    problem = assert_problem(response, 401, field="Authorization")
    assert problem["reason"] == "missing"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_valid_token_is_enough(api: ApiClient) -> None:
    response = await api.as_role("practitioner").get("/cases", params={"limit": 1})
    assert response.status_code == 200, response.text


async def test_503_when_the_identity_providers_keys_cannot_be_fetched(
        api_settings: Settings) -> None:
    unreachable = api_settings.model_copy(
        update={"auth_jwks_url": f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"})
    async with running_app(unreachable) as client:
        response = await client.get("/cases")
    problem = assert_problem(response, 503)
    assert problem["component"] == "identity_provider"


@pytest.mark.parametrize(("body", "content_type"), [
    (b"<html><body>Please sign in</body></html>", "text/html"),  # a login page
    (b'{"keys": []}', "application/json"),                        # no signing keys
    (b'{"keys": [{"kty": "oct"}]}', "application/json"),           # a broken key
    (json.dumps({"keys": [RSAAlgorithm.to_jwk(                      # keys without a kid
        rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(),
        as_dict=True)]}).encode(), "application/json"),
], ids=["html", "empty", "broken-key", "no-kid"])
async def test_503_when_the_identity_provider_answers_no_usable_key_set(
        api_settings: Settings, body: bytes, content_type: str) -> None:
    """The provider's fault, not the caller's: 503 naming it, never 500 or 401."""
    with serving(body, content_type) as url:
        broken = api_settings.model_copy(update={"auth_jwks_url": url})
        async with running_app(broken) as client:
            token = token_for(broken, "operations")
            response = await client.with_token(token).get("/cases")
    assert assert_problem(response, 503)["component"] == "identity_provider"


# --- production: tokens from a JWKS endpoint (a real HTTP server on 127.0.0.1) -------


@pytest.fixture(scope="module")
def provider_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(provider_key: rsa.RSAPrivateKey) -> Iterator[str]:
    with serving_jwks(provider_key.public_key(), "idp-1") as url:
        yield url


async def test_production_accepts_the_identity_providers_tokens_only(
        api_settings: Settings, jwks_url: str, provider_key: rsa.RSAPrivateKey) -> None:
    production = api_settings.model_copy(update={
        "environment": "production", "auth_jwks_url": jwks_url,
        "auth_issuer": "https://idp.example", "auth_audience": "casework-api"})
    now = datetime.now(UTC)
    claims = {"sub": "ops-1", "roles": ["operations"], "iss": "https://idp.example",
              "aud": "casework-api", "iat": now, "exp": now + timedelta(minutes=5)}
    from_provider = jwt.encode(claims, provider_key, algorithm="RS256",
                               headers={"kid": "idp-1"})
    async with running_app(production) as client:
        accepted = await client.with_token(from_provider).get("/cases", params={"limit": 1})
        assert accepted.status_code == 200, accepted.text
        # A token signed with the local development key means nothing in production.
        local = token_for(production, "admin", issuer="https://idp.example",
                          audience="casework-api")
        refused = await client.with_token(local).get("/cases")
        assert assert_problem(refused, 401)["reason"] == "unknown signing key"


async def test_casework_token_prints_a_token_the_api_accepts(
        api: ApiClient, api_settings: Settings, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "get_settings", lambda: api_settings)
    cli.main(["token", "--role", "agency", "--agency", "agency-cli", "--subject", "cli-user",
              "--minutes", "5"])
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["roles"] == ["agency"] and claims["agency_id"] == "agency-cli"
    assert claims["sub"] == "cli-user" and claims["exp"] - claims["iat"] == 300
    response = await api.with_token(token).get("/cases", params={"limit": 1})
    assert response.status_code == 200, response.text
    assert response.json()["items"] == [], "C7: a new agency has no cases"


async def test_a_malformed_body_without_a_token_is_401_not_422(api: ApiClient) -> None:
    """The body is not even looked at before the caller is known."""
    for token in (None, "not-a-jwt"):
        client = api.with_token(token)
        refused = await client.post("/cases", content=b"{not json",
                                    headers={"Content-Type": "application/json"})
        assert refused.status_code == 401, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "WWW-Authenticate" in refused.headers
    # With a valid token the same body is the client's mistake: 422 naming the body.
    invalid = await api.post("/cases", content=b"{not json",
                             headers={"Content-Type": "application/json"})
    assert invalid.status_code == 422


async def test_a_body_too_deep_to_parse_without_a_token_is_401(api: ApiClient) -> None:
    """A body FastAPI gives up parsing (400) says nothing before the caller is known."""
    deep = b"[" * 200_000
    refused = await api.with_token(None).post(
        "/cases", content=deep, headers={"Content-Type": "application/json"})
    assert refused.status_code == 401, refused.text
    parsed = await api.post("/cases", content=deep,
                            headers={"Content-Type": "application/json"})
    assert parsed.status_code in (400, 422)
    assert parsed.headers["content-type"].startswith("application/problem+json")


async def test_bodies_over_the_limit_are_refused_unread(api: ApiClient) -> None:
    """1 MiB for the API (16 MiB for codec batches): declared or streamed, with or
    without a token, a larger body is 413 before anything parses it."""
    big = b'{"case_id": "' + b"x" * (DEFAULT_LIMIT_BYTES + 10) + b'"}'
    for client in (api, api.with_token(None)):
        declared = await client.post("/cases", content=big,
                                     headers={"Content-Type": "application/json"})
        assert assert_problem(declared, 413)["title"] == "Content Too Large"

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 64 * 1024):
            yield big[start:start + 64 * 1024]

    streamed = await api.post("/cases", content=chunks(),
                              headers={"Content-Type": "application/json"})
    assert assert_problem(streamed, 413)["status"] == 413
    assert limit_for("/codec/decode") > limit_for("/cases") == DEFAULT_LIMIT_BYTES

