"""Every message that changes a case carries an id; the first answer to it is kept in
the case state, so a repeat -- a client retry, a signal delivered twice, an update
retried across continue-as-new -- changes nothing and gets the same answer back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from workflows.engine import CaseEngine
from workflows.state import CaseState

T = TypeVar("T")
M = TypeVar("M")
Apply = Callable[[CaseEngine, M, datetime], T]


def remembered(state: CaseState, key: str, result_type: type[T]) -> T | None:
    """The first answer given to message `key`, marked as a duplicate."""
    answer = state.answered.get(key)
    if answer is None:
        return None
    return result_type(**{**answer, "duplicate": True})


def remember(state: CaseState, key: str, result: Any) -> None:
    state.answered[key] = asdict(result)


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
