"""Contact with the child (K1): long gaps are evidence of lack of client contact (R7).

Issue 13: a case whose workflow reads its contacts from the read model (every run
since the `lean-periods` patch, but while its current K1 gap is raised; its row says
so) gets the contact recorded there, in this request's transaction, without a message
to the workflow -- which reads the latest when its K1 checks fall due
(activities/contacts.py). Any other case gets the contact as a message, as before."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from activities import contacts as recorded
from api.accepted import PendingWrite, accepted_write
from api.actors import actor_id, domain_role
from api.case_gateway import GatewayDep
from api.deps import SessionDep
from api.errors import Conflict, NotFound, ProblemError, Unprocessable
from api.openapi import problems, write_pending
from api.permissions import Action, Caller, permitted
from api.schemas import ContactIn, ContactView
from api.scoping import visible_case
from models.messages import ContactRecorded, RecordContact
from workflows.case_contract import CaseContractWorkflow
from workflows.engine_contacts import contact_key
from workflows.errors import CONFLICT, NOT_FOUND, CaseError

router = APIRouter(tags=["contacts"])


def case_problem(error: CaseError) -> ProblemError:
    """A rule's refusal as the workflow's validator would have given it (the problem the
    gateway makes of a refused update: api/case_gateway.py `refusal`)."""
    extra: dict[str, str] = {"field": error.field}
    if error.rule:
        extra["rule"] = error.rule
    if error.kind == NOT_FOUND:
        return NotFound(error.message, **extra)
    if error.kind == CONFLICT:
        return Conflict(error.message, **extra)
    return Unprocessable(error.message, **extra)


@router.post(
    "/cases/{case_id}/contacts", status_code=201, response_model=ContactView,
    summary="Record a contact with the child (K1)",
    responses={200: {"description": "The same `contact_id` again: the first answer."},
               **write_pending(), **problems(404, 409)},
)
async def record_contact(
    caller: Annotated[Caller, Depends(permitted(Action.RECORD_CONTACT))],
    case_id: str, body: ContactIn, response: Response, session: SessionDep, gateway: GatewayDep,
) -> ContactView | JSONResponse:
    """A practitioner's contact also counts as the yearly meeting, so `by_role` and
    `by` come from the token (an agency cannot record a practitioner's meeting: 403).
    Repeat-safe on `contact_id`."""
    case = await visible_case(session, caller, case_id)
    by_role = domain_role(caller, body.by_role, "by_role", rule="K1")
    message = RecordContact(contact_id=body.contact_id, occurred_on=body.occurred_on,
                            kind=body.kind, by_role=by_role, by=actor_id(caller, body.by, "by"))
    result: ContactRecorded | PendingWrite | None
    try:
        result = await recorded.record_contact(session, case, message, datetime.now(UTC))
    except CaseError as exc:
        raise case_problem(exc) from exc
    if result is None:  # the case wants it as a message (a K1 gap is raised): send it
        result = await gateway.update(case_id, CaseContractWorkflow.record_contact, message,
                                      answer_key=contact_key(message),
                                      answer_type=ContactRecorded)
    if isinstance(result, PendingWrite):
        return accepted_write(result)
    if result.duplicate:
        response.status_code = 200
    return ContactView.model_validate(result)
