"""Reviews, contact monitoring, the end of a contract and closure (V1-V6, K1, E1-E2) on
the time-skipping server."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.messages import (
    CarryOver,
    CloseCase,
    RaiseEvent,
    RecordContact,
    RequestReview,
    ReviewOutcome,
)
from models.tables import NotificationRow, TimelineEventRow
from tests.workflows.conftest import (
    MELBOURNE,
    add_months,
    begin_on,
    local_today,
    make_terms,
    sleep_until,
    start_case,
)
from workflows.case_contract import CaseContractWorkflow


async def _kinds(sessions: async_sessionmaker[AsyncSession], case_id: str,
                 table: type[NotificationRow] | type[TimelineEventRow]) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(select(table.kind).where(table.case_id == case_id))
        return list(rows)


async def _refusal(call: object) -> ApplicationError:
    try:
        await call  # type: ignore[misc]
    except WorkflowUpdateFailedError as exc:
        assert isinstance(exc.cause, ApplicationError)
        return exc.cause
    raise AssertionError("the update should have been refused")


async def test_v2_review_due_six_weeks_before_expiry_reminded_then_escalated(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    start = await begin_on(env)
    # The order expires 20 days after the last due date, so the review (six weeks
    # before expiry) and its reminder fall while the contract is in force.
    terms = make_terms(f"c-{unique_id}", start, periods=3,
                       order_expiry=add_months(start, 9) + timedelta(days=20))
    case = await start_case(env.client, worker, terms, endorse_on=start)
    review = (await case.status()).state.reviews[0]
    review_day = terms.order_expiry - timedelta(weeks=6)
    assert review.rule == "V2"
    assert review.due_at == datetime.combine(review_day + timedelta(days=1), time(0),
                                             MELBOURNE)
    assert review.reminder_at == datetime.combine(review_day - timedelta(days=14), time(9),
                                                  MELBOURNE)
    await sleep_until(env, review.reminder_at + timedelta(hours=1))
    review = (await case.status()).state.reviews[0]
    assert review.reminded_at is not None and review.escalated_at is None
    await sleep_until(env, review.due_at + timedelta(hours=1))
    review = (await case.status()).state.reviews[0]
    assert review.escalated_at is not None  # not held by the deadline
    notices = await _kinds(sessions, terms.case_id, NotificationRow)
    assert notices.count("review_reminder") == 1 and notices.count("review_escalation") == 1


async def test_v4_concern_requires_contract_review_within_two_weeks(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=3)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    requested = await case.handle.execute_update(
        CaseContractWorkflow.request_review,
        RequestReview(review_id="concern-1", kind="contract", requested_by_role="agency",
                      concern="placement_ended_unexpectedly"))
    assert requested.rule == "V4"
    now = await env.get_current_time()
    assert abs(requested.due_at - (now + timedelta(days=14))) < timedelta(minutes=1)
    await sleep_until(env, requested.due_at - timedelta(hours=1))
    review = next(r for r in (await case.status()).state.reviews if r.review_id == "concern-1")
    assert review.escalated_at is None
    await sleep_until(env, requested.due_at + timedelta(hours=1))
    review = next(r for r in (await case.status()).state.reviews if r.review_id == "concern-1")
    assert review.escalated_at is not None and review.status == "open"
    assert "review_overdue" in await _kinds(sessions, terms.case_id, TimelineEventRow)
    bad = await _refusal(case.handle.execute_update(
        CaseContractWorkflow.request_review,
        RequestReview(review_id="concern-2", kind="contract", requested_by_role="agency",
                      concern="bad_weather")))
    assert bad.type == "Invalid" and bad.details[0]["rule"] == "V4"


async def test_v4_the_two_weeks_run_from_the_day_the_concern_was_raised(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    """A concern raised ten days before it reaches us leaves four days for the review;
    one dated ahead, or before the contract, is refused."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=3)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    await sleep_until(env, datetime.combine(start + timedelta(days=30), time(12), MELBOURNE))
    today = local_today(await env.get_current_time())
    raised = today - timedelta(days=10)
    requested = await case.handle.execute_update(
        CaseContractWorkflow.request_review,
        RequestReview(review_id="late-news", kind="contract", requested_by_role="agency",
                      concern="conflict_of_interest", raised_on=raised))
    # The end of the fourteenth day after it was raised (K1's day boundary, UTC).
    assert requested.due_at == datetime.combine(raised + timedelta(days=15), time(0), UTC)
    assert requested.due_at - await env.get_current_time() < timedelta(days=5)
    for day, rule in ((today + timedelta(days=3), "V4"), (start - timedelta(days=1), "V4")):
        refused = await _refusal(case.handle.execute_update(
            CaseContractWorkflow.request_review,
            RequestReview(review_id=f"r-{day}", kind="contract", requested_by_role="agency",
                          concern="agency", raised_on=day)))
        assert (refused.type, refused.details[0]["field"], refused.details[0]["rule"]) == (
            "Invalid", "raised_on", rule)


