"""OpenAPI documentation of the problem+json error answers, shared by the routers."""

from __future__ import annotations

from typing import Any

from api.schemas.common import Problem
from api.schemas.views import AcceptedView

_MEANING = {
    401: "No bearer token, or one that is expired, not yet valid, wrongly signed, for "
         "another audience or issuer, or malformed; `reason` says which.",
    403: "The token is valid but none of its roles may call this (README permission "
         "table), or the body names another actor or domain role than the token's "
         "(`field`; README, *Who did it comes from the token*).",
    404: "No such case (the same answer whatever the reason), or no such item on it.",
    409: "Conflicts with the case's state or with an earlier request under the same id.",
    422: "Invalid input: `field` names it, `rule` the DOMAIN rule when one applies.",
    503: "Temporal or the database is unreachable: nothing took effect. Or a case's "
         "worker did not answer in time: Temporal may still apply it (the detail says "
         "so). Either way retrying the same request is safe.",
}


def accepted_later(model: type[AcceptedView], description: str
                   ) -> dict[int | str, dict[str, Any]]:
    """`responses=` entry for a write that may answer 202 Accepted (api/accepted.py):
    it took effect, its result is not known yet; `Location` says where it will show."""
    return {202: {"model": model, "description": description, "headers": {
        "Location": {"description": "Where the result shows once applied.",
                     "schema": {"type": "string"}}}}}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status documented as application/problem+json.
    Every route using it needs a token, so 401 and 403 are always listed."""
    return {
        status: {"model": Problem, "description": _MEANING[status],
                 "content": {"application/problem+json": {}}}
        for status in (401, 403, *statuses, 422, 503)
    }
