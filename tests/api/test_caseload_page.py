"""Issue 17 over HTTP: the caseload page at /app/ is served with a strict policy and
nothing else from its folder, and /app/session tells a verified bearer token (only) who
it is and which of the page's controls its roles allow.

No Temporal is needed: the page's own routes never reach a case (the browser tests in
tests/e2e drive the page against the real stack)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from api.routes.app_page import PAGE_DIR
from api.staff_session import STAFF_COOKIE
from casework.config import Settings
from casework.processes import free_port
from casework.tokens import Role
from tests.api.conftest import ApiClient, assert_problem, running_app, token_for

OTHER_ORIGIN = re.compile(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)
"""An address on another origin (a CDN, a font service) in the page's own files."""
SVG_NAMESPACE = 'xmlns="http://www.w3.org/2000/svg"'


@pytest.fixture(scope="module")
async def page_app(base_settings: Settings) -> AsyncIterator[ApiClient]:
    settings = base_settings.model_copy(update={
        "temporal_address": f"127.0.0.1:{free_port()}"})
    async with running_app(settings) as client:
        yield client


async def test_the_page_is_served_with_a_policy_that_allows_only_its_own_files(
        page_app: ApiClient) -> None:
    anonymous = page_app.with_token(None)
    page = await anonymous.get("/app/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert '<script type="module" src="/app/assets/app.js">' in page.text
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text) is None  # no inline script
    for name, kind in (("app.js", "text/javascript"), ("page.js", "text/javascript"),
                       ("case.js", "text/javascript"), ("app.css", "text/css"),
                       ("icon.svg", "image/svg+xml")):
        asset = await anonymous.get(f"/app/assets/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
        assert asset.headers["content-security-policy"] == policy


def test_the_page_loads_nothing_from_another_origin() -> None:
    """No CDN, no web font: every file the page has, read as it is on disk."""
    for path in PAGE_DIR.iterdir():
        # The icon's XML namespace is a name, never fetched.
        text = path.read_text(encoding="utf-8").replace(SVG_NAMESPACE, "")
        assert not OTHER_ORIGIN.search(text), (path.name, OTHER_ORIGIN.search(text))
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, path.name


async def test_the_page_address_without_a_slash_goes_to_the_page(page_app: ApiClient) -> None:
    answer = await page_app.with_token(None).get("/app")
    assert answer.status_code == 308 and answer.headers["location"] == "/app/"


@pytest.mark.parametrize("name", ["index.html", "..%2Fcaseload.py", "app.py", "APP.JS"])
async def test_only_the_page_files_are_served(page_app: ApiClient, name: str) -> None:
    assert_problem(await page_app.with_token(None).get(f"/app/assets/{name}"), 404)


async def test_the_session_needs_a_bearer_token(page_app: ApiClient) -> None:
    assert_problem(await page_app.with_token(None).get("/app/session"), 401)
    assert_problem(await page_app.with_token("not-a-token").get("/app/session"), 401)
    assert page_app.settings is not None
    expired = token_for(page_app.settings, Role.PRACTITIONER, ttl_seconds=60,
                        now=datetime.now(UTC) - timedelta(hours=2))
    assert_problem(await page_app.with_token(expired).get("/app/session"), 401)


async def test_the_staff_cookie_is_no_token_for_the_page(page_app: ApiClient) -> None:
    """The staff sign-in (issue 11) is for /ui/ and the codec only: a browser signed in
    there gets nothing from the page without a bearer token of its own."""
    assert page_app.settings is not None
    staff = token_for(page_app.settings, Role.OPERATIONS, subject="ops-ann")
    answer = await page_app.with_token(None).get(
        "/app/session", headers={"Cookie": f"{STAFF_COOKIE}={staff}"})
    assert_problem(answer, 401)


async def test_r4_the_session_gives_the_practitioner_the_assess_button(
        page_app: ApiClient) -> None:
    answer = await page_app.as_role(Role.PRACTITIONER, subject="pr-1").get("/app/session")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["subject"], body["roles"], body["agency_id"]) == ("pr-1", ["practitioner"],
                                                                   None)
    assert {"assess_report", "raise_event", "request_review"} <= set(body["actions"])
    assert "inadequate_quality" in body["choices"]["assessment"]
    assert body["streak_threshold"] == 3


async def test_c7_the_session_of_an_agency_names_its_agency_and_no_assess_button(
        page_app: ApiClient) -> None:
    answer = await page_app.as_role(Role.AGENCY, agency="agency-7").get("/app/session")
    body = answer.json()
    assert body["agency_id"] == "agency-7"
    assert "assess_report" not in body["actions"] and "raise_event" not in body["actions"]
    assert "request_review" in body["actions"]
