"""Who may call what, at the API's door: the `permitted` dependency and the verified
`Caller` (issue 6, C4, C7, R4, V3-V6).

The table itself lives in models/permissions.py (issue 10), because the case workflow
checks the same table for every message it is sent, whichever door it came through:
one table, one rule. Every route names its action (`Depends(permitted(Action.X))`)
instead of listing roles itself; the README's table is rendered from the table (and a
test fails if they differ), and the role x endpoint tests are generated from it.

`permitted` also tells the Temporal client who is calling (`acting_as`), so every message
the request sends carries a signed caller envelope (casework/caller_envelope.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from api.access_log import AccessRecord, access_record, acting
from api.auth import PrincipalDep, require_roles
from casework.caller_envelope import CallerIdentity, acting_as
from casework.tokens import AGENCY_SCOPED_ROLES, Principal, Role
from models.permissions import (
    ADMIN,
    AGENCY,
    CASE_PLANNER,
    INTEGRATION,
    OPERATIONS,
    PERMISSIONS,
    PRACTITIONER,
    READERS,
    TEAM_MANAGER,
    Action,
    Permission,
)

__all__ = ["ADMIN", "AGENCY", "CASE_PLANNER", "INTEGRATION", "OPERATIONS", "PERMISSIONS",
           "PRACTITIONER", "READERS", "TEAM_MANAGER", "Action", "Caller", "Permission",
           "markdown_table", "permitted"]


@dataclass(frozen=True)
class Caller:
    """The verified caller of one action, and which of its roles allowed it.

    C7 scoping follows from the granting roles, not from the token alone: a token with
    both `agency` and `operations` reads every case (operations may), but records a
    contact only as the agency, on its own cases.
    """

    principal: Principal
    action: Action
    granted_by: frozenset[Role]
    record: AccessRecord | None = None

    @property
    def agency_scoped(self) -> bool:
        """True when only agency-scoped roles allow this action: C7 confines it to the
        caller's agency's contracts in force."""
        return self.granted_by <= AGENCY_SCOPED_ROLES

    def note_case(self, case_id: str) -> None:
        """Name the case in the access log when the path does not (a task's case)."""
        if self.record is not None:
            self.record.case_id = case_id


class permitted:
    """The dependency a route declares, `Depends(permitted(Action.X))` (lower case: it is
    used like a function): the caller, if the table allows it, else 403."""

    def __init__(self, action: Action) -> None:
        self.action = action
        self.permission = PERMISSIONS[action]
        self._gate = require_roles(*self.permission.roles, action=action.value)

    async def __call__(self, request: Request, principal: PrincipalDep) -> Caller:
        record = access_record(request)
        if record is not None:
            record.action = self.action.value
        await self._gate(request, principal)
        # Issue 10: whatever this request sends a case carries this caller, signed.
        acting_as(CallerIdentity(subject=principal.subject,
                                 roles=tuple(sorted(principal.roles)),
                                 agency_id=principal.agency_id, action=self.action.value,
                                 district_id=principal.district_id))
        await acting(request)  # allowed: its access-log row is written before it acts
        return Caller(principal, self.action, principal.roles & self.permission.roles, record)


ROLE_ORDER = tuple(Role)


def markdown_table() -> str:
    """The README's permission table, rendered from `PERMISSIONS` (a test compares)."""
    header = "| endpoint | action | " + " | ".join(role.value for role in ROLE_ORDER) + " |"
    rule = "| --- | --- | " + " | ".join(":-:" for _ in ROLE_ORDER) + " |"
    rows = [
        f"| `{p.method} {p.path}` | {p.what} | "
        + " | ".join("yes" if role in p.roles else "" for role in ROLE_ORDER) + " |"
        for p in PERMISSIONS.values()
    ]
    return "\n".join([header, rule, *rows])

