"""Issue 6: every cell of the permission table (api/permissions.py) against the running
API, the table against the routes, and the README's table against the code's.

An allowed cell must get past authentication and the role check (anything but 401/403:
usually 422 for the deliberately empty body, or 200); a denied cell must answer 403.
Agency and integration tokens act for the agency of the case used, so an allowed cell
is not hidden behind C7's 404 (that is tested in test_c7_scoping.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, routing
from fastapi.routing import APIRoute

from api.app import create_app
from api.permissions import PERMISSIONS, Action, markdown_table, permitted
from casework.config import Settings
from casework.tokens import AGENCY_SCOPED_ROLES, Role
from tests.api.conftest import ApiClient, active_case, assert_problem, new_case_id

PUBLIC_PATHS = {"/healthz", "/readyz"}
# The codec sign-in checks the token in its form body itself (api/codec_session.py),
# against the roles of DECODE_PAYLOADS; tested in test_codec_session.py.
SELF_CHECKING_PATHS = {"/codec/session",
                       # issue 11: the staff sign-in, and the proxied Temporal UI, which
                       # checks the session against the decode_payloads roles itself
                       "/ui/sign-in", "/ui/sign-out", "/ui/login", "/ui", "/ui/{path:path}",
                       # issue 17: the caseload page and its files (public, no case data)
                       # and /app/session, which answers any verified token about itself
                       "/app", "/app/", "/app/assets/{name}", "/app/session"}
MATRIX_AGENCY = f"agency-{new_case_id('matrix')}"
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
async def matrix_case(api: httpx.AsyncClient) -> str:
    return await active_case(api, "matrix", agency_id=MATRIX_AGENCY)


def _request(action: Action, case_id: str) -> tuple[str, str, Any]:
    """A request for the action that changes nothing whoever sends it: an empty body
    (422 once past the role check), or ids that do not exist on the case (404)."""
    permission = PERMISSIONS[action]
    path = permission.path.format(case_id=case_id, report_id="rep-matrix",
                                  audit_id="audit-matrix", review_id="rev-matrix",
                                  task_id="task-matrix", request_id="req-matrix",
                                  dispute_id="req-matrix", arrangement_id="req-matrix")
    if permission.method == "GET":
        return "GET", path, None
    if path.startswith("/codec/"):
        return "POST", path, {"payloads": []}
    return permission.method, path, {}


CELLS = [(action, role) for action in Action for role in Role]


@pytest.mark.parametrize(("action", "role"), CELLS,
                         ids=[f"{a.value}-{r.value}" for a, r in CELLS])
async def test_role_x_endpoint_matrix(api: ApiClient, matrix_case: str, action: Action,
                                      role: Role) -> None:
    agency = MATRIX_AGENCY if role in AGENCY_SCOPED_ROLES else None
    client = api.as_role(role, agency=agency)
    method, path, body = _request(action, matrix_case)
    response = await client.request(method, path, json=body)
    if role in PERMISSIONS[action].roles:
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500, response.text
        if method == "GET" and "req-matrix" in path:  # T1-T4: no such request
            assert response.status_code == 404, response.text
        elif method == "GET" or path.startswith("/codec/"):
            assert response.status_code == 200, response.text
    else:
        problem = assert_problem(response, 403)
        assert problem["action"] == action.value
        assert problem["required_roles"] == sorted(r.value for r in PERMISSIONS[action].roles)


def test_admin_may_do_everything_and_operations_only_reads() -> None:
    """The issue's two fixed rows: admin everything; operations read-only, everything
    (decoding history for the UI is reading: it changes nothing)."""
    for action, permission in PERMISSIONS.items():
        assert Role.ADMIN in permission.roles, action
        reads = permission.method == "GET" or permission.path.startswith("/codec/")
        assert (Role.OPERATIONS in permission.roles) == reads, action


def test_integration_only_submits_reports_and_events() -> None:
    allowed = {a for a, p in PERMISSIONS.items() if Role.INTEGRATION in p.roles}
    assert allowed == {Action.SUBMIT_REPORT, Action.RAISE_EVENT}


def test_c4_only_the_team_manager_endorses_and_case_planner_records_outcomes() -> None:
    assert PERMISSIONS[Action.ENDORSE_CONTRACT].roles == {Role.TEAM_MANAGER, Role.ADMIN}
    assert PERMISSIONS[Action.RECORD_REVIEW_OUTCOME].roles == {Role.CASE_PLANNER, Role.ADMIN}


def _api_routes(app: FastAPI) -> Iterator[tuple[str, set[str], APIRoute]]:
    """(path, methods, route) of every API route, included routers opened up."""
    iterate = getattr(routing, "iter_route_contexts", None)
    if iterate is None:  # FastAPI versions that flatten included routers
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route.path, route.methods, route
        return
    for context in iterate(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context.path, set(context.methods or ()), context.original_route


def test_every_route_takes_its_permission_from_the_table(api_settings: Settings) -> None:
    """Each route but the health checks declares exactly one action, whose method and
    path in the table are the route's own; every action of the table has its route."""
    app = create_app(api_settings)
    seen: set[Action] = set()
    for path, methods, route in _api_routes(app):
        gates = [dep.call for dep in route.dependant.dependencies
                 if isinstance(dep.call, permitted)]
        if path in PUBLIC_PATHS | SELF_CHECKING_PATHS:
            assert not gates, path
            continue
        assert len(gates) == 1, f"{path} declares {len(gates)} permissions"
        gate = gates[0]
        assert isinstance(gate, permitted)
        permission = PERMISSIONS[gate.action]
        assert (permission.method, permission.path) == (*methods, path)
        seen.add(gate.action)
    assert seen == set(Action)


def test_readme_permission_table_is_the_code_table() -> None:
    """Regenerate with `python -c 'from api.permissions import markdown_table as t;
    print(t())'` after changing the table."""
    assert markdown_table() in README.read_text(encoding="utf-8")


async def test_health_and_docs_stay_public(api: ApiClient) -> None:
    anonymous = api.with_token(None)
    for path in ("/healthz", "/readyz", "/docs", "/openapi.json"):
        assert (await anonymous.get(path)).status_code == 200, path


async def test_openapi_documents_the_bearer_scheme(api: ApiClient) -> None:
    spec = (await api.with_token(None).get("/openapi.json")).json()
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert spec["paths"]["/cases"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in spec["paths"]["/healthz"]["get"]
    assert "401" in spec["paths"]["/cases/{case_id}"]["get"]["responses"]
