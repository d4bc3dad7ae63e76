"""Issue 11, pure parts: where a sign-in may send the browser, which workflow a UI page
shows, when decode calls are one page view, what the UI proxy passes on and allows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from api.decode_attribution import ViewWindow, case_id_of, workflow_id_from_page
from api.staff_session import (
    code_matches,
    load_or_create_sign_in_code,
    safe_return_path,
    session_message,
    staff_name,
)
from api.ui_proxy import (
    cookie_header_without,
    request_headers,
    response_headers,
    rewrite_location,
    ui_call_allowed,
)
from casework.tokens import Role

PAGE = "http://127.0.0.1:8000/ui/namespaces/default/workflows/case-contract-C-9/0199ab/history"


@pytest.mark.parametrize("given, expected", [
    (None, "/ui/"),
    ("", "/ui/"),
    ("/ui/namespaces/default/workflows?query=x", "/ui/namespaces/default/workflows?query=x"),
    # The Temporal UI's own login redirect passes a full URL: only its path is kept.
    ("http://127.0.0.1:8000/ui/namespaces/default/workflows", "/ui/namespaces/default/workflows"),
    ("https://evil.example/ui/x", "/ui/x"),  # another host never gets the browser
    ("https://evil.example/", "/ui/"),
    ("//evil.example/ui/", "/ui/"),
    ("/cases", "/ui/"),  # the UI only
    ("/ui/sign-in", "/ui/"),  # never back to the form
    ("/ui\\..\\cases", "/ui/"),
])
def test_the_return_address_after_sign_in_is_a_ui_path_on_this_origin(
        given: str | None, expected: str) -> None:
    assert safe_return_path(given) == expected


def test_the_workflow_and_case_come_from_the_ui_page_address() -> None:
    assert workflow_id_from_page(PAGE) == "case-contract-C-9"
    assert case_id_of(workflow_id_from_page(PAGE)) == "C-9"
    encoded = "http://h/ui/namespaces/default/workflows/case-contract-a%3Ab/r/history"
    assert workflow_id_from_page(encoded) == "case-contract-a:b"


@pytest.mark.parametrize("page", [
    None, "", "http://h/ui/namespaces/default/workflows",  # the list: no one case
    "http://h/ui/namespaces/default/workflows/", "http://h:8233/",  # cross-origin: origin only
    "http://h/other/namespaces/default/workflows/case-contract-C-9/r/history",
])
def test_pages_that_name_no_workflow_attribute_no_case(page: str | None) -> None:
    assert workflow_id_from_page(page) is None


def test_a_workflow_that_is_not_a_case_names_no_case() -> None:
    assert case_id_of("some-other-workflow") is None
    assert case_id_of("case-contract-") is None
    assert case_id_of(None) is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_nineteen_decode_calls_of_one_page_view_are_one_access() -> None:
    clock = Clock()
    window = ViewWindow(60, clock)
    repeats = []
    for _ in range(19):
        repeats.append(window.is_repeat("ops-ann", "case-contract-C-9", "allowed"))
        clock.now += 0.2
    assert repeats == [False] + [True] * 18


def test_another_person_case_or_outcome_is_another_access() -> None:
    window = ViewWindow(60, Clock())
    assert not window.is_repeat("ops-ann", "case-contract-C-9", "allowed")
    assert not window.is_repeat("ops-bob", "case-contract-C-9", "allowed")
    assert not window.is_repeat("ops-ann", "case-contract-C-10", "allowed")
    assert not window.is_repeat("ops-ann", "case-contract-C-9", "refused")
    assert window.is_repeat("ops-ann", "case-contract-C-9", "allowed")


def test_a_view_after_the_window_is_logged_again() -> None:
    clock = Clock()
    window = ViewWindow(60, clock)
    assert not window.is_repeat("ops-ann", "w", "allowed")
    clock.now += 59.9
    assert window.is_repeat("ops-ann", "w", "allowed")
    clock.now += 60.1
    assert not window.is_repeat("ops-ann", "w", "allowed")


@pytest.mark.parametrize("method, path, allowed", [
    ("GET", "/ui/api/v1/namespaces/default/workflows", True),
    ("HEAD", "/ui/", True),
    ("POST", "/ui/api/v1/namespaces/default/workflows/case-contract-C-9/query/__stack_trace",
     True),
    ("POST", "/ui/api/v1/namespaces/default/workflows/case-contract-C-9/terminate", False),
    ("POST", "/ui/api/v1/namespaces/default/workflows/case-contract-C-9/signal/x", False),
    ("DELETE", "/ui/api/v1/namespaces/default/schedules/s", False),
])
def test_operations_read_through_the_ui_and_change_nothing(
        method: str, path: str, allowed: bool) -> None:
    assert ui_call_allowed(method, path, {Role.OPERATIONS}) is allowed
    assert ui_call_allowed(method, path, {Role.ADMIN}) is True


def test_the_session_cookies_and_bearer_token_never_reach_the_ui_server() -> None:
    assert cookie_header_without("a=1; casework_staff=TOKEN; _csrf=x",
                                 ["casework_staff"]) == "a=1; _csrf=x"
    forwarded = request_headers(
        [("Host", "api"), ("Cookie", "casework_staff=T; casework_codec=U"),
         ("Authorization", "Bearer T"), ("Connection", "keep-alive"), ("Accept", "*/*"),
         ("X-CSRF-Token", "c")],
        ["casework_staff", "casework_codec"])
    assert forwarded == [("Accept", "*/*"), ("X-CSRF-Token", "c")]


def test_redirects_to_the_ui_server_come_back_to_this_origin() -> None:
    upstream = "http://127.0.0.1:8233"
    assert rewrite_location("http://127.0.0.1:8233/ui/namespaces", upstream) == "/ui/namespaces"
    assert rewrite_location("/ui/x", upstream) == "/ui/x"
    assert rewrite_location("https://idp.example/authorize", upstream) == (
        "https://idp.example/authorize")
    answered = response_headers([(b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2"),
                                 (b"Transfer-Encoding", b"chunked"),
                                 (b"Location", b"http://127.0.0.1:8233/ui/")], upstream)
    assert answered == [(b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2"),
                        (b"Location", b"/ui/")]


def test_the_sign_in_page_says_whether_the_session_was_missing_expired_or_refused() -> None:
    assert session_message(None, None).startswith("Sign in")
    expired = session_message("expired", datetime(2026, 3, 2, 14, 3, tzinfo=UTC))
    assert expired == "Your session expired at 14:03 UTC. Sign in again to read case history."
    assert "refused (bad signature)" in session_message("bad signature", None)


def test_a_staff_name_must_be_an_id() -> None:
    assert staff_name(" ops-ann ") == "ops-ann"
    assert staff_name("ann@ops.example") == "ann@ops.example"
    for bad in ("", "  ", "Ann Smith", "x" * 65, "<script>"):
        assert staff_name(bad) is None


def test_the_sign_in_code_is_made_once_private_and_compared_exactly(tmp_path: Path) -> None:
    path = tmp_path / "data" / "staff-sign-in-code"
    code = load_or_create_sign_in_code(path)
    assert len(code) >= 12 and (path.stat().st_mode & 0o777) == 0o600
    assert load_or_create_sign_in_code(path) == code
    assert code_matches(f" {code} ", code)
    assert not code_matches(code[:-1], code) and not code_matches("", code)
