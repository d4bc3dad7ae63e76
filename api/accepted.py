"""202 Accepted, the one answer for a write that took effect but whose result is not
known yet (issue 18.3): a 5xx must mean that nothing happened, so a request that did
take effect -- a report stored as a signal while no worker answers, a case started
whose listing could not be written -- says so, with the resource's address."""

from __future__ import annotations

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from api.schemas import AcceptedView


def accepted(location: str, body: AcceptedView) -> JSONResponse:
    """202 with `Location`: where the result will show once it is applied."""
    return JSONResponse(jsonable_encoder(body), status_code=202,
                        headers={"Location": location})
