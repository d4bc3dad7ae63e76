"""Issue 11 over HTTP: the staff sign-in at /ui/sign-in, the gate in front of the proxied
Temporal UI, and the access log's one row per page view of decrypted history.

The UI server itself is not needed here (the browser tests in tests/e2e drive the real
one): the upstream is a closed port, so a request the gate lets through answers 503
`temporal_ui`, and one it stops never gets that far."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.staff_session import STAFF_COOKIE, load_or_create_sign_in_code
from casework.config import Settings
from casework.processes import free_port
from casework.tokens import Role
from models.tables import AccessLogRow
from tests.api.conftest import ApiClient, running_app, token_for
from tests.api.test_codec_endpoint import _plain_payloads

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HISTORY = "/ui/namespaces/default/workflows/case-contract-{case}/0199-run/history"


@pytest.fixture(scope="module")
async def staff_app(base_settings: Settings) -> AsyncIterator[ApiClient]:
    settings = base_settings.model_copy(update={
        "temporal_address": f"127.0.0.1:{free_port()}",
        "temporal_ui_upstream": f"http://127.0.0.1:{free_port()}"})
    async with running_app(settings) as client:
        yield client


def _browser(app: ApiClient) -> ApiClient:
    """No Authorization header; keeps cookies like a browser."""
    return app.with_token(None)


def _code(app: ApiClient) -> str:
    assert app.settings is not None
    return load_or_create_sign_in_code(app.settings.staff_sign_in_code_file)


async def _sign_in(browser: ApiClient, name: str, code: str, back_to: str = "") -> httpx.Response:
    return await browser.post("/ui/sign-in", content=f"name={name}&code={code}&return={back_to}",
                              headers=FORM)


async def _rows(sessions: async_sessionmaker[AsyncSession], subject: str) -> list[AccessLogRow]:
    async with sessions() as session:
        statement = select(AccessLogRow).filter_by(subject=subject).order_by(AccessLogRow.id)
        return list((await session.scalars(statement)).all())


def _name() -> str:
    return f"ops-{uuid.uuid4().hex[:8]}"


async def test_without_a_session_the_ui_sends_the_browser_to_sign_in(staff_app: ApiClient
                                                                     ) -> None:
    browser = _browser(staff_app)
    page = await browser.get(HISTORY.format(case="C-1"))
    assert page.status_code == 303
    assert page.headers["location"] == (
        "/ui/sign-in?return=%2Fui%2Fnamespaces%2Fdefault%2Fworkflows%2Fcase-contract-C-1"
        "%2F0199-run%2Fhistory")
    form = await browser.get(page.headers["location"])
    assert form.status_code == 200 and "Sign in to read case history" in form.text
    assert 'name="return" value="/ui/namespaces/default/workflows/case-contract-C-1/' in form.text
    # The UI's own calls get a 401, which the Temporal UI turns into a visit to /ui/login.
    call = await browser.get("/ui/api/v1/namespaces/default/workflows")
    assert call.status_code == 401 and call.json()["reason"] == "missing"
    login = await browser.get("/ui/login?returnUrl=http%3A%2F%2Fcasework.test%2Fui%2Fschedules")
    assert login.status_code == 200 and 'value="/ui/schedules"' in login.text


async def test_a_name_and_the_staff_code_sign_in_once_for_the_ui_and_its_codec(
        staff_app: ApiClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    browser, name = _browser(staff_app), _name()
    signed_in = await _sign_in(browser, name, _code(staff_app), "/ui/namespaces/default")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == (
        "/ui/namespaces/default")
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(signed_in.headers["set-cookie"])
    morsel = cookie[STAFF_COOKIE]
    assert morsel["httponly"] and morsel["samesite"].lower() == "lax" and morsel["path"] == "/"
    # The gate lets the session through to the UI server (down here: 503 naming it) ...
    through = await browser.get("/ui/namespaces/default/workflows")
    assert through.status_code == 503 and through.json()["component"] == "temporal_ui"
    # ... the codec endpoint on the same origin decrypts with the same cookie ...
    decoded = await browser.post("/codec/decode", json=_plain_payloads())
    assert decoded.status_code == 200, decoded.text
    # ... and the rest of the API still wants a bearer token.
    assert (await browser.get("/cases")).status_code == 401
    # Signed in already: the form sends the browser straight on.
    again = await browser.get("/ui/sign-in?return=/ui/schedules")
    assert again.status_code == 303 and again.headers["location"] == "/ui/schedules"
    [sign_in_row, decode_row] = await _rows(sessions, name)
    assert (sign_in_row.path, sign_in_row.status_code, sign_in_row.roles) == (
        "/ui/sign-in", 303, "operations")
    assert decode_row.action == "decode_payloads"


async def test_a_wrong_code_a_bad_name_or_another_site_signs_nobody_in(
        staff_app: ApiClient) -> None:
    browser = _browser(staff_app)
    wrong = await _sign_in(browser, _name(), "not-the-code")
    assert wrong.status_code == 401 and "code is not right" in wrong.text
    assert STAFF_COOKIE not in wrong.headers.get("set-cookie", "")
    bad_name = await _sign_in(browser, "Ann+Smith", _code(staff_app))
    assert bad_name.status_code == 422 and "must be an id" in bad_name.text
    cross_site = await browser.post("/ui/sign-in", headers={**FORM, "Sec-Fetch-Site":
                                                            "cross-site"},
                                    content=f"name=ops-x&code={_code(staff_app)}")
    assert cross_site.status_code == 403 and "set-cookie" not in cross_site.headers
    assert (await browser.get("/ui/")).status_code == 303  # still signed out


async def test_an_expired_session_says_so_on_the_sign_in_page(staff_app: ApiClient) -> None:
    assert staff_app.settings is not None
    expired = token_for(staff_app.settings, Role.OPERATIONS, subject="ops-late",
                        now=datetime.now(UTC) - timedelta(hours=9), ttl_seconds=3600)
    browser = _browser(staff_app)
    browser.cookies.set(STAFF_COOKIE, expired)
    assert (await browser.get("/ui/")).status_code == 303
    page = await browser.get("/ui/sign-in")
    assert page.status_code == 200 and "Your session expired at" in page.text
    call = await browser.get("/ui/api/v1/namespaces/default/workflows")
    assert call.status_code == 401 and call.json()["reason"] == "expired"
    assert (await browser.post("/codec/decode", json=_plain_payloads())).status_code == 401


async def test_a_session_without_an_operations_role_is_refused_with_a_reason(
        staff_app: ApiClient) -> None:
    assert staff_app.settings is not None
    browser = _browser(staff_app)
    browser.cookies.set(STAFF_COOKIE, token_for(staff_app.settings, Role.PRACTITIONER,
                                                subject="pr-1"))
    page = await browser.get("/ui/sign-in")
    assert "Signed in as pr-1, whose roles may not read decrypted history" in page.text
    call = await browser.get("/ui/api/v1/namespaces/default/workflows")
    assert call.status_code == 403 and call.json()["required_roles"] == ["admin", "operations"]


async def test_operations_cannot_change_a_workflow_through_the_ui(staff_app: ApiClient) -> None:
    browser = _browser(staff_app)
    await _sign_in(browser, _name(), _code(staff_app))
    terminate = await browser.post(
        "/ui/api/v1/namespaces/default/workflows/case-contract-C-1/terminate", json={})
    assert terminate.status_code == 403 and terminate.json()["required_roles"] == ["admin"]
    query = await browser.post(
        "/ui/api/v1/namespaces/default/workflows/case-contract-C-1/query/__stack_trace",
        json={})
    assert query.status_code == 503  # allowed: on to the (absent) UI server


async def test_one_history_page_of_decode_calls_is_one_access_log_row_naming_the_case(
        staff_app: ApiClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    browser, name = _browser(staff_app), _name()
    await _sign_in(browser, name, _code(staff_app))
    page = f"http://casework.test{HISTORY.format(case='C-77')}"
    for _ in range(19):
        decoded = await browser.post("/codec/decode", json=_plain_payloads(),
                                     headers={"Referer": page})
        assert decoded.status_code == 200
    other = f"http://casework.test{HISTORY.format(case='C-78')}"
    await browser.post("/codec/decode", json=_plain_payloads(), headers={"Referer": other})
    rows = [row for row in await _rows(sessions, name) if row.path == "/codec/decode"]
    assert [(row.case_id, row.outcome) for row in rows] == [
        ("C-77", "allowed"), ("C-78", "allowed")]


async def test_refused_decode_calls_of_one_page_are_one_row_too(
        staff_app: ApiClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    assert staff_app.settings is not None
    name = _name()
    browser = _browser(staff_app)
    browser.cookies.set(STAFF_COOKIE, token_for(staff_app.settings, Role.PRACTITIONER,
                                                subject=name))
    page = f"http://casework.test{HISTORY.format(case='C-79')}"
    for _ in range(5):
        refused = await browser.post("/codec/decode", json=_plain_payloads(),
                                     headers={"Referer": page})
        assert refused.status_code == 403
    [row] = await _rows(sessions, name)
    assert (row.case_id, row.status_code, row.outcome) == ("C-79", 403, "refused")
