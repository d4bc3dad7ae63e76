"""C7 object-level access: an agency sees and acts on its own contracts in force, only.

Agency and integration callers (`Caller.agency_scoped`) reach a case when it belongs to
their agency *and* its contract is in force -- awaiting endorsement or active. Once the
contract has ended (E1: end date, order expiry, or a review returning case management
to CP -> `closing`) or the case is closed, the agency no longer sees or acts on it.

Anything out of reach answers exactly like a case that does not exist (404, same body),
so an agency cannot even learn which case ids exist elsewhere. Lists are filtered by the
same rule, in SQL, so paging and counts never reveal hidden rows. Staff roles reach
every agency's cases.

The rule reads the read model's `status`, which the workflow's activity updates a moment
after the workflow decides; an agency may keep access for that moment after a contract
ends, never the other way round.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from api.case_gateway import case_not_found
from api.permissions import Caller
from models.tables import CaseRow
from workflows.policy import is_id
from workflows.state import ACTIVE, AWAITING_ENDORSEMENT

IN_FORCE = (AWAITING_ENDORSEMENT, ACTIVE)
"""Contract statuses during which the agency holds the case (C7, E1)."""


def can_reach(caller: Caller, case: CaseRow) -> bool:
    if not caller.agency_scoped:
        return True
    return case.agency_id == caller.principal.agency_id and case.status in IN_FORCE


async def reachable(session: AsyncSession, caller: Caller, case_id: str) -> CaseRow | None:
    """The case's read-model row when the caller may reach it, else None. A case id no
    case can have (a NUL, which PostgreSQL refuses, or free text) is simply unknown
    (issue 9: it answered 503 "database unreachable")."""
    if not is_id(case_id):
        return None
    row = await session.get(CaseRow, case_id)
    return row if row is not None and can_reach(caller, row) else None


async def visible_case(session: AsyncSession, caller: Caller, case_id: str,
                       known: CaseRow | None = None) -> CaseRow:
    """The case's read-model row; 404 -- the unknown-case answer -- when there is none or
    the caller may not reach it. `known`: the row as this request just wrote or read it,
    so it is not read again (issue 13: round trips)."""
    if known is not None and known.case_id == case_id:
        if can_reach(caller, known):
            return known
        raise case_not_found(case_id)
    row = await reachable(session, caller, case_id)
    if row is None:
        raise case_not_found(case_id)
    return row


def visible_cases(statement: Select[Any], caller: Caller) -> Select[Any]:
    """`select(CaseRow)...` narrowed to what the caller may see."""
    if not caller.agency_scoped:
        return statement
    return statement.where(CaseRow.agency_id == caller.principal.agency_id,
                           CaseRow.status.in_(IN_FORCE))


AGENCY_ADDRESSEE = "agency"
"""The recipient / assignee role that means the CSO itself."""


def on_visible_cases(statement: Select[Any], case_id: InstrumentedAttribute[str],
                     agency_id: InstrumentedAttribute[str], caller: Caller,
                     addressee: InstrumentedAttribute[str] | None = None) -> Select[Any]:
    """Rows of another table (tasks, notifications) narrowed to the caller's visible
    cases. The agency column is compared too so the agency index does the work.

    `addressee` (a recipient or assignee column) narrows further to what is addressed to
    the agency: CP's own work on the case -- the practitioner's tasks, letters to the
    program manager or the LEO, copies to the family -- is CP's file, not the CSO's."""
    if not caller.agency_scoped:
        return statement
    in_force = visible_cases(select(CaseRow.case_id), caller)
    statement = statement.where(agency_id == caller.principal.agency_id,
                                case_id.in_(in_force))
    if addressee is not None:
        statement = statement.where(addressee == AGENCY_ADDRESSEE)
    return statement
