"""Every error leaves the API as `application/problem+json` (RFC 9457), mapped here and
only here, so that handlers raise domain errors and never format responses."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from models.errors import PolicyViolation

PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """An error the API answers with a problem document."""

    def __init__(self, status: int, title: str, detail: str, *,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers
        self.extra = extra


class Unauthorized(ProblemError):
    """401: no usable credentials. `WWW-Authenticate` tells the client to send a bearer
    token (RFC 6750); `reason` says what was wrong with the one it sent."""

    def __init__(self, detail: str, *, reason: str, challenge: str = "Bearer") -> None:
        super().__init__(401, "Unauthorized", detail, headers={"WWW-Authenticate": challenge},
                         field="Authorization", reason=reason)


class Forbidden(ProblemError):
    """403: the caller is known but none of its roles may do this."""

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(403, "Forbidden", detail, **extra)


class NotFound(ProblemError):
    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(404, "Not Found", detail, **extra)


class Conflict(ProblemError):
    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(409, "Conflict", detail, **extra)


class Unprocessable(ProblemError):
    """422: the request is well-formed but breaks a rule; `field` (and `rule` when a
    DOMAIN rule applies) say where."""

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(422, "Invalid request", detail, **extra)


class ServiceUnavailable(ProblemError):
    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(503, "Service Unavailable", detail, **extra)


DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OperationalError, DBAPIError, PoolTimeoutError, TimeoutError, OSError)
"""What a database that is down, frozen or saturated raises: refused or timed-out
connections (asyncpg raises the built-in TimeoutError for its connect and statement
timeouts), a statement cancelled by `statement_timeout`, a pool with no free connection,
SQLite's "database is locked" (issue 18)."""


def database_unavailable(exc: BaseException) -> ServiceUnavailable:
    """503 naming the database, and why, without the statement or its parameters."""
    return ServiceUnavailable(
        f"The database did not answer in time or is unreachable ({type(exc).__name__}); "
        "the request can be retried.", component="database")


def problem_response(
    status: int, title: str, detail: str, instance: str | None = None, *,
    headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON,
                        headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    path = ""
    for part in parts:
        path += f"[{part}]" if part.isdigit() else (f".{part}" if path else part)
    return path


def _answer(request: Request, exc: ProblemError) -> JSONResponse:
    return problem_response(exc.status, exc.title, exc.detail, request.url.path,
                            headers=exc.headers, **exc.extra)


async def _caller_refused(request: Request) -> JSONResponse | None:
    """FastAPI reads a body before any dependency runs, so a bad body would be answered
    before the token is looked at: the caller is checked first, so nobody without
    credentials learns anything, not even about the body. None: the caller may go on."""
    from api.auth import check_caller

    try:
        await check_caller(request)
    except ProblemError as refused:
        return _answer(request, refused)
    return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return _answer(request, exc)

    @app.exception_handler(PolicyViolation)
    async def _policy(request: Request, exc: PolicyViolation) -> JSONResponse:
        return problem_response(
            422, "Policy violation", str(exc), request.url.path,
            rule=exc.rule, field=exc.field,
            errors=[exc.to_dict()],
        )

    async def _database(request: Request, exc: Exception) -> JSONResponse:
        # A query outside the request's unit of work (api/deps.py maps those) that the
        # database could not answer: the same 503, never a generic 500.
        return _answer(request, database_unavailable(exc))

    for database_error in (OperationalError, DBAPIError, PoolTimeoutError):
        app.add_exception_handler(database_error, _database)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if (refused := await _caller_refused(request)) is not None:
            return refused
        errors = [
            # A body that is not JSON names the body, not the character it broke at.
            {"field": "body" if err.get("type") == "json_invalid"
             else _field_path(tuple(err.get("loc", ()))), "message": err.get("msg", "")}
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"field": "", "message": "invalid request"}
        # Rule "input", as the policy's own shape errors: the same time zone or id is
        # refused here by the schema or there by workflows/policy.py (issue 9).
        return problem_response(
            422, "Invalid request", f"{first['field']}: {first['message']}", request.url.path,
            field=first["field"], rule="input", errors=errors,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not the client's fault: answer in the same format (the server error
        # middleware still logs the traceback), without leaking internals.
        return problem_response(500, "Internal Server Error",
                                "An unexpected error occurred; it has been logged.",
                                request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and (refused := await _caller_refused(request)) is not None:
            return refused  # a body FastAPI could not parse: as for 422
        title = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
                 401: "Unauthorized", 403: "Forbidden",
                 413: "Content Too Large"}.get(exc.status_code, "Error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(exc.status_code, title, str(exc.detail), request.url.path,
                                headers=headers or None)


def allowed_methods(request: Request) -> list[str]:
    """RFC 9110: a 405 lists the methods the path takes, in `Allow`. Starlette names only
    those of the first route matching the path (`POST` for `PUT /cases`, though `GET`
    works too), so every route is asked about every method (issue 12)."""
    allowed: list[str] = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
