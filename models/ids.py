"""The id rules of every door (issue 10): what may travel into workflow history as an id.

One definition for the REST input models (api/schemas/common.py builds `Id` and
`PersonRef` from these patterns) and for the workflow, which checks every message that
reaches it however it came (a signal from the Temporal CLI skips the REST models). Plain
`re`, no pydantic: importable inside the workflow sandbox.

Ids are codes (letters, digits, `.` `_` `:` `-`), never names or free text (DESIGN
decision 6): a `/` would also make the object unreachable through REST (404).
"""

from __future__ import annotations

import re

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
"""A client-chosen id (report, event, audit, review, task, note ...)."""
PERSON_PATTERN = r"^([A-Za-z0-9][A-Za-z0-9._:@-]*)?$"
"""Who did something, as a staff or system id (never a name); may be empty."""
ID_MAX_LENGTH = 64

_ID = re.compile(ID_PATTERN)
_PERSON = re.compile(PERSON_PATTERN)


def is_id(value: object) -> bool:
    """True when `value` is a string the REST API accepts as an id."""
    return (isinstance(value, str) and 1 <= len(value) <= ID_MAX_LENGTH
            and _ID.fullmatch(value) is not None)


WORKFLOW_ID_MAX_LENGTH = 255
UNREADABLE_WORKFLOW_ID = "(unreadable workflow id)"


def recordable_workflow_id(workflow_id: str) -> str:
    """A workflow id as the access log may record it: itself when it is built of id
    characters (the service's own are: `case-contract-<case id>`, `transfer-<id>` ...),
    else a placeholder -- a start from outside chooses its workflow id, perhaps a name."""
    if (1 <= len(workflow_id) <= WORKFLOW_ID_MAX_LENGTH
            and _ID.fullmatch(workflow_id) is not None):
        return workflow_id
    return UNREADABLE_WORKFLOW_ID


def is_person_ref(value: object) -> bool:
    """True when `value` is a string the REST API accepts as an actor id (or empty)."""
    return (isinstance(value, str) and len(value) <= ID_MAX_LENGTH
            and _PERSON.fullmatch(value) is not None)
