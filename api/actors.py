"""Who did it comes from the token, not the body (issue 9, part 5).

Every message the API sends a case's workflow names who acted (`submitted_by`,
`assessed_by`, `team_manager_id` ...) and, for K1 contacts and V3/V4 review requests, in
which domain role (`by_role`, `requested_by_role`, `raised_by_role`). Both used to be
taken from the body as written: an `agency` token could record a contact `by_role:
practitioner` and so satisfy K1's yearly practitioner meeting; an agency could request a
review as `child_protection`; an integration could raise a V4 concern as `practitioner`.
A recorded action must be attributed to the subject that really did it, so:

- an **actor id** left out (or empty) is the token's subject; one given must be that
  subject -- otherwise 403 naming the field. Only `admin` may name someone else
  (back-office entry on a person's behalf); the access log still records the admin.
- a **domain role** left out is derived from the role that allowed the call
  (`DOMAIN_ROLES`, first entry); one given must be among those the caller's granting
  roles vouch for -- otherwise 403 naming the field (and its rule). `admin` vouches for
  every role but has none of its own, so it must name one (422 when absent). A value
  that is no domain role at all is left to the workflow, whose 422 names the rule.

Plain functions of the verified `Caller` and the request's values: no I/O, tested
directly in tests/unit/test_actors.py; the routes call them after the C7 scope check
(so another agency's case stays a 404) and before anything is written or sent.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import TypeAdapter, ValidationError

from api.errors import Forbidden, Unprocessable
from api.permissions import PERMISSIONS, Action, Caller
from api.schemas.common import PersonRef
from casework.tokens import Role

ON_BEHALF = frozenset({Role.ADMIN})
"""Roles that may record an action in another subject's name or any domain role."""

CONTACT_ROLES: Mapping[Role, tuple[str, ...]] = {
    Role.PRACTITIONER: ("practitioner",),
    Role.AGENCY: ("agency",),
}
"""K1 `by_role`: only a practitioner's own contact counts as the yearly meeting."""

REQUESTER_ROLES: Mapping[Role, tuple[str, ...]] = {
    # CP staff relay the child's or family's request (they hold no token of their own).
    Role.PRACTITIONER: ("practitioner", "child_protection", "child_or_family"),
    Role.CASE_PLANNER: ("child_protection", "child_or_family"),
    Role.AGENCY: ("agency",),
    Role.INTEGRATION: ("agency",),  # an agency's service account speaks for the agency
}
"""V3/V4 `requested_by_role` (and an event's `raised_by_role`): who asked for a review."""

DOMAIN_ROLES: Mapping[str, Mapping[Role, tuple[str, ...]]] = {
    "by_role": CONTACT_ROLES,
    "requested_by_role": REQUESTER_ROLES,
    "raised_by_role": REQUESTER_ROLES,
}
"""Per role field, the domain roles each token role may state; the first is its default.
The README's table of token roles to domain roles is rendered from this (a test
compares)."""

ROLE_FIELD_ACTIONS: Mapping[str, Action] = {
    "by_role": Action.RECORD_CONTACT,
    "requested_by_role": Action.REQUEST_REVIEW,
    "raised_by_role": Action.RAISE_EVENT,
}
"""Where each role field is sent: the README's table shows a cell only for token roles
that may call that endpoint."""

_ACTOR_ID: TypeAdapter[str] = TypeAdapter(PersonRef)


def _on_behalf(caller: Caller) -> bool:
    return not caller.granted_by.isdisjoint(ON_BEHALF)


def actor_id(caller: Caller, given: str | None, field: str) -> str:
    """The id recorded as having done this: the token's subject when `given` is empty,
    `given` when it is that subject (or the caller is an admin), else 403 on `field`.

    The subject goes into workflow history, so it must have the shape of an id (DESIGN
    decision 6: ids, never names or free text); a token whose subject does not is
    refused rather than recorded altered."""
    subject = caller.principal.subject
    if given and given != subject:
        if _on_behalf(caller):
            return given
        raise Forbidden(f"{field} must be the caller's own id ({subject!r}) or left out: "
                        f"an action is recorded under the subject that did it.",
                        field=field, action=caller.action.value)
    try:
        return _ACTOR_ID.validate_python(subject)
    except ValidationError:
        raise Forbidden(f"The token's subject cannot be recorded as {field}: it is not an id "
                        "(letters, digits, '.', '_', ':', '@', '-'; at most 64).",
                        field=field, action=caller.action.value) from None


def vouched_roles(caller: Caller, table: Mapping[Role, tuple[str, ...]]) -> set[str]:
    """The domain roles the caller's granting token roles may state (admin: none of its
    own; see `domain_role`)."""
    return {role for token_role in caller.granted_by for role in table.get(token_role, ())}


def domain_role(caller: Caller, given: str | None, field: str, *, rule: str) -> str:
    """The domain role recorded for this action (`field` is a key of DOMAIN_ROLES).

    Absent: the default of the caller's granting roles, when they agree on one; else
    422 (an admin, or a token whose roles would give different answers, must say).
    Given: accepted when vouched for (or the caller is an admin), or when it is not a
    domain role at all (the workflow refuses it by `rule`); else 403 on `field`."""
    table = DOMAIN_ROLES[field]
    known = {role for roles in table.values() for role in roles}
    if given is None:
        defaults = {table[role][0] for role in caller.granted_by if role in table}
        if len(defaults) == 1:
            return defaults.pop()
        choices = ", ".join(sorted(known))
        raise Unprocessable(f"{field} is required for this caller: name one of {choices}.",
                            field=field, rule=rule)
    if given not in known or _on_behalf(caller) or given in vouched_roles(caller, table):
        return given
    allowed = ", ".join(sorted(vouched_roles(caller, table))) or "none"
    raise Forbidden(f"Your role(s) ({', '.join(sorted(caller.granted_by))}) may not act as "
                    f"{given!r} in {field}; they may state: {allowed}.",
                    field=field, rule=rule, action=caller.action.value)


def markdown_table() -> str:
    """The README's mapping of token roles to domain roles, rendered from DOMAIN_ROLES."""
    fields = list(DOMAIN_ROLES)
    header = "| token role | " + " | ".join(f"`{f}`" for f in fields) + " |"
    rule = "| --- | " + " | ".join("---" for _ in fields) + " |"
    rows = []
    for token_role in Role:
        cells = [_cell(token_role, field) for field in fields]
        if any(cells):
            rows.append(f"| `{token_role.value}` | " + " | ".join(cells) + " |")
    return "\n".join([header, rule, *rows])


def _cell(token_role: Role, field: str) -> str:
    if token_role not in PERMISSIONS[ROLE_FIELD_ACTIONS[field]].roles:
        return ""
    if token_role in ON_BEHALF:
        return "any (must be named)"
    default, *others = DOMAIN_ROLES[field][token_role]
    return ", ".join([f"**{default}**", *others])
