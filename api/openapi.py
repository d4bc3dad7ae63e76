"""OpenAPI documentation of the problem+json error answers, shared by the routers."""

from __future__ import annotations

from typing import Any

from api.schemas.common import Problem

_MEANING = {
    404: "No such case (the same answer whatever the reason), or no such item on it.",
    409: "Conflicts with the case's state or with an earlier request under the same id.",
    422: "Invalid input: `field` names it, `rule` the DOMAIN rule when one applies.",
    503: "Temporal or the database is unreachable; retrying the same request is safe.",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status documented as application/problem+json."""
    return {
        status: {"model": Problem, "description": _MEANING[status],
                 "content": {"application/problem+json": {}}}
        for status in (*statuses, 422, 503)
    }
