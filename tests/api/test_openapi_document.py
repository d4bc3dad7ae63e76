"""The OpenAPI document the front-end generates its clients from (issue 12): every
operation named, every error typed as the problem+json the server sends, no anonymous
schema names, the docs pages served from this service alone, and the repeats and 405s
the document promises."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from tests.api.conftest import ApiClient, assert_problem, new_case_id, registration

OPERATION_ID = re.compile(r"^[a-z][A-Za-z0-9]*$")
SCHEMA_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
METHODS = ("get", "put", "post", "delete", "patch")


async def _document(api: ApiClient) -> dict[str, Any]:
    response = await api.with_token(None).get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, item[method]) for path, item in document["paths"].items()
            for method in METHODS if method in item]


async def test_every_operation_has_a_short_unique_operation_id(api: ApiClient) -> None:
    operations = _operations(await _document(api))
    ids = [operation.get("operationId", "") for _, _, operation in operations]
    assert all(OPERATION_ID.match(i) and len(i) <= 24 for i in ids), ids
    assert len(set(ids)) == len(ids), "operation ids are unique"
    named = {(m, p): o["operationId"] for m, p, o in operations}
    assert named[("POST", "/cases/{case_id}/reports/{report_id}/assessment")] == "assessReport"
    assert named[("GET", "/cases")] == "listCases"


async def test_every_error_status_is_typed_problem_json_with_the_routes_own_example(
        api: ApiClient) -> None:
    document = await _document(api)
    examples: dict[str, set[str]] = {}
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        assert "405" in responses and "Allow" in responses["405"]["headers"], (method, path)
        if "requestBody" in operation:
            assert "400" in responses, (method, path)
        for status, response in responses.items():
            if status[0] not in "45":
                continue
            content = response["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            schema = content["application/problem+json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, status)
            example = content["application/problem+json"]["example"]
            assert example["status"] == int(status)
            assert example["instance"].count("/") == path.count("/"), (path, example)
            examples.setdefault(status, set()).add(example["detail"])
    # Not one route's example for every route (issue 12: all were /cases' C5 refusal).
    assert len(examples["422"]) > 5 and len(examples["409"]) > 5 and len(examples["403"]) > 3


async def test_every_answer_has_content_and_a_named_schema(api: ApiClient) -> None:
    document = await _document(api)
    names = list(document["components"]["schemas"])
    anonymous = [n for n in names if not SCHEMA_NAME.match(n) or n.startswith("Body")
                 or "Response" in n]
    assert not anonymous, anonymous
    for method, path, operation in _operations(document):
        bodies = [response.get("content", {}) for response in operation["responses"].values()]
        if "requestBody" in operation:
            bodies.append(operation["requestBody"]["content"])
        for status, response in operation["responses"].items():
            assert response.get("content"), (method, path, status)
        for content in bodies:
            for media in content.values():
                schema = media["schema"]
                # A named schema; an optional body is that or null.
                named = schema.get("anyOf", [schema])
                assert any("$ref" in s for s in named), (method, path, schema)
                assert all("$ref" in s or s == {"type": "null"} for s in named), schema
    post_cases = document["paths"]["/cases"]["post"]["responses"]
    registered = {"$ref": "#/components/schemas/RegisteredCaseView"}
    assert post_cases["200"]["content"]["application/json"]["schema"] == registered
    schemas = document["components"]["schemas"]
    assert "duplicate" in schemas["RegisteredCaseView"]["properties"]
    assert schemas["Readiness"]["properties"]["checks"]


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "spec-url") and value:
                self.urls.append(value)


CASE_UPDATES = {
    "/cases/{case_id}/endorsement": "WritePendingView",
    "/cases/{case_id}/reports": "ReportPendingView",
    "/cases/{case_id}/reports/{report_id}/assessment": "WritePendingView",
    "/cases/{case_id}/events": "WritePendingView",
    "/cases/{case_id}/audits/{audit_id}/findings": "WritePendingView",
    "/cases/{case_id}/audits/{audit_id}/close": "WritePendingView",
    "/cases/{case_id}/reviews": "WritePendingView",
    "/cases/{case_id}/reviews/{review_id}/outcome": "WritePendingView",
    "/cases/{case_id}/contacts": "WritePendingView",
    "/cases/{case_id}/closure": "WritePendingView",
    "/tasks/{task_id}/complete": "WritePendingView",
}
"""Every route that sends a case's workflow an update, and its 202 body (issue 18.3)."""


async def test_every_write_to_a_case_documents_its_202_with_location(api: ApiClient) -> None:
    """A write that took effect without an answer in time answers 202 (issue 18.3): the
    document says so for every route that sends a case's workflow an update."""
    paths = (await _document(api))["paths"]
    for path, schema in CASE_UPDATES.items():
        accepted = paths[path]["post"]["responses"]["202"]
        assert "Location" in accepted["headers"], path
        assert accepted["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{schema}"}, path


async def test_docs_and_redoc_load_everything_from_this_service(api: ApiClient) -> None:
    """Issue 12: /docs was blank without internet (Swagger UI came from a CDN)."""
    anonymous = api.with_token(None)
    for page in ("/docs", "/redoc"):
        html = await anonymous.get(page)
        assert html.status_code == 200
        references = _References()
        references.feed(html.text)
        assert references.urls, page
        assert "http://" not in html.text and "https://" not in html.text, page
        for url in references.urls:
            assert not urlsplit(url).netloc, (page, url)
            asset = await anonymous.get(url)
            assert asset.status_code == 200 and asset.content, (page, url)


async def test_a_repeated_registration_answers_200_with_duplicate_true(
        api: ApiClient) -> None:
    body = registration(new_case_id())
    first = await api.post("/cases", json=body)
    again = await api.post("/cases", json=body)
    assert (first.status_code, first.json()["duplicate"]) == (201, False)
    assert (again.status_code, again.json()["duplicate"]) == (200, True)


async def test_405_names_every_method_the_path_takes_and_malformed_json_names_the_body(
        api: ApiClient) -> None:
    refused = assert_problem(await api.put("/cases", json={}), 405)
    assert refused["instance"] == "/cases"
    assert (await api.put("/cases", json={})).headers["allow"] == "GET, POST"
    assert (await api.delete("/cases/any")).headers["allow"] == "GET"
    malformed = await api.post("/cases", content=b"{not json",
                               headers={"Content-Type": "application/json"})
    assert_problem(malformed, 422, field="body")
