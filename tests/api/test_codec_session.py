"""The codec session (api/codec_session.py): how the embedded Temporal UI, which has no
login of its own, gets to decrypt history -- an operator signs in once with a token and
the browser then sends it as a cookie with the UI's codec calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from api.codec_session import CODEC_COOKIE
from casework.codec import generate_key
from casework.tokens import Role
from tests.api.conftest import UI_ORIGIN, ApiClient, running_app, token_for
from tests.api.test_codec_endpoint import _plain_payloads
from tests.jwks_server import serving_jwks


def _browser(api: ApiClient) -> ApiClient:
    """A client with no Authorization header, keeping cookies like a browser."""
    return api.with_token(None)


async def _sign_in(browser: ApiClient, token: str) -> httpx.Response:
    return await browser.post("/codec/session", content=f"token={token}",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})


def _set_cookie(response: httpx.Response) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(response.headers["set-cookie"])
    return cookie


async def test_the_sign_in_page_is_served_without_a_token(api: ApiClient) -> None:
    page = await _browser(api).get("/codec/session")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/codec/session">' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


async def test_an_operations_token_signs_in_and_the_cookie_then_decodes(
        api: ApiClient) -> None:
    browser = _browser(api)
    assert (await browser.post("/codec/decode", json=_plain_payloads())).status_code == 401
    signed_in = await _sign_in(browser, token_for(api.settings, Role.OPERATIONS))
    assert signed_in.status_code == 200, signed_in.text
    morsel = _set_cookie(signed_in)[CODEC_COOKIE]
    assert morsel["httponly"] and morsel["samesite"].lower() == "strict"
    assert morsel["path"] == "/codec" and int(morsel["max-age"]) > 0
    decoded = await browser.post("/codec/decode", json=_plain_payloads(),
                                 headers={"Origin": UI_ORIGIN})
    assert decoded.status_code == 200, decoded.text
    assert decoded.headers["access-control-allow-credentials"] == "true"
    # The cookie is for the codec only: the rest of the API still wants a bearer token.
    assert (await browser.get("/cases")).status_code == 401

    signed_out = await browser.post("/codec/session", content="sign_out=1", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert signed_out.status_code == 200
    assert (await browser.post("/codec/decode", json=_plain_payloads())).status_code == 401


async def test_sign_in_refuses_bad_tokens_and_roles_that_may_not_decrypt(
        api: ApiClient) -> None:
    browser = _browser(api)
    refused = await _sign_in(browser, "not-a-token")
    assert refused.status_code == 401 and "set-cookie" not in refused.headers
    practitioner = await _sign_in(browser, token_for(api.settings, Role.PRACTITIONER))
    assert practitioner.status_code == 403 and "set-cookie" not in practitioner.headers
    assert "operations" in practitioner.text


async def test_a_cookie_carrying_a_practitioner_token_is_still_refused(api: ApiClient) -> None:
    """The cookie is checked like a bearer token on every call, roles included."""
    browser = _browser(api)
    browser.cookies.set(CODEC_COOKIE, token_for(api.settings, Role.PRACTITIONER),
                        path="/codec")
    assert (await browser.post("/codec/decode", json=_plain_payloads())).status_code == 403
    browser.cookies.set(CODEC_COOKIE, "tampered", path="/codec")
    assert (await browser.post("/codec/decode", json=_plain_payloads())).status_code == 401


async def test_only_this_page_signs_in_or_out(api: ApiClient) -> None:
    """Login CSRF: another site's form must not swap in its own session, or sign the
    operator out; a same-origin post (what the page itself sends) is accepted."""
    browser = _browser(api)
    token = token_for(api.settings, Role.OPERATIONS)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "https://evil.example"}):
        for body in (f"token={token}", "sign_out=1"):
            refused = await browser.post("/codec/session", content=body,
                                         headers=form | headers)
            assert refused.status_code == 403, headers
            assert "set-cookie" not in refused.headers
    same = await browser.post("/codec/session", content=f"token={token}",
                              headers=form | {"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200 and CODEC_COOKIE in _set_cookie(same)


async def test_an_oversized_sign_in_form_is_not_read(api: ApiClient) -> None:
    refused = await _browser(api).post(
        "/codec/session", content=b"token=" + b"x" * 200_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 413


async def test_the_cookie_is_secure_in_production(api: ApiClient) -> None:
    """Behind a proxy that ends TLS the app sees http; production marks it Secure all
    the same (the embedded default, plain http on 127.0.0.1, cannot)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    token = jwt.encode({"sub": "ops-1", "roles": ["operations"], "iss": "https://idp.example",
                        "aud": "casework-api", "iat": now,
                        "exp": now + timedelta(minutes=5)},
                       key, algorithm="RS256", headers={"kid": "idp-1"})
    with serving_jwks(key.public_key(), "idp-1") as url:
        production = api.settings.model_copy(update={
            "environment": "production", "codec_keys": f"p1:{generate_key()}",
            "auth_jwks_url": url, "auth_issuer": "https://idp.example",
            "auth_audience": "casework-api"})
        async with running_app(production) as client:
            signed_in = await _sign_in(_browser(client), token)
    assert signed_in.status_code == 200, signed_in.text
    assert _set_cookie(signed_in)[CODEC_COOKIE]["secure"]
