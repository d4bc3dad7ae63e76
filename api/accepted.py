"""202 Accepted, the one answer for a write that took effect but whose result is not
known yet (issue 18.3): a 5xx must mean that nothing happened, so a request that did
take effect -- a message the case's workflow accepted but has not answered in time, one
stored as a signal while no worker runs the case, a case started whose listing could
not be written -- says so, with the resource's address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from api.schemas import AcceptedView, WritePendingView


def accepted(location: str, body: AcceptedView) -> JSONResponse:
    """202 with `Location`: where the result will show once it is applied."""
    return JSONResponse(jsonable_encoder(body), status_code=202,
                        headers={"Location": location})


@dataclass(frozen=True)
class PendingWrite:
    """A message to a case's workflow that took effect without an answer in time
    (api/case_gateway.py `CaseGateway.update`): `accepted` -- the worker accepted it and
    is still applying it (it is in the workflow's history); `stored` -- no worker took
    it in time, so it was delivered as a signal, kept by Temporal until one runs."""

    case_id: str
    message: str
    message_id: str | None
    stage: Literal["accepted", "stored"]


_DETAIL = {
    "accepted": "The case's worker accepted the request and is still applying it; the "
                "case (Location) shows the result once applied. Sending it again is safe.",
    "stored": "No worker answered in time: the request is stored and will be applied as "
              "soon as the case's worker runs; a refusal then is recorded on the case's "
              "timeline (signal_refused). Sending it again is safe.",
}


def pending_view(pending: PendingWrite) -> WritePendingView:
    return WritePendingView(case_id=pending.case_id, message=pending.message,
                            message_id=pending.message_id, stage=pending.stage,
                            detail=_DETAIL[pending.stage])


def accepted_write(pending: PendingWrite) -> JSONResponse:
    """The 202 for a `PendingWrite`: the case is where its result will show."""
    return accepted(f"/cases/{pending.case_id}", pending_view(pending))