async def test_v5_schedule_change_mid_contract_keeps_earlier_periods(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=4)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    first = (await case.status()).state.periods[0]
    await sleep_until(env, first.overdue_at + timedelta(days=2))
    await case.handle.execute_update(
        CaseContractWorkflow.request_review,
        RequestReview(review_id="rv-1", kind="case_plan", requested_by_role="practitioner"))
    new_dates = [add_months(first.due_date, 2), add_months(first.due_date, 4),
                 add_months(first.due_date, 6), terms.contract_end]
    recorded = await case.handle.execute_update(
        CaseContractWorkflow.record_review_outcome,
        ReviewOutcome(review_id="rv-1", decided_by="planner-1", new_due_dates=new_dates))
    assert "schedule" in recorded.changed
    await env.sleep(timedelta(minutes=1))
    periods = (await case.status()).state.periods
    assert periods[0].due_date == first.due_date
    assert periods[0].overdue_marked_at == first.overdue_at  # what happened stays
    assert [p.due_date for p in periods[1:]] == new_dates
    assert periods[1].follow_up_at < datetime.combine(new_dates[0], time(9), MELBOURNE)


async def test_v6_one_endorsed_plan_version_and_v1_review_answers_concerns(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    start = await begin_on(env)
    case = await start_case(env.client, worker, make_terms(f"c-{unique_id}", start),
                            endorse_on=start)
    await case.handle.execute_update(
        CaseContractWorkflow.request_review,
        RequestReview(review_id="concern", kind="contract", requested_by_role="child_or_family",
                      concern="child_or_family"))
    await case.handle.execute_update(
        CaseContractWorkflow.record_review_outcome,
        ReviewOutcome(review_id="plan-review-scheduled", draft_plan_version="v2",
                      endorse_plan_version="v2"))
    await case.handle.execute_update(
        CaseContractWorkflow.request_review,
        RequestReview(review_id="rv-2", kind="case_plan", requested_by_role="agency"))
    await case.handle.execute_update(
        CaseContractWorkflow.record_review_outcome,
        ReviewOutcome(review_id="rv-2", draft_plan_version="v3", endorse_plan_version="v3"))
    state = (await case.status()).state
    assert [(v.version, v.status) for v in state.plan_versions] == [
        ("v2", "superseded"), ("v3", "endorsed")]
    # V1: the case plan review also reviewed the contract, answering the open concern.
    assert all(r.status == "held" for r in state.reviews)


async def test_e1_contract_ends_at_order_expiry_before_end_date(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    start = await begin_on(env)
    expiry = add_months(start, 6)
    terms = make_terms(f"c-{unique_id}", start, periods=2, order_expiry=expiry,
                       contract_end=add_months(start, 12))
    case = await start_case(env.client, worker, terms, endorse_on=start)
    await sleep_until(env, datetime.combine(expiry, time(12), MELBOURNE))
    assert (await case.status()).status == "active"
    await sleep_until(env, datetime.combine(expiry + timedelta(days=1), time(12), MELBOURNE))
    status = await case.status()
    assert status.status == "closing" and status.state.end_reason == "contract_end"
    assert len(status.state.periods) == 2


async def test_e2_closure_refused_with_open_audit_accepted_with_carry_over(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    start = await begin_on(env)
    case = await start_case(env.client, worker, make_terms(f"c-{unique_id}", start),
                            endorse_on=start)
    early = await _refusal(case.handle.execute_update(
        CaseContractWorkflow.close_case, CloseCase(summary_id="s-1")))
    assert early.type == "Conflict" and early.details[0]["rule"] == "E1"
    event = await case.handle.execute_update(
        CaseContractWorkflow.raise_event,
        RaiseEvent(event_id="complaint-1", kind="complaint_from_child_or_family"))
    await case.handle.execute_update(
        CaseContractWorkflow.request_review,
        RequestReview(review_id="rv", kind="case_plan", requested_by_role="practitioner"))
    ended = await case.handle.execute_update(
        CaseContractWorkflow.record_review_outcome,
        ReviewOutcome(review_id="rv", return_to_cp=True))
    assert ended.contract_status == "closing"
    refused = await _refusal(case.handle.execute_update(
        CaseContractWorkflow.close_case, CloseCase(summary_id="s-1")))
    assert refused.type == "Conflict" and refused.details[0]["rule"] == "E2"
    open_items = refused.details[0]["open_items"]
    assert event.audit_id in open_items
    # V2's scheduled review is not held by rv: it stays an open item, carried over below.
    assert "review-plan-review-scheduled" in open_items
    carry = [CarryOver(item_id=item, reason="handed back to CP") for item in open_items]
    closed = await case.handle.execute_update(
        CaseContractWorkflow.close_case, CloseCase(summary_id="s-1", carried_over=carry))
    assert closed.status == "closed" and sorted(closed.carried_over) == sorted(open_items)
    result = await case.handle.result()
    assert result.status == "closed" and result.state.periods == []  # none fell due


@pytest.mark.parametrize("frequency_days", [14])
async def test_k1_contact_gap_raises_lack_of_contact_once_per_gap(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str, frequency_days: int,
) -> None:
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, contact_frequency_days=frequency_days)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    await case.handle.execute_update(
        CaseContractWorkflow.record_contact,
        RecordContact(contact_id="k-1", occurred_on=start, kind="direct", by_role="agency"))
    await sleep_until(env, datetime.combine(start + timedelta(days=frequency_days), time(20),
                                            MELBOURNE))
    assert (await case.status()).state.audits == []  # 14 days is not longer than 14
    await env.sleep(timedelta(days=10))
    state = (await case.status()).state
    assert [(a.rule, a.trigger) for a in state.audits] == [("R7", "lack_of_client_contact")]
    await env.sleep(timedelta(days=30))  # the same gap is raised once
    raised = (await _kinds(sessions, terms.case_id, TimelineEventRow)).count(
        "audit_trigger_raised")
    assert raised == 1


async def test_k1_no_practitioner_meeting_in_a_year_opens_task(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=6, contact_frequency_days=365)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    await sleep_until(env, datetime.combine(start + timedelta(days=30), time(12), MELBOURNE))
    # K1: the practitioner meets the child; a phone call is not a meeting.
    await case.handle.execute_update(
        CaseContractWorkflow.record_contact,
        RecordContact(contact_id="call", occurred_on=start + timedelta(days=30), kind="phone",
                      by_role="practitioner"))
    anniversary = add_months(start, 12)

    async def meeting_tasks() -> list[str]:
        return [t.kind for t in (await case.status()).state.tasks if t.rule == "K1"]

    await sleep_until(env, datetime.combine(anniversary, time(20), MELBOURNE))
    assert await meeting_tasks() == []  # twelve months are not yet over
    await sleep_until(env, datetime.combine(anniversary + timedelta(days=1), time(12),
                                            MELBOURNE))
    assert await meeting_tasks() == ["practitioner_meeting"]
    await env.sleep(timedelta(days=40))
    assert await meeting_tasks() == ["practitioner_meeting"]  # once for this gap


async def test_k1_calls_do_not_close_a_direct_contact_gap(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    await sleep_until(env, datetime.combine(start + timedelta(days=10), time(12), MELBOURNE))
    for contact_id, kind in (("call", "phone"), ("video", "video")):
        await case.handle.execute_update(
            CaseContractWorkflow.record_contact,
            RecordContact(contact_id=contact_id, occurred_on=start + timedelta(days=10),
                          kind=kind, by_role="agency"))
    # Fourteen days after the start with no direct contact: evidence of lack of contact.
    await sleep_until(env, datetime.combine(start + timedelta(days=16), time(12), MELBOURNE))
    state = (await case.status()).state
    assert [(a.rule, a.trigger) for a in state.audits] == [("R7", "lack_of_client_contact")]
    assert state.contacts.count == 2


async def test_renewal_extending_end_date_adds_periods(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2,
                       order_expiry=add_months(start, 24))
    case = await start_case(env.client, worker, terms, endorse_on=start)
    await case.handle.execute_update(
        CaseContractWorkflow.request_review,
        RequestReview(review_id="renew", kind="case_plan", requested_by_role="practitioner"))
    last_due = terms.schedule.due_dates[-1]
    third, fourth = add_months(last_due, 3), add_months(add_months(last_due, 3), 3)
    await case.handle.execute_update(
        CaseContractWorkflow.record_review_outcome,
        ReviewOutcome(review_id="renew", new_contract_end=fourth))
    await env.sleep(timedelta(minutes=1))
    periods = (await case.status()).state.periods
    assert [p.due_date for p in periods] == [*terms.schedule.due_dates, third, fourth]
    # The old last period now runs to the next due date; the new last one ends with the
    # renewed contract at the end of its due day (R5).
    assert periods[1].ends_at > periods[1].overdue_at
    assert periods[-1].ends_at == periods[-1].overdue_at


async def test_e2_closure_by_signal_is_refused_then_closes_the_case(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    """Issue 18.3: the API sends `close_case` as a signal when no worker accepts the
    update in time. The signal gets the same checks (E2: an open item not carried over
    refuses it, and the case stays closing) and, once they pass, closes the case."""
    start = await begin_on(env)
    case = await start_case(env.client, worker, make_terms(f"c-{unique_id}", start),
                            endorse_on=start)
    await case.handle.execute_update(
        CaseContractWorkflow.request_review,
        RequestReview(review_id="rv", kind="case_plan", requested_by_role="practitioner"))
    await case.handle.execute_update(CaseContractWorkflow.record_review_outcome,
                                     ReviewOutcome(review_id="rv", return_to_cp=True))
    await case.handle.signal("close_case", CloseCase(summary_id="s-1"))
    # Handled after the signal: the case is still closing, its items still open.
    refused = await _refusal(case.handle.execute_update(
        CaseContractWorkflow.close_case, CloseCase(summary_id="s-1")))
    assert refused.details[0]["rule"] == "E2"
    open_items = refused.details[0]["open_items"]
    carry = [CarryOver(item_id=item, reason="handed back to CP") for item in open_items]
    await case.handle.signal("close_case", CloseCase(summary_id="s-1", carried_over=carry))
    result = await case.handle.result()
    assert result.status == "closed"
    assert [e for e in result.state.answered if e == "close_case"] == ["close_case"]
