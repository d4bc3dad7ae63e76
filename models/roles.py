"""Token roles, shared by the API (casework/tokens.py, api/permissions.py) and the
workflow, which checks the roles a signed caller envelope names (issue 10). Standard
library only, so it imports inside the workflow sandbox."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a caller may do; the API maps each route to the roles allowed on it."""

    PRACTITIONER = "practitioner"
    TEAM_MANAGER = "team_manager"
    CASE_PLANNER = "case_planner"
    AGENCY = "agency"
    INTEGRATION = "integration"
    OPERATIONS = "operations"
    ADMIN = "admin"


AGENCY_SCOPED_ROLES = frozenset({Role.AGENCY, Role.INTEGRATION})
"""Roles whose reach is limited to one agency's contracts (C7)."""
