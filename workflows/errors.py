"""Why the workflow refused a message, in a form the API maps to an HTTP status.

Update validators raise these (converted to non-retryable `ApplicationError` with the
kind as its type), so a bad request is rejected before it enters history.
"""

from __future__ import annotations

NOT_FOUND = "NotFound"
CONFLICT = "Conflict"
INVALID = "Invalid"
FORBIDDEN = "Forbidden"
"""Issue 10: the sender may not send this message to this case (role, C7, envelope)."""


class CaseError(Exception):
    def __init__(self, kind: str, message: str, *, rule: str = "", field: str = "",
                 open_items: list[str] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.rule = rule
        self.field = field
        self.open_items = open_items or []

    def details(self) -> dict[str, object]:
        found: dict[str, object] = {"kind": self.kind, "rule": self.rule, "field": self.field,
                                    "message": self.message}
        if self.open_items:
            found["open_items"] = self.open_items
        return found


def not_found(message: str, *, field: str = "", rule: str = "") -> CaseError:
    return CaseError(NOT_FOUND, message, field=field, rule=rule)


def conflict(message: str, *, field: str = "", rule: str = "",
             open_items: list[str] | None = None) -> CaseError:
    return CaseError(CONFLICT, message, field=field, rule=rule, open_items=open_items)


def invalid(message: str, *, field: str = "", rule: str = "") -> CaseError:
    return CaseError(INVALID, message, field=field, rule=rule)
