"""Issue 17 in a real browser: Debian's chromium, headless, driven by Playwright, against
`casework dev` as `make run` starts it. A practitioner pastes a token from `casework
token`, sees the caseload soonest deadline first with the R6 warning on the case two
failures in, opens that case (periods as a timeline, each deadline explained), assesses
its on-time report as of inadequate quality, and sees the warning change to an exception
audit recommended, on the case and back on the caseload.

The cases are built through the REST API beforehand, from the real today by fixed day
offsets (tests/api/dates.py): one on track, and one that began ten weeks ago whose first
report never came (missing) and whose second comes late now -- two consecutive failures.

Screenshots are kept in test-artefacts/browser/caseload-*.png (gitignored); docs/
caseload/ has small copies for the README. Skipped, saying why, only where
/usr/bin/chromium is not installed (`.ci/run` installs it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.caseload import streak_warning
from casework.processes import free_port
from tests.api.conftest import MELBOURNE
from tests.api.dates import (
    behind_endorsed_on,
    behind_registration_body,
    endorsement_body,
    registration_body,
)
from tests.e2e.test_dev_stack import _start, _stop, _token, _wait_ready
from tests.e2e.test_staff_ui_browser import CHROMIUM, CHROMIUM_ARGS

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "browser"
ON_TRACK = "C-APP-ON-TRACK"
BEHIND = "C-APP-BEHIND"
AGENCY = "agency-app"
PAGE_TIMEOUT_MS = 60_000
"""The page answers in well under a second; the test machines are shared."""
READ_MODEL_SECONDS = 60
"""How long the caseload (the read model, written by the workflow's recording activity)
may take to show a change the case itself already shows."""

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at "
                       "/usr/bin/chromium (apt-get install chromium; .ci/run does)"),
]


def _casework_token(data_dir: Path, *args: str) -> str:
    """What the page's sign-in tells people to run, in the stack's data folder."""
    done = subprocess.run([sys.executable, "-m", "casework.cli", "token", *args],
                          env={**os.environ, "DATA_DIR": str(data_dir)}, cwd=data_dir,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def _until(check: Callable[[], Any], what: str, seconds: float = READ_MODEL_SECONDS) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"waited {seconds}s for {what}")


def _post(client: httpx.Client, path: str, body: dict[str, Any], status: int = 200) -> None:
    answer = client.post(path, json=body)
    assert answer.status_code == status, answer.text


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`casework dev` on free ports with two endorsed cases of agency-app: one on track,
    one two consecutive failures in (R5 missing, then late) with an on-time report
    waiting for its assessment (R4)."""
    data_dir = tmp_path_factory.mktemp("caseload")
    ports = {"api": free_port(), "temporal": free_port(), "ui": free_port()}
    api = f"http://127.0.0.1:{ports['api']}"
    process = _start(data_dir, ports)
    try:
        _wait_ready(api, process)
        today = datetime.now(MELBOURNE).date()
        with httpx.Client(base_url=api, timeout=30, headers={
                "Authorization": f"Bearer {_token(data_dir)}"}) as setup:
            _post(setup, "/cases", registration_body(ON_TRACK, today, AGENCY), 201)
            _post(setup, f"/cases/{ON_TRACK}/endorsement", endorsement_body(today))
            _post(setup, "/cases", behind_registration_body(BEHIND, today, AGENCY), 201)
            _post(setup, f"/cases/{BEHIND}/endorsement",
                  endorsement_body(behind_endorsed_on(today)))

            def periods() -> list[dict[str, Any]]:
                return list(setup.get(f"/cases/{BEHIND}").json()["periods"])

            # R5: the first period ended (its next due date passed) with no report.
            _until(lambda: periods()[0]["outcome"] == "missing", "the first period missing")
            _post(setup, f"/cases/{BEHIND}/reports", {"report_id": "rep-q2",
                                                      "period_index": 1}, 201)  # late
            _post(setup, f"/cases/{BEHIND}/reports", {"report_id": "rep-q3",
                                                      "period_index": 2}, 201)  # on time
            assert [p["outcome"] for p in periods()][:3] == ["missing", "late", "pending"]
            _until(lambda: {c["case_id"]: c["consecutive_failures"] for c in
                            setup.get("/cases").json()["items"]}.get(BEHIND) == 2,
                   "the caseload to count two failures")
        yield {"api": api, "data_dir": data_dir}
    finally:
        output = _stop(process)
    assert f"Caseload page: {api}/app/" in output  # where `make run` says the page is


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-AU",
                                  timezone_id="Australia/Melbourne")
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        # The API's 401 and 404 answers are logged by the browser as failed loads; the
        # tests check what the page makes of them. Anything else is a fault of the page.
        page.on("console", lambda message: errors.append(
            f"{message.text} {message.location.get('url')}")
            if message.type == "error" and not message.text.startswith(
                "Failed to load resource: the server responded with a status of 4")
            else None)
        yield page
    finally:
        context.close()
    assert errors == []  # no script error, nothing the Content-Security-Policy blocked


