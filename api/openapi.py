"""The OpenAPI document the front-end generates its clients from (issue 12).

Routes declare their error statuses with `problems(...)`; `install_openapi` then makes
the document say what the server really sends, so that generated clients (openapi-python-
client, openapi-typescript, @hey-api/openapi-ts) type every answer:
- every 4xx/5xx is `application/problem+json` with the `Problem` schema, and an example
  that fits the route (api/openapi_examples.py), never one route's example for all;
- 400 (a body that cannot be parsed) and 405 (with its `Allow` header) are described;
- a 200 that repeats an earlier request has the same content as the first answer;
- operation ids are short and stable: the camelCase of the route's action in the
  permission table (`assessReport`), which is already the route's one name;
- request examples that carry dates are computed from the day the document is served
  (api/openapi_dated_examples.py), so sent in order they succeed on any day.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from api.errors import PROBLEM_JSON
from api.openapi_dated_examples import dated_examples
from api.openapi_examples import problem_example
from api.permissions import PERMISSIONS
from api.schemas.common import Problem
from api.schemas.views import AcceptedView, WritePendingView

_MEANING = {
    400: "The body could not be parsed at all (JSON nested too deep, say): nothing was "
         "read. JSON that is merely malformed is a 422 naming `body`.",
    401: "No bearer token, or one that is expired, not yet valid, wrongly signed, for "
         "another audience or issuer, or malformed; `reason` says which.",
    403: "The token is valid but none of its roles may call this (README permission "
         "table, `required_roles`), or the body names another actor or domain role than "
         "the token's (`field`; README, *Who did it comes from the token*).",
    404: "No such case (the same answer whatever the reason), or no such item on it.",
    405: "This path does not take this method; the `Allow` header lists those it takes.",
    409: "Conflicts with the case's state or with an earlier request under the same id.",
    422: "Invalid input: `field` names it, `rule` the DOMAIN rule when one applies.",
    503: "Temporal or the database is unreachable: nothing took effect (a write to a "
         "case that took effect answers 202 instead). For a transfer or service request "
         "it can also mean its worker did not answer in time: Temporal may still apply "
         "it (the detail says so). Either way retrying the same request is safe.",
}

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROMETHEUS_TEXT_REF = {"$ref": "#/components/schemas/PrometheusExposition"}
"""GET /metrics answers text, not JSON (issue 15): named like every other body."""
PROMETHEUS_TEXT_SCHEMA = {
    "title": "PrometheusExposition", "type": "string",
    "description": "Prometheus' text exposition format (version 0.0.4): `# HELP` and "
    "`# TYPE` lines, then one sample a line."}


def accepted_later(model: type[AcceptedView], description: str
                   ) -> dict[int | str, dict[str, Any]]:
    """`responses=` entry for a write that may answer 202 Accepted (api/accepted.py):
    it took effect, its result is not known yet; `Location` says where it will show."""
    return {202: {"model": model, "description": description, "headers": {
        "Location": {"description": "Where the result shows once applied.",
                     "schema": {"type": "string"}}}}}


def write_pending() -> dict[int | str, dict[str, Any]]:
    """The 202 of every route that sends a case's workflow an update (issue 18.3): it
    took effect, its answer did not come in time (api/case_gateway.py)."""
    return accepted_later(WritePendingView, "Took effect, answer not known yet: the "
                          "case's worker accepted it and is still applying it (`stage` "
                          "`accepted`), or none answered in time and it is stored until "
                          "one runs the case (`stored`). Sending it again is safe.")


def _problem_response(status: int) -> dict[str, Any]:
    # The schema is filled in by `install_openapi`, which also gives each route its own
    # example: FastAPI would put a `model` under application/json, which the server
    # never sends for an error (generated clients then typed every error as unknown).
    return {"description": _MEANING[status], "content": {PROBLEM_JSON: {}}}


def problems(*statuses: int, token: bool = True) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status documented as application/problem+json.
    A route that needs a token (`token`) also lists 401 and 403; every route lists 422
    and 503."""
    listed = (401, 403, *statuses, 422, 503) if token else (*statuses, 503)
    return {status: _problem_response(status) for status in listed}


# ------------------------------------------------------------------ operation ids
def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(word.capitalize() for word in rest)


_ACTIONS = {(p.method, p.path): action for action, p in PERMISSIONS.items()}


def operation_id(route: APIRoute) -> str:
    """The route's action in the permission table, in camelCase (`assessReport`): each
    route has exactly one, it is already its name in 403 answers and the access log, and
    it does not change when a function or path is renamed. Routes outside the table
    (health) use their function's name."""
    for method in sorted(route.methods or ()):
        action = _ACTIONS.get((method, route.path_format))
        if action is not None:
            return _camel(action.value)
    return _camel(route.name)


# ------------------------------------------------------------------ the document
_ERROR = re.compile(r"^[45]\d\d$")
_METHODS = ("get", "put", "post", "delete", "patch")


def _describe_errors(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if "requestBody" in operation:
        responses.setdefault("400", _problem_response(400))
    responses.setdefault("405", _problem_response(405))
    responses["405"]["headers"] = {"Allow": {
        "description": "The methods this path takes, e.g. `GET, HEAD, POST`.",
        "schema": {"type": "string"}}}
    for status, response in responses.items():
        if not _ERROR.match(status):
            continue
        response["content"] = {PROBLEM_JSON: {
            "schema": PROBLEM_REF,
            "example": problem_example(int(status), method.upper(), path)}}


def _repeat_has_content(operation: dict[str, Any]) -> None:
    """A 200 that repeats an earlier request (`duplicate: true`) answers what the first
    one did: give it the first answer's content when the route declared none."""
    responses = operation.get("responses", {})
    first = next((r["content"] for s, r in sorted(responses.items())
                  if s in ("200", "201") and r.get("content")), None)
    for status in ("200", "201"):
        if status in responses and not responses[status].get("content") and first:
            responses[status]["content"] = first


def _problem_components(schemas: dict[str, Any]) -> None:
    """`Problem` (and what it refers to) in components, whether or not a route named it
    as a model; FastAPI's own 422 shapes go, since the server never sends them."""
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def _date_examples(schemas: dict[str, Any], today: date) -> None:
    for name, examples in dated_examples(today).items():
        if name in schemas:
            schemas[name]["examples"] = examples


def build_openapi(app: FastAPI, today: date) -> dict[str, Any]:
    """FastAPI's document, made truthful about errors and repeats, with its dated
    examples for `today` (see the module)."""
    document = get_openapi(title=app.title, version=app.version,
                           openapi_version=app.openapi_version, description=app.description,
                           routes=app.routes, tags=app.openapi_tags, servers=app.servers)
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            if method in item:
                _repeat_has_content(item[method])
                _describe_errors(path, method, item[method])
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _problem_components(schemas)
    schemas["PrometheusExposition"] = PROMETHEUS_TEXT_SCHEMA
    _date_examples(schemas, today)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve `build_openapi`'s document at /openapi.json: built once a day (UTC), since
    its dated examples are."""
    built_for: list[date] = []

    def openapi() -> dict[str, Any]:
        today = datetime.now(UTC).date()
        if app.openapi_schema is None or built_for != [today]:
            app.openapi_schema = build_openapi(app, today)
            built_for[:] = [today]
        return app.openapi_schema

    replace: Callable[[], dict[str, Any]] = openapi
    app.openapi = replace  # type: ignore[method-assign]
