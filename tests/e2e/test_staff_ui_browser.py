"""Issue 11 in a real browser: Debian's chromium, headless, driven by Playwright, against
`casework dev` as `make run` starts it. An operations person opens one address, signs
in once, and reads the case's decrypted history (input and summaries); without a
session the same history is ciphertext; an expired session says so.

Screenshots are kept in test-artefacts/browser/ (gitignored) for a person to look at;
docs/ has small copies in the README. Playwright never downloads a browser here: it
drives /usr/bin/chromium, and the test is skipped, saying why, only where that is not
installed (`.ci/run` installs it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from casework.config import EMBEDDED_ISSUER
from casework.processes import free_port
from casework.tokens import load_or_create_local_key, mint_token
from tests.api.conftest import endorsement, registration
from tests.e2e.test_dev_stack import _start, _stop, _token, _wait_ready

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "browser"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
CASE_ID = "C-UI-E2E-1"
SEALED = re.compile(r'^"[A-Za-z0-9+/]{200,}={0,2}"$')
"""An AES-GCM sealed payload as the UI shows it undecoded: one long base64 string."""
UI_TIMEOUT_MS = 90_000
"""The UI renders a history page in seconds, but the test machines are shared."""

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at "
                       "/usr/bin/chromium (apt-get install chromium; .ci/run does)"),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`casework dev` on free ports with one registered, endorsed case."""
    data_dir = tmp_path_factory.mktemp("staff-ui")
    ports = {"api": free_port(), "temporal": free_port(), "ui": free_port()}
    api = f"http://127.0.0.1:{ports['api']}"
    process = _start(data_dir, ports)
    try:
        _wait_ready(api, process)
        auth = {"Authorization": f"Bearer {_token(data_dir)}"}
        created = httpx.post(f"{api}/cases", json=registration(CASE_ID), headers=auth,
                             timeout=30)
        assert created.status_code == 201, created.text
        endorsed = httpx.post(f"{api}/cases/{CASE_ID}/endorsement", json=endorsement(),
                              headers=auth, timeout=30)
        assert endorsed.status_code == 200, endorsed.text
        yield {"api": api, "ui": f"http://127.0.0.1:{ports['ui']}", "data_dir": data_dir}
    finally:
        _stop(process)


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


def _shot(page: Any, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"))


def _history(base: str) -> str:
    return f"{base}/ui/namespaces/default/workflows/case-contract-{CASE_ID}"


def _sign_in_code(data_dir: Path) -> str:
    return (data_dir / "staff-sign-in-code").read_text(encoding="ascii").strip()


def test_sign_in_once_and_read_the_decrypted_history(stack: dict[str, Any], browser: Any
                                                     ) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        # Step 1: the one address (here, a case's history, as a link would give it).
        page.goto(_history(stack["api"]))
        page.wait_for_selector("#name")
        assert "/ui/sign-in" in page.url
        page.fill("#name", "ops-ann")
        page.fill("#code", _sign_in_code(stack["data_dir"]))
        _shot(page, "1-sign-in")
        # Step 2: sign in; the browser goes on to the history it asked for.
        page.click("button[type=submit]")
        page.get_by_text("Compute R1-R3 deadlines").first.wait_for(timeout=UI_TIMEOUT_MS)
        assert f"/workflows/case-contract-{CASE_ID}/" in page.url
        page.get_by_text(f'"{CASE_ID}"').first.wait_for(timeout=UI_TIMEOUT_MS)  # the input
        body = page.inner_text("body")
        assert "Compute R1-R3 deadlines" in body  # activity summaries, readable
        # Issue 13: recordings are local activities, which the UI lists by their type
        # (their "Record: ..." summary is in the event's details).
        assert "record_case_effects" in body
        assert not SEALED.search(body)
        assert "Codec Server could not connect" not in body
        _shot(page, "2-decrypted-history")
    finally:
        context.close()


def test_without_a_session_the_history_is_ciphertext(stack: dict[str, Any], browser: Any
                                                     ) -> None:
    """The UI server's own address (no sign-in, another origin than the codec): the same
    history shows sealed payloads and none of the case's data."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(_history(stack["ui"]))
        # The workflow's input, as the UI shows a payload it cannot decode: base64.
        page.get_by_text(SEALED).first.wait_for(timeout=UI_TIMEOUT_MS)
        body = page.inner_text("body")
        assert "Compute R1-R3 deadlines" not in body and f'"{CASE_ID}"' not in body
        _shot(page, "3-without-session-ciphertext")
    finally:
        context.close()


def test_an_expired_session_is_told_to_sign_in_again(stack: dict[str, Any], browser: Any
                                                     ) -> None:
    """A session that ended (signed eight hours and more ago) brings the sign-in page
    saying so, not a red codec banner over ciphertext."""
    token = mint_token(load_or_create_local_key(stack["data_dir"] / "signing-key.pem"),
                       subject="ops-late", roles=["operations"], agency_id=None,
                       issuer=EMBEDDED_ISSUER, audience="casework", ttl_seconds=3600,
                       now=datetime.now(UTC) - timedelta(hours=9))
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        context.add_cookies([{"name": "casework_staff", "value": token,
                              "url": stack["api"]}])
        page = context.new_page()
        page.goto(_history(stack["api"]))
        page.wait_for_selector("#name")
        assert "Your session expired at" in page.inner_text("#status")
        _shot(page, "4-session-expired")
    finally:
        context.close()
