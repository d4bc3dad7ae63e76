"""Issue 9: the workflow holds its input to models/limits.py itself, so a case started
directly on Temporal (not through the API) with out-of-bounds terms fails at once with
a non-retryable PolicyViolation naming the field -- before any activity runs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.terms import ContractTerms
from tests.workflows.conftest import begin_on, make_terms, start_case


async def _refusal(env: WorkflowEnvironment, worker: Worker, terms: ContractTerms
                   ) -> dict[str, str]:
    case = await start_case(env.client, worker, terms)
    with pytest.raises(WorkflowFailureError) as caught:
        await case.handle.result()
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "PolicyViolation", cause
    assert cause.non_retryable
    history = await case.handle.fetch_history()
    scheduled = [e for e in history.events if e.HasField(
        "activity_task_scheduled_event_attributes")]
    assert scheduled == [], "nothing may run for refused terms"
    details: dict[str, str] = cause.details[0]
    return details


async def test_order_expiry_9999_started_directly_is_refused(
        env: WorkflowEnvironment, worker: Worker) -> None:
    start = await begin_on(env)
    terms = make_terms("case-expiry-9999", start, order_expiry=date(9999, 12, 31))
    details = await _refusal(env, worker, terms)
    assert details["field"] == "order_expiry"


async def test_time_zone_america_started_directly_is_refused(
        env: WorkflowEnvironment, worker: Worker) -> None:
    start = await begin_on(env)
    details = await _refusal(env, worker, make_terms("case-tz-america", start,
                                                     time_zone="America"))
    assert details["field"] == "time_zone"


async def test_e1_contract_ended_before_the_start_is_refused(
        env: WorkflowEnvironment, worker: Worker) -> None:
    start = await begin_on(env)
    terms = make_terms("case-ended", start - timedelta(days=400))
    assert terms.contract_end < start - timedelta(days=1)
    details = await _refusal(env, worker, terms)
    assert (details["rule"], details["field"]) == ("E1", "contract_end")
