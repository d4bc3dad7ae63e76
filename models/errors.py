"""Domain errors shared by the pure policy, the workflow and the API.

A `PolicyViolation` names the DOMAIN.md rule it enforces (`C2`, `C5` …, or `input` for
a plain shape error) and the dotted path of the offending input field, so the API can
answer with problem+json pointing at the field (api/errors.py) and the workflow can
refuse with a non-retryable `ApplicationError` carrying the same details.
"""

from __future__ import annotations


class PolicyViolation(Exception):
    """The input breaks rule `rule`; `field` is a dotted path such as "functions[2]" or
    "schedule.due_dates"."""

    def __init__(self, rule: str, field: str, message: str) -> None:
        # All three go to Exception.args so the exception pickles and copies whole.
        super().__init__(rule, field, message)
        self.rule = rule
        self.field = field
        self.message = message

    def __str__(self) -> str:
        where = f"{self.rule} {self.field}" if self.field else self.rule
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "field": self.field, "message": self.message}
