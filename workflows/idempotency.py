"""Every message that changes a case carries an id; the first answer to it is kept in
the case state, so a repeat -- a client retry, a signal delivered twice, an update
retried across continue-as-new -- changes nothing and gets the same answer back.

An answer is kept as a dict of its fields in the run that gave it; continue-as-new
carries it as the list of their values (`compact_answers`, issue 13: the field names
were most of the bytes of every message a long contract ever answered). The values are
in the answer type's field order, `duplicate` left out; a type that gains a field must
add it at the end (with a default), as every message type already must."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, fields
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from workflows.engine import CaseEngine
from workflows.state import CaseState

T = TypeVar("T")
M = TypeVar("M")
Apply = Callable[[CaseEngine, M, datetime], T]


DUPLICATE = "duplicate"


def remembered(state: CaseState, key: str, result_type: type[T]) -> T | None:
    """The first answer given to message `key`, marked as a duplicate."""
    answer = state.answered.get(key)
    if answer is None:
        return None
    if isinstance(answer, list):  # compact: the values in field order (module docstring)
        names = [f.name for f in fields(result_type) if f.name != DUPLICATE]  # type: ignore[arg-type]
        answer = dict(zip(names, answer, strict=False))
    return result_type(**{**answer, DUPLICATE: True})


def remember(state: CaseState, key: str, result: Any) -> None:
    state.answered[key] = asdict(result)


def compact_answers(state: CaseState) -> None:
    """Every answer as the list of its values, `duplicate` (always False when first
    given) left out: what continue-as-new carries (module docstring)."""
    for key, answer in state.answered.items():
        if isinstance(answer, dict):
            state.answered[key] = [value for name, value in answer.items() if name != DUPLICATE]


def answered_once(key: Callable[[M], str], result_type: type[T]
                  ) -> Callable[[Apply[M, T]], Apply[M, T]]:
    """Make an `apply_*` idempotent on its message's id: the first answer is remembered
    in the case state (so it survives continue-as-new) and a repeat -- a client retry, a
    signal delivered twice -- gets that answer back, marked duplicate, changing nothing."""

    def decorate(apply: Apply[M, T]) -> Apply[M, T]:
        @wraps(apply)
        def once(engine: CaseEngine, message: M, now: datetime) -> T:
            previous = remembered(engine.state, key(message), result_type)
            if previous is not None:
                return previous
            result = apply(engine, message, now)
            remember(engine.state, key(message), result)
            return result

        return once

    return decorate