def _shot(page: Any, name: str, *, full_page: bool = False) -> None:
    """The whole page, or the window down to the end of the page's content."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = str(ARTEFACTS / f"caseload-{name}.png")
    if full_page:
        page.screenshot(path=path, full_page=True)
        return
    box = page.locator("main").bounding_box()
    height = min(900, int(box["y"] + box["height"]) + 16)
    page.screenshot(path=path, clip={"x": 0, "y": 0, "width": 1100, "height": height})


def _sign_in(page: Any, stack: dict[str, Any], token: str) -> None:
    page.goto(f"{stack['api']}/app/")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def _row_streak(page: Any, case_id: str) -> str:
    return str(page.locator(f'#caseload tr[data-case="{case_id}"] .streak-cell').inner_text())


def test_r4_r6_practitioner_assesses_a_report_and_sees_the_streak_warning_change(
        stack: dict[str, Any], page: Any) -> None:
    token = _casework_token(stack["data_dir"], "--role", "practitioner", "--subject", "pr-ann")
    page.goto(f"{stack['api']}/app/")
    page.get_by_label("Token").fill(token)
    _shot(page, "1-sign-in")
    page.get_by_role("button", name="Sign in").click()

    # The caseload: every case, soonest next deadline first, the warning at two (R6).
    page.locator("#caseload").wait_for()
    assert "Signed in as pr-ann (practitioner)" in page.inner_text("#who")
    _shot(page, "2-caseload")
    order = page.locator("#caseload tbody tr").evaluate_all(
        "rows => rows.map(row => row.dataset.case)")
    listed = httpx.get(f"{stack['api']}/cases", headers={"Authorization": f"Bearer {token}"},
                       timeout=30).json()["items"]
    assert order == [case["case_id"] for case in listed], listed
    deadlines = [case["next_deadline"] for case in listed]
    assert None not in deadlines and deadlines == sorted(deadlines), listed
    assert streak_warning(2) is not None
    assert streak_warning(2) in _row_streak(page, BEHIND)
    assert _row_streak(page, ON_TRACK).strip() == "0"
    assert "null" not in page.inner_text("main")

    # Open the case from the keyboard.
    page.get_by_role("link", name=BEHIND).focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=f"Case {BEHIND}").wait_for()
    assert streak_warning(2) in page.inner_text("#case-warning")
    periods = page.locator("ol.timeline > li.period")
    assert periods.count() == 4
    assert "Outcome (R5): missing" in periods.nth(0).inner_text()
    assert "Outcome (R5): late" in periods.nth(1).inner_text()
    # Each deadline explains itself on expand: rule, basis, holidays skipped.
    follow_up = periods.nth(2).locator("details.basis").first
    assert not follow_up.locator("dl").is_visible()
    follow_up.locator("summary").click()
    explained = follow_up.inner_text()
    assert "R1" in explained and "business days" in explained and "Holidays skipped" in explained
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    periods.nth(2).screenshot(path=str(ARTEFACTS / "caseload-3-deadline-explained.png"))
    audits = page.locator("section[aria-labelledby=audits-title]")
    assert "R6 three" not in audits.inner_text()  # K1/R7 may have opened one: no contact
    unlabelled = page.evaluate("""[...document.querySelectorAll('input, select, textarea')]
        .filter(control => control.labels.length === 0).map(control => control.id)""")
    assert unlabelled == []  # every field of every form has its label
    # The practitioner's controls: assess, raise an event, request a review.
    assert page.get_by_role("button", name="Raise the event").is_visible()
    assert page.get_by_role("button", name="Request the review").is_visible()
    _shot(page, "3-case", full_page=True)  # the whole case, before

    # R4: the on-time report of the third period, of inadequate quality -> R5 failure,
    # the third in a row -> R6 exception audit recommended.
    page.get_by_label("Assessment of report rep-q3 (R4)").select_option("inadequate_quality")
    page.get_by_role("button", name="Assess report rep-q3").click()
    page.get_by_text("Report rep-q3 assessed: inadequate quality.").wait_for()
    assert page.inner_text("#case-warning") == streak_warning(3)
    assert "Outcome (R5): inadequate" in periods.nth(2).inner_text()
    assert "open, R6 three consecutive failures" in audits.inner_text()
    assert page.get_by_role("button", name="Assess report rep-q3").count() == 0
    _shot(page, "4-assessed", full_page=True)

    # Back on the caseload (the read model follows the workflow within seconds).
    page.get_by_role("link", name="Back to the caseload").click()
    page.locator("#caseload").wait_for()

    def changed() -> bool:
        if str(streak_warning(3)) in _row_streak(page, BEHIND):
            return True
        page.get_by_role("button", name="Refresh").click()
        page.locator("#caseload").wait_for()
        return False

    _until(changed, "the caseload's warning to change")
    assert "open" in page.locator(f'#caseload tr[data-case="{BEHIND}"]').inner_text()
    _shot(page, "5-caseload-after")


def test_operations_reads_the_case_with_no_controls(stack: dict[str, Any], page: Any) -> None:
    """The buttons follow the permission table: operations reads and changes nothing."""
    token = _casework_token(stack["data_dir"], "--role", "operations", "--subject", "ops-ann")
    _sign_in(page, stack, token)
    page.locator("#caseload").wait_for()
    page.get_by_role("link", name=ON_TRACK).click()
    page.get_by_role("heading", name=f"Case {ON_TRACK}").wait_for()
    assert page.get_by_text("Your role may not change this case here.").is_visible()
    assert page.locator("form").count() == 0 and page.locator("#case-warning").count() == 0


def test_an_agency_sees_only_its_own_cases(stack: dict[str, Any], page: Any) -> None:
    """C7: another agency's token lists nothing, and a link to the case answers as if
    there were none."""
    token = _casework_token(stack["data_dir"], "--role", "agency", "--agency", "agency-other")
    _sign_in(page, stack, token)
    page.get_by_text("No cases you may see.").wait_for()
    page.goto(f"{stack['api']}/app/#/cases/{ON_TRACK}")
    page.locator("main .error").get_by_text("Not Found (404)").wait_for()
    assert page.locator("ol.timeline").count() == 0


def test_a_refused_token_is_told_and_nothing_is_kept(stack: dict[str, Any], page: Any
                                                     ) -> None:
    _sign_in(page, stack, "not-a-token")
    page.get_by_text("That token was refused.").wait_for()
    assert page.evaluate("sessionStorage.getItem('casework.token')") is None
    assert page.locator("#caseload").count() == 0
